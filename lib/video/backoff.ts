/** Reconnect delays: exponential, capped, with jitter so many cameras do not retry in step. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Fraction of the delay drawn at random either side (default 0.25: ±25 %). */
  jitter?: number;
}

/** The delay before reconnect attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const jitter = options.jitter ?? 0.25;
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}
