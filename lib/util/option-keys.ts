/**
 * Strict option objects: an unknown key is refused, naming the closest known one, so a misspelt
 * option ('scoreTreshold') is an error instead of a default silently used.
 */
import { Int8DetectError } from './errors';

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length];
}

/** The known key closest to `key`, when it is close enough to be a slip. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** Throws ERR_ARGUMENT for the first key of `options` that is not in `known`. */
export function checkKnownKeys(options: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closestKey(key, known);
    const err = new Int8DetectError(
      'ERR_ARGUMENT',
      `Unknown option '${key}' for ${where}: ${near ? `did you mean '${near}'?` : `the options are ${known.join(', ')}`}`,
    );
    throw err;
  }
}
