/**
 * Strict option objects: an unknown key is refused, naming the closest known key (a misspelt
 * `scoreTreshold` would otherwise be ignored and the default used without a word), and numbers
 * are held to bounds the message states. Every public function that takes an options object
 * calls checkOptionKeys once on it.
 */
import { availableParallelism } from 'node:os';
import { Int8DetectError, invalidArgument } from './errors';

/**
 * Damerau-Levenshtein distance (optimal string alignment): insertions, deletions, substitutions
 * and swaps of two neighbours each cost 1, so 'scoreTreshold' is 1 from 'scoreThreshold'.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[rows - 1][cols - 1];
}

/**
 * The known name closest to `name`, when it is close enough to be a slip: case aside, within a
 * third of the name's length (at least 2 edits), or one of them contains the other.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  if (!best) return undefined;
  const limit = Math.max(2, Math.floor(name.length / 3));
  if (best.distance <= limit) return best.name;
  const contained = known.find((k) => k.length >= 4 && lower.length >= 4 && (k.toLowerCase().includes(lower) || lower.includes(k.toLowerCase())));
  return contained;
}

/**
 * Refuse keys of `options` that are not in `known`. `what` names the object in the message
 * ("detect options", "createPipeline options"); `path` prefixes the key in the error's `option`
 * ("sources[0]." gives "sources[0].ffmpegPth"). Keys whose value is undefined are refused too:
 * `{ scoreTreshold: undefined }` is still a misspelling.
 */
export function checkOptionKeys(options: object, known: readonly string[], what: string, path = ''): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const suggestion = closestName(key, known);
    const hint = suggestion !== undefined ? `did you mean '${suggestion}'?` : `the known options are ${known.map((k) => `'${k}'`).join(', ')}`;
    throw new Int8DetectError('ERR_ARGUMENT', `Unknown option '${key}' for ${what}: ${hint}`, { option: `${path}${key}` });
  }
}

export interface NumberBounds {
  /** Smallest value allowed (inclusive). */
  min?: number;
  /** Largest value allowed (inclusive). */
  max?: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Why the largest value is what it is, for the message: "4 x the 16 cores". */
  maxWhy?: string;
}

/**
 * A number within bounds, or an ERR_ARGUMENT that states them: "Expected an integer from 1 to 64
 * (4 x the 16 cores) for options.threads but received 1000000 (number)". undefined passes.
 */
export function checkNumber(value: unknown, name: string, bounds: NumberBounds): number | undefined {
  if (value === undefined) return undefined;
  const { min = -Infinity, max = Infinity, integer = false, maxWhy } = bounds;
  const ok = typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max;
  if (ok) return value;
  const kind = integer ? 'an integer' : 'a number';
  const range =
    min > -Infinity && max < Infinity
      ? ` from ${min} to ${max}`
      : min > -Infinity
        ? ` >= ${min}`
        : max < Infinity
          ? ` <= ${max}`
          : '';
  const why = maxWhy !== undefined && max < Infinity ? ` (${maxWhy})` : '';
  throw invalidArgument(`${kind}${range}${why}`, name, value);
}

/** The machine's cores as Node counts them (cgroup limits included). */
export function coreCount(): number {
  return Math.max(1, availableParallelism());
}

/**
 * The bound for thread-like counts: `multiple` x the cores. More threads than that only thrash
 * (and a mistyped 1e6 would try to start a million threads).
 */
export function perCoreBound(multiple = 4): { max: number; maxWhy: string } {
  const cores = coreCount();
  return { max: multiple * cores, maxWhy: `${multiple} x the ${cores} core${cores === 1 ? '' : 's'} here` };
}
