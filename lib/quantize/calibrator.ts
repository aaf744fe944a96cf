/**
 * Calibrators: async iterables of preprocessed batches, made with the engine's own preprocessing
 * (decodeImage + preprocessFrame), from an image folder, an array of frames, or any async
 * iterable of frames. Each iteration decodes the frames afresh, so a calibrator can be iterated
 * again (a second pass, a held-back set) without holding images in memory.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { preprocessFrame, tensorSize } from '../detect/preprocess';
import type { PreprocessSpec } from '../detect/types';
import { abortError as abortErrorOf, Int8DetectError, invalidArgument } from '../util/errors';
import { checkKnownKeys, optionKeys } from '../util/option-keys';
import { listImages } from '../util/files';
import { isRawFrame, validateRawFrame, type FrameInput, type RawFrame } from '../image/frame';
import { decodeImage } from '../image/decode';
import type { CalibrationBatch, Calibrator } from './types';
import { seededRandom, shuffledWith } from '../util/random';

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
  /**
   * Hold frames back from calibration for the label-free accuracy check (see splitHeldBack):
   * a calibrator over the other frames, and the held-back frames. A stream diverts every
   * fourth frame (up to `count`) instead, so `heldBack()` is complete only once the returned
   * calibrator has been iterated.
   */
  holdBack(count: number): HeldBackSplit;
}

export interface HeldBackSplit {
  calibrator: FrameCalibrator;
  heldBack(): readonly FrameInput[];
  /** True when too few frames were given to set any aside: the check reuses calibration frames and is optimistic. */
  shared: boolean;
}

/**
 * Frames held back for the check unless told otherwise (at most a quarter of them: splitHeldBack).
 * Measured on yolox_nano's Q/DQ models (docs/quantization.md, "How far to trust the check"): on
 * random sets of 32 frames (from 181) the check failed good models (true drop <= 0.5 points) 12 %
 * of the time and caught 1.5-2 point drops 43 % of the time; on 64 frames 11 % and 74 %.
 * Calibration itself gains little from the frames given up (a model calibrated on 40 images lost
 * 0.43 points).
 */
export const DEFAULT_HELD_BACK_FRAMES = 64;

/** Fewer held-back frames than this make the check too noisy: it reuses calibration frames instead. */
export const MIN_HELD_BACK_FRAMES = 4;

/**
 * The split `int8-detect quantize` and createEngine make: the last `wanted` frames (at most a
 * quarter) are held back for the check; with too few frames for that, the check shares the first
 * four with calibration.
 */
export function splitHeldBack<T>(frames: readonly T[], wanted: number): { calibration: T[]; heldBack: T[]; shared: boolean } {
  const count = Math.min(wanted, Math.floor(frames.length / 4));
  if (count >= MIN_HELD_BACK_FRAMES) return { calibration: frames.slice(0, frames.length - count), heldBack: frames.slice(frames.length - count), shared: false };
  return { calibration: frames.slice(), heldBack: frames.slice(0, Math.min(frames.length, MIN_HELD_BACK_FRAMES)), shared: true };
}

/**
 * What identifies a list of frames, or undefined where one cannot be read: a file by its
 * resolved path, size and modification time (no need to read 300 images to key a cache), an
 * encoded image or raw frame by a hash of its bytes and layout.
 */
function frameIdentity(frame: FrameInput): unknown {
  if (typeof frame === 'string') {
    const stat = statSync(frame);
    return { file: path.resolve(frame), bytes: stat.size, mtimeMs: stat.mtimeMs };
  }
  const hash = createHash('sha256');
  if (Buffer.isBuffer(frame)) return { encoded: hash.update(frame).digest('hex') };
  const { data, ...layout } = frame;
  return { raw: hash.update(data).digest('hex'), ...layout };
}

function listFingerprint(frames: readonly FrameInput[], options: ResolvedOptions): string | undefined {
  try {
    const identity = { preprocess: options.preprocess, inputName: options.inputName, batchSize: options.batchSize, frames: frames.map(frameIdentity) };
    return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
  } catch {
    return undefined;
  }
}

/** What identifies a list of frames on its own (for held-back frames given apart from a calibrator); undefined where a file cannot be read. */
export function fingerprintFrames(frames: readonly FrameInput[]): string | undefined {
  try {
    return createHash('sha256').update(JSON.stringify(frames.map(frameIdentity))).digest('hex');
  } catch {
    return undefined;
  }
}

/** A frame copied out of buffers a source may reuse, for keeping after the source moves on. */
function keptFrame(frame: FrameInput): FrameInput {
  if (typeof frame === 'string') return frame;
  if (Buffer.isBuffer(frame)) return Buffer.from(frame);
  return { ...frame, data: Uint8Array.from(frame.data) };
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

const CALIBRATOR_OPTION_KEYS = optionKeys<CalibratorOptions>({
  preprocess: true,
  inputName: true,
  batchSize: true,
  limit: true,
  shuffleSeed: true,
  signal: true,
  onProgress: true,
  onWarning: true,
});

function resolveOptions(options: CalibratorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'calibrator options', options);
  checkKnownKeys(options, CALIBRATOR_OPTION_KEYS, 'calibrator options');
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

function shuffled<T>(items: readonly T[], seed: number | undefined): T[] {
  return seed === undefined ? items.slice() : shuffledWith(items, seededRandom(seed));
}

export function abortError(signal: AbortSignal): Int8DetectError {
  return abortErrorOf(signal, 'Calibration');
}

class FramesCalibrator implements FrameCalibrator {
  readonly batchSize: number;
  readonly size: number | undefined;
  private readonly warned: Set<string>;
  private readonly warningList: string[];
  private identity: { value: string | undefined } | undefined;

  constructor(
    private readonly source: () => AsyncIterable<FrameInput> | Iterable<FrameInput>,
    size: number | undefined,
    private readonly options: ResolvedOptions,
    /** The frames, where they are a list (folder and array sources): for fingerprint and holdBack. */
    private readonly listed: readonly FrameInput[] | undefined,
    /** A calibrator split from another shares its warnings (and does not warn about its size again). */
    parent?: FramesCalibrator,
  ) {
    this.batchSize = options.batchSize;
    this.size = size;
    this.warned = parent ? parent.warned : new Set();
    this.warningList = parent ? parent.warningList : [];
    if (!parent && size !== undefined && size < RECOMMENDED_CALIBRATION_FRAMES) this.warnFewFrames(size);
  }

  get warnings(): readonly string[] {
    return this.warningList;
  }

  /** Computed on first use (it stats files or hashes frames); undefined for streams. */
  get fingerprint(): string | undefined {
    if (!this.identity) this.identity = { value: this.listed ? listFingerprint(this.listed, this.options) : undefined };
    return this.identity.value;
  }

  holdBack(count: number): HeldBackSplit {
    if (!Number.isInteger(count) || count < 1) throw invalidArgument('a positive integer', 'holdBack(count)', count);
    if (this.listed) {
      const { calibration, heldBack, shared } = splitHeldBack(this.listed, count);
      return { calibrator: new FramesCalibrator(() => calibration, calibration.length, this.options, calibration, this), heldBack: () => heldBack, shared };
    }
    // Each pass (a pre-pass over the first frames, then calibration) diverts the same frames; the
    // held-back set is the one of the longest pass, so a short pre-pass does not replace it.
    let kept: FrameInput[] = [];
    const source = this.source;
    async function* diverted(): AsyncIterable<FrameInput> {
      const pass: FrameInput[] = [];
      let seen = 0;
      try {
        for await (const frame of source()) {
          if (seen++ % 4 === 3 && pass.length < count) pass.push(keptFrame(frame));
          else yield frame;
        }
      } finally {
        if (pass.length >= kept.length) kept = pass;
      }
    }
    return { calibrator: new FramesCalibrator(diverted, undefined, this.options, undefined, this), heldBack: () => kept, shared: false };
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
      const raw = isRawFrame(input) ? input : await this.decodeOrSkip(input as Buffer | string);
      if (raw === undefined) continue;
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

  /**
   * An image that cannot be decoded (a corrupt file in a folder of hundreds) is skipped with a
   * warning that names it, rather than ending a calibration that may have run for minutes. A raw
   * frame that does not fit its description is the caller's bug, and stays an error.
   */
  private async decodeOrSkip(input: Buffer | string): Promise<RawFrame | undefined> {
    try {
      return await decodeImage(input);
    } catch (err) {
      if (!(err instanceof Int8DetectError) || (err.code !== 'ERR_FRAME' && err.code !== 'ERR_ARGUMENT')) throw err;
      this.warn(`skipped a calibration image that cannot be used: ${err.message}`);
      return undefined;
    }
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
  return new FramesCalibrator(() => chosen, chosen.length, resolved, chosen);
}

/** Frames from an array: raw frames, encoded image Buffers, or image file paths. */
export function calibratorFromFrames(frames: readonly FrameInput[], options: CalibratorOptions): FrameCalibrator {
  if (!Array.isArray(frames)) throw invalidArgument('an array of frames', 'frames', frames);
  if (frames.length === 0) throw new Int8DetectError('ERR_ARGUMENT', 'The calibration set is empty: no frames were given');
  const resolved = resolveOptions(options);
  const chosen = shuffled(frames, resolved.shuffleSeed).slice(0, resolved.limit);
  return new FramesCalibrator(() => chosen, chosen.length, resolved, chosen);
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
  return new FramesCalibrator(factory, options.size, resolved, undefined);
}

/** At most `frames` frames of the calibrator (the last batch cut to fit). */
export function limitCalibrator(calibrator: Calibrator, frames: number): Calibrator {
  return {
    batchSize: calibrator.batchSize,
    ...(calibrator.size !== undefined ? { size: Math.min(calibrator.size, frames) } : {}),
    async *[Symbol.asyncIterator](): AsyncGenerator<CalibrationBatch> {
      let seen = 0;
      for await (const batch of calibrator) {
        const n = batch.dims[0];
        if (seen + n <= frames) yield batch;
        else {
          const keep = frames - seen;
          const per = batch.data.length / n;
          yield { input: batch.input, data: batch.data.subarray(0, keep * per), dims: [keep, ...batch.dims.slice(1)] };
        }
        seen += n;
        if (seen >= frames) return;
      }
    },
  };
}
