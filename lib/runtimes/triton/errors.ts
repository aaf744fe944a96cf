/**
 * The errors a Triton client raises, each naming the server (credentials removed):
 * - the server cannot be reached, dropped the connection or did not answer in time:
 *   ERR_BACKEND_UNAVAILABLE, and `retryable` says whether an idempotent call may try again;
 * - the server answered with an error (unknown model, bad input): ERR_INFERENCE with its message;
 * - the server answered something that breaks the protocol (a wrong datatype, a size that does
 *   not add up, a response over the limit): ERR_INFERENCE saying what was wrong.
 */
import { Int8DetectError } from '../../util/errors';

/** A transport failure; `neverSent` marks one where the request cannot have reached the server. */
export class TritonUnavailableError extends Int8DetectError {
  readonly retryable: boolean;
  readonly neverSent: boolean;
  readonly timedOut: boolean;

  constructor(message: string, options: { cause?: unknown; retryable?: boolean; neverSent?: boolean; timedOut?: boolean } = {}) {
    super('ERR_BACKEND_UNAVAILABLE', message, { cause: options.cause });
    this.retryable = options.retryable ?? true;
    this.neverSent = options.neverSent ?? false;
    this.timedOut = options.timedOut ?? false;
  }
}

/** An error the server reported; `status` is the HTTP status or the gRPC status name. */
export class TritonServerError extends Int8DetectError {
  constructor(
    message: string,
    readonly status: string,
    readonly notFound: boolean,
  ) {
    super('ERR_INFERENCE', message);
  }
}

/** Socket error codes meaning the connection was never made: nothing reached the server. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

export function unreachable(display: string, err: unknown): TritonUnavailableError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const what = err instanceof Error ? err.message : String(err);
  const neverSent = code !== undefined && NOT_CONNECTED.has(code);
  return new TritonUnavailableError(`The Triton server at ${display} cannot be reached: ${what}`, { cause: err, neverSent });
}

export function timedOut(display: string, what: string, timeoutMs: number): TritonUnavailableError {
  return new TritonUnavailableError(`The Triton server at ${display} did not answer ${what} within ${timeoutMs} ms (timeout)`, { timedOut: true });
}

export function protocolError(display: string, what: string): Int8DetectError {
  return new Int8DetectError('ERR_INFERENCE', `The Triton server at ${display} sent a response int8-detect cannot use: ${what}`);
}

export function tooLarge(display: string, bytes: number | undefined, limit: number): Int8DetectError {
  const size = bytes === undefined ? 'more than' : `${bytes} bytes, more than`;
  return protocolError(display, `the response is ${size} the limit of ${limit} bytes (maxResponseBytes)`);
}
