/**
 * createEngine's `calibrator` option, whatever form it takes (an image folder, an array of frames,
 * an async iterable of frames, a Calibrator), as batches with the engine's preprocessing, the
 * frames held back for the label-free check, and the frames' fingerprint for the cache key.
 */
import type { PreprocessSpec } from '../detect/types';
import type { FrameInput } from '../image/frame';
import { calibratorFromAsyncFrames, calibratorFromFolder, calibratorFromFrames, DEFAULT_HELD_BACK_FRAMES, fingerprintFrames, type FrameCalibrator } from '../quantize/calibrator';
import type { Calibrator } from '../quantize/types';
import { Int8DetectError, invalidArgument } from '../util/errors';
import { sha256 } from '../util/hash';
import type { Int8CalibrationSource, Int8QuantizationSettings } from './int8-settings';

export interface ResolvedCalibration {
  calibrator: Calibrator;
  heldBack: () => readonly FrameInput[];
  shared: boolean;
  /** The frames' identity (calibration and held-back), or undefined: then nothing is cached. */
  fingerprint: string | undefined;
  heldBackKey: number | string;
}

function isFrameCalibrator(value: unknown): value is FrameCalibrator {
  return typeof value === 'object' && value !== null && typeof (value as FrameCalibrator).holdBack === 'function' && Symbol.asyncIterator in value;
}

function isBatchCalibrator(value: unknown): value is Calibrator {
  return typeof value === 'object' && value !== null && typeof (value as Calibrator).batchSize === 'number' && Symbol.asyncIterator in value;
}

export async function resolveCalibration(
  source: Int8CalibrationSource,
  q: Int8QuantizationSettings,
  spec: { preprocess: PreprocessSpec; inputName: string },
  signal: AbortSignal | undefined,
): Promise<ResolvedCalibration> {
  const base = {
    preprocess: spec.preprocess,
    inputName: spec.inputName,
    ...(q.batchSize !== undefined ? { batchSize: q.batchSize } : {}),
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
    ...(signal ? { signal } : {}),
  };
  const seeded = { ...base, ...(q.shuffleSeed !== undefined ? { shuffleSeed: q.shuffleSeed } : {}) };
  let frames: FrameCalibrator | undefined;
  let batches: Calibrator | undefined;
  if (typeof source === 'string') frames = await calibratorFromFolder(source, seeded);
  else if (Array.isArray(source)) frames = calibratorFromFrames(source, seeded);
  else if (isFrameCalibrator(source)) frames = source;
  else if (isBatchCalibrator(source)) batches = source;
  else if (typeof source === 'object' && source !== null && Symbol.asyncIterator in source) frames = calibratorFromAsyncFrames(source as AsyncIterable<FrameInput>, base);
  else throw invalidArgument('an image folder, an array of frames, an async iterable of frames or a Calibrator', 'options.calibrator', source);

  const heldBack = q.heldBack ?? DEFAULT_HELD_BACK_FRAMES;
  if (Array.isArray(heldBack)) {
    if (heldBack.length === 0) throw invalidArgument('at least one frame', 'options.quantization.heldBack', heldBack);
    const calibrator = (frames ?? batches)!;
    const heldBackPrint = fingerprintFrames(heldBack);
    return {
      calibrator,
      heldBack: () => heldBack,
      shared: false,
      fingerprint: calibrator.fingerprint !== undefined && heldBackPrint !== undefined ? sha256(`${calibrator.fingerprint}\n${heldBackPrint}`) : undefined,
      heldBackKey: heldBackPrint ?? 'frames',
    };
  }
  if (typeof heldBack !== 'number' || !Number.isInteger(heldBack) || heldBack < 1) {
    throw invalidArgument('a positive integer or an array of frames', 'options.quantization.heldBack', heldBack);
  }
  if (!frames) {
    throw new Int8DetectError(
      'ERR_ARGUMENT',
      'options.calibrator gives preprocessed batches only, so no frames can be held back for the label-free accuracy check: ' +
        'pass quantization.heldBack (raw frames, encoded images or image paths), or give an image folder, an array of frames or calibratorFromFolder/Frames() as calibrator',
    );
  }
  // The split is a function of the frames and the count, so the parent's fingerprint and the count identify both parts.
  const split = frames.holdBack(heldBack);
  return { calibrator: split.calibrator, heldBack: split.heldBack, shared: split.shared, fingerprint: frames.fingerprint, heldBackKey: heldBack };
}
