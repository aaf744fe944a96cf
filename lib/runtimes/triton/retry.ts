/**
 * Retries with exponential backoff and jitter, for the calls that may safely run twice: health,
 * metadata, configuration and index reads always; inference only when the request can never have
 * reached the server (the connection was refused), so a model never runs a frame twice unasked.
 */
import { backoffDelay } from '../../video/backoff';
import { TritonUnavailableError } from './errors';

export const RETRY_BACKOFF = { initialMs: 100, maxMs: 2000 } as const;

export type RetryPolicy = 'idempotent' | 'unsent-only';

function retryable(err: unknown, policy: RetryPolicy): boolean {
  if (!(err instanceof TritonUnavailableError) || !err.retryable) return false;
  // A timed-out call has already waited its whole deadline: retrying would multiply it.
  if (err.timedOut) return false;
  return policy === 'idempotent' || err.neverSent;
}

export async function withRetries<T>(retries: number, policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt > retries || !retryable(err, policy)) throw err;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, RETRY_BACKOFF)));
    }
  }
}
