/**
 * One error class for the whole library, with string codes callers can branch on
 * (`err.code === 'ERR_FRAME'`), in the manner of better-sqlite3's SqliteError.
 */
export type Int8DetectErrorCode =
  | 'ERR_ARGUMENT' // a bad argument to a public function
  | 'ERR_FRAME' // a frame that does not match its declared size or format
  | 'ERR_MODEL' // a model file that is missing, unreadable or not a model
  | 'ERR_DECODER' // an output no decoder recognises
  | 'ERR_BACKEND_UNAVAILABLE' // a backend that cannot run here
  | 'ERR_DISPOSED' // a call on an engine that was disposed
  | 'ERR_NATIVE' // the native addon failed or could not load
  | 'ERR_INFERENCE' // the runtime failed while running the model
  | 'ERR_CALIBRATION' // calibration data that cannot be used, or a calibrator that failed, stalled or was aborted
  | 'ERR_ENGINE_BUILD' // a runtime could not build an engine from the model
  | 'ERR_ABORTED' // work stopped by its AbortSignal (calibration, quantization, a search)
  | 'ERR_VIDEO'; // a video source that cannot be opened, decoded or kept up

export class Int8DetectError extends Error {
  readonly code: Int8DetectErrorCode;

  constructor(code: Int8DetectErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Int8DetectError';
    this.code = code;
  }
}

/** Render a received value for an error message: short, and never a whole buffer. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return value.length > 60 ? `"${value.slice(0, 57)}..." (string)` : `"${value}" (string)`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${String(value)} (${typeof value})`;
  if (Buffer.isBuffer(value)) return `Buffer of ${value.byteLength} bytes`;
  if (ArrayBuffer.isView(value)) {
    return 'length' in value ? `${value.constructor.name} of ${(value as unknown as ArrayLike<unknown>).length} elements` : `${value.constructor.name} of ${value.byteLength} bytes`;
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

/** The one shape for bad-argument messages, as sharp does: "Expected X for Y but received Z". */
export function invalidArgument(expected: string, name: string, received: unknown): Int8DetectError {
  return new Int8DetectError('ERR_ARGUMENT', `Expected ${expected} for ${name} but received ${describeValue(received)}`);
}

/**
 * Run native or runtime work and put its error on the caller's stack, so users see their
 * own call site rather than a libuv callback (sharp's habit in lib/output.mjs).
 */
export async function withCallerStack<T>(
  code: Int8DetectErrorCode,
  work: () => Promise<T>,
  prefix?: string,
): Promise<T> {
  const callerStack = new Error().stack ?? '';
  try {
    return await work();
  } catch (err) {
    if (err instanceof Int8DetectError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const wrapped = new Int8DetectError(code, prefix ? `${prefix}: ${message}` : message, { cause: err });
    wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${callerStack.split('\n').slice(2).join('\n')}`;
    throw wrapped;
  }
}

/** The one error of work stopped by its AbortSignal: `what` was aborted, with the signal's reason. */
export function abortError(signal: AbortSignal, what: string): Int8DetectError {
  const reason = signal.reason instanceof Error ? signal.reason.message : signal.reason !== undefined ? String(signal.reason) : 'aborted';
  return new Int8DetectError('ERR_ABORTED', `${what} was aborted: ${reason}`, { cause: signal.reason });
}

/** Throws abortError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}
