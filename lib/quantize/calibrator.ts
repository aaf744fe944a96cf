/**
 * Calibrators: async iterables of preprocessed batches, made with the engine's own preprocessing
 * (decodeImage + preprocessFrame), from an image folder, an array of frames, or any async
 * iterable of frames. Each iteration decodes the frames afresh, so a calibrator can be iterated
 * again (a second pass, a held-back set) without holding images in memory.
 */
import { preprocessFrame, tensorSize } from '../detect/preprocess';
import type { PreprocessSpec } from '../detect/types';
import { Int8DetectError, invalidArgument } from '../errors';
import { listImages } from '../files';
import { isRawFrame, validateRawFrame, type FrameInput } from '../frame';
import { decodeImage } from '../image';
import type { CalibrationBatch, Calibrator } from './types';

/** Below this many frames NNCF and Ultralytics warn that calibration is unreliable; so do we. */
export const RECOMMENDED_CALIBRATION_FRAMES = 300;

export interface CalibrationProgress {
  /** Frames preprocessed so far in this pass. */
  frames: number;
  /** Total frames, when known. */
  total?: number;
}

export interface CalibratorOptions {
  /** How the model wants its input (the engine's ModelProfile.preprocess). */
  preprocess: PreprocessSpec;
  /** The model input the batches feed. */
  inputName: string;
  /** Frames per batch (default 1). */
  batchSize?: number;
  /** Use at most this many frames. */
  limit?: number;
  /** Shuffle the frames with this seed before applying `limit` (folder and array sources). */
  shuffleSeed?: number;
  /** Stops the iteration with an AbortError-like Int8DetectError. */
  signal?: AbortSignal;
  onProgress?: (progress: CalibrationProgress) => void;
  /** Called once per calibrator with each warning (also kept in `warnings`). */
  onWarning?: (message: string) => void;
}

export interface FrameCalibrator extends Calibrator {
  /** Warnings raised so far (fewer frames than recommended, ...), each once. */
  readonly warnings: readonly string[];
}

interface ResolvedOptions {
  preprocess: PreprocessSpec;
  inputName: string;
  batchSize: number;
  limit: number | undefined;
  shuffleSeed: number | undefined;
  signal: AbortSignal | undefined;
  onProgress: ((progress: CalibrationProgress) => void) | undefined;
  onWarning: ((message: string) => void) | undefined;
}

function resolveOptions(options: CalibratorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'calibrator options', options);
  if (typeof options.preprocess !== 'object' || options.preprocess === null) throw invalidArgument('a PreprocessSpec', 'options.preprocess', options.preprocess);
  if (typeof options.inputName !== 'string' || options.inputName === '') throw invalidArgument("the model input's name", 'options.inputName', options.inputName);
  const positive = (value: unknown, name: string) => {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidArgument('a positive integer', name, value);
    return value;
  };
  if (options.shuffleSeed !== undefined && (typeof options.shuffleSeed !== 'number' || !Number.isInteger(options.shuffleSeed))) {
    throw invalidArgument('an integer', 'options.shuffleSeed', options.shuffleSeed);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw invalidArgument('an AbortSignal', 'options.signal', options.signal);
  return {
    preprocess: options.preprocess,
    inputName: options.inputName,
    batchSize: positive(options.batchSize, 'options.batchSize') ?? 1,
    limit: positive(options.limit, 'options.limit'),
    shuffleSeed: options.shuffleSeed,
    signal: options.signal,
    onProgress: options.onProgress,
    onWarning: options.onWarning,
  };
}

/** mulberry32: a small seeded generator, so a seed gives the same subset on every machine. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], seed: number | undefined): T[] {
  const out = items.slice();
  if (seed === undefined) return out;
  const random = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function abortError(signal: AbortSignal): Int8DetectError {
  const reason = signal.reason instanceof Error ? signal.reason.message : signal.reason !== undefined ? String(signal.reason) : 'aborted';
  return new Int8DetectError('ERR_ARGUMENT', `Calibration was aborted: ${reason}`, { cause: signal.reason });
}

class FramesCalibrator implements FrameCalibrator {
  readonly batchSize: number;
  readonly size: number | undefined;
  private readonly warned = new Set<string>();
  private readonly warningList: string[] = [];

  constructor(
    private readonly source: () => AsyncIterable<FrameInput> | Iterable<FrameInput>,
    size: number | undefined,
    private readonly options: ResolvedOptions,
  ) {
    this.batchSize = options.batchSize;
    this.size = size;
    if (size !== undefined && size < RECOMMENDED_CALIBRATION_FRAMES) this.warnFewFrames(size);
  }

  get warnings(): readonly string[] {
    return this.warningList;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CalibrationBatch> {
    const { preprocess, inputName, batchSize, limit, signal, onProgress } = this.options;
    const frameSize = tensorSize(preprocess);
    const channels = preprocess.channelOrder === 'gray' ? 1 : 3;
    const makeBuffer = (frames: number) => (preprocess.dtype === 'uint8' ? new Uint8Array(frameSize * frames) : new Float32Array(frameSize * frames));
    const dims = (frames: number) =>
      preprocess.layout === 'nchw' ? [frames, channels, preprocess.height, preprocess.width] : [frames, preprocess.height, preprocess.width, channels];
    let batch = makeBuffer(batchSize);
    let inBatch = 0;
    let frames = 0;
    for await (const input of this.source()) {
      if (signal?.aborted) throw abortError(signal);
      if (limit !== undefined && frames >= limit) break;
      const raw = isRawFrame(input) ? input : await decodeImage(input as Buffer | string);
      await preprocessFrame(validateRawFrame(raw), preprocess, batch.subarray(inBatch * frameSize, (inBatch + 1) * frameSize));
      inBatch++;
      frames++;
      onProgress?.({ frames, ...(this.size !== undefined ? { total: Math.min(this.size, limit ?? Infinity) } : {}) });
      if (inBatch === batchSize) {
        yield { input: inputName, data: batch, dims: dims(batchSize) };
        batch = makeBuffer(batchSize);
        inBatch = 0;
      }
    }
    if (signal?.aborted) throw abortError(signal);
    // The last, smaller batch: the collector splits it for models of a fixed batch size.
    if (inBatch > 0) yield { input: inputName, data: batch.subarray(0, inBatch * frameSize), dims: dims(inBatch) };
    if (this.size === undefined && frames < RECOMMENDED_CALIBRATION_FRAMES) this.warnFewFrames(frames);
  }

  private warnFewFrames(frames: number): void {
    if (frames === 0) return;
    this.warn(
      `only ${frames} calibration frame${frames === 1 ? '' : 's'}: ${RECOMMENDED_CALIBRATION_FRAMES} or more representative frames are recommended for reliable INT8 ranges`,
    );
  }

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.warningList.push(message);
    this.options.onWarning?.(message);
  }
}

/** Frames from the images directly inside a folder (sorted by name, or shuffled with `shuffleSeed`). */
export async function calibratorFromFolder(dir: string, options: CalibratorOptions): Promise<FrameCalibrator> {
  if (typeof dir !== 'string' || dir === '') throw invalidArgument('a folder path', 'dir', dir);
  const resolved = resolveOptions(options);
  let files: string[];
  try {
    files = await listImages(dir);
  } catch (err) {
    throw new Int8DetectError('ERR_ARGUMENT', `Cannot read the calibration folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  if (files.length === 0) throw new Int8DetectError('ERR_ARGUMENT', `The calibration folder ${dir} holds no images (.jpg, .png, .webp, ...)`);
  const chosen = shuffled(files, resolved.shuffleSeed).slice(0, resolved.limit);
  return new FramesCalibrator(() => chosen, chosen.length, resolved);
}

/** Frames from an array: raw frames, encoded image Buffers, or image file paths. */
export function calibratorFromFrames(frames: readonly FrameInput[], options: CalibratorOptions): FrameCalibrator {
  if (!Array.isArray(frames)) throw invalidArgument('an array of frames', 'frames', frames);
  if (frames.length === 0) throw new Int8DetectError('ERR_ARGUMENT', 'The calibration set is empty: no frames were given');
  const resolved = resolveOptions(options);
  const chosen = shuffled(frames, resolved.shuffleSeed).slice(0, resolved.limit);
  return new FramesCalibrator(() => chosen, chosen.length, resolved);
}

/**
 * Frames from any async iterable (a video source, a generator). `source` is called once per
 * pass, so it can restart its stream; an iterable that cannot restart gives an empty second pass.
 */
export function calibratorFromAsyncFrames(
  source: AsyncIterable<FrameInput> | (() => AsyncIterable<FrameInput>),
  options: CalibratorOptions & { size?: number },
): FrameCalibrator {
  const factory = typeof source === 'function' ? source : () => source;
  if (typeof source !== 'function' && (typeof source !== 'object' || source === null || !(Symbol.asyncIterator in source))) {
    throw invalidArgument('an async iterable of frames', 'source', source);
  }
  const resolved = resolveOptions(options);
  if (resolved.shuffleSeed !== undefined) throw invalidArgument('no shuffleSeed (a stream cannot be shuffled)', 'options.shuffleSeed', resolved.shuffleSeed);
  return new FramesCalibrator(factory, options.size, resolved);
}
