/**
 * Strict option objects: an unknown key is refused, naming the closest known one, so a misspelt
 * option ('scoreTreshold') is an error instead of a default silently used.
 */
import { Int8DetectError, invalidArgument } from './errors';

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

/**
 * The keys of an options type, written as an object literal so that the compiler refuses the list
 * when the type gains a key it lacks (a new option refused as unknown at run time) or when it names
 * a key the type does not have.
 */
export function optionKeys<T extends object>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(keys);
}

/**
 * Throws ERR_ARGUMENT for the first key of `options` that is not in `known`, naming the closest
 * known one. `path` prefixes the key in the error's `option` ('sources[0].' gives
 * 'sources[0].ffmpegPth'), so the CLI can tell which option it is about.
 */
export function checkKnownKeys(options: object, known: readonly string[], where: string, path = ''): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closestKey(key, known);
    throw new Int8DetectError('ERR_ARGUMENT', `Unknown option '${key}' for ${where}: ${near ? `did you mean '${near}'?` : `the options are ${known.join(', ')}`}`, {
      option: `${path}${key}`,
    });
  }
}

export interface NumberBounds {
  /** Smallest value allowed (inclusive). */
  min?: number;
  /** Largest value allowed (inclusive). */
  max?: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Why the largest value is what it is, for the message: "a day". */
  maxWhy?: string;
}

/**
 * A number within bounds, or an ERR_ARGUMENT that states them: "Expected an integer from 1 to 1000
 * (each queued frame holds its pixels) for queueSize but received 1000000 (number)". undefined passes.
 */
export function checkBounded(value: unknown, name: string, bounds: NumberBounds): number | undefined {
  if (value === undefined) return undefined;
  const { min = -Infinity, max = Infinity, integer = false, maxWhy } = bounds;
  if (typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max) return value;
  const range = min > -Infinity && max < Infinity ? ` from ${min} to ${max}` : min > -Infinity ? ` >= ${min}` : max < Infinity ? ` <= ${max}` : '';
  const why = maxWhy !== undefined && max < Infinity ? ` (${maxWhy})` : '';
  throw invalidArgument(`${integer ? 'an integer' : 'a number'}${range}${why}`, name, value);
}
