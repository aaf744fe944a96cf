/**
 * The default INT8 flow, one function for `int8-detect quantize` and createEngine: calibrate
 * (quantizeModel), then the label-free check on frames held back from calibration and, where the
 * estimated mAP drop exceeds maxDrop, the mixed-precision search. Nothing is written here: the
 * callers write the model (atomically) once everything has been computed.
 */
import type { PreprocessSpec } from '../detect/types';
import { Int8DetectError, invalidArgument } from '../util/errors';
import { isRawFrame, type FrameInput, type RawFrame } from '../image/frame';
import { decodeImage } from '../image/decode';
import { prepareHeldBack, type CandidateEngineOptions } from './candidate';
import { searchMixedPrecision, type MixedPrecisionResult } from './mixed-precision';
import { quantizeModel, type QuantizeModelOptions, type QuantizeResult } from './quantize';

export type QuantizeWithSearchPhase = 'equalize' | 'collect' | 'plan' | 'bias' | 'emit' | 'reference' | 'sensitivity' | 'search';

export interface QuantizeWithSearchProgress {
  phase: QuantizeWithSearchPhase;
  /** Frames calibrated ('collect'), tensors ranked ('sensitivity'), trials run ('search'). */
  done?: number;
  total?: number;
}

export interface QuantizeWithSearchOptions extends Omit<QuantizeModelOptions, 'model' | 'onProgress'> {
  /** The float model's bytes. */
  model: Uint8Array;
  /** How the model wants its input (the frames held back are preprocessed with it). */
  preprocess: PreprocessSpec;
  /**
   * Frames the calibrator does not give, for the label-free check: raw frames, encoded images or
   * image paths. A function is called after calibration (a stream's held-back frames are known
   * only once it has been read).
   */
  heldBack: readonly FrameInput[] | (() => readonly FrameInput[]);
  /** The held-back frames are calibration frames too (too few frames to set any aside): the check is optimistic. */
  heldBackShared?: boolean;
  /** Largest estimated mAP drop the check accepts (default 0.01). */
  maxDrop?: number;
  /** false: run the check but keep every activation in INT8 (no mixed precision). Default true. */
  search?: boolean;
  /** Family, labels, preprocessing overrides and threads of the engines that run the candidates. */
  engineOptions?: CandidateEngineOptions;
  onProgress?: (progress: QuantizeWithSearchProgress) => void;
}

export interface QuantizeWithSearchResult {
  /** The float model's bytes, the preprocessing and the candidate engines' options, as given (for the report). */
  fp32Model: Uint8Array;
  preprocess: PreprocessSpec;
  engineOptions: CandidateEngineOptions;
  /** The model to serve or write: the chosen mixed-precision Q/DQ model (the float bytes when nothing was quantized). */
  bytes: Uint8Array;
  /** Calibration's result: plan, statistics, decoded model (for other emissions and the report). */
  quantized: QuantizeResult;
  search: MixedPrecisionResult;
  /** Activations kept in float by the search, most sensitive first. */
  keepFloat: string[];
  macs: { int8: number; total: number; int8Fraction: number };
  heldBack: { frames: readonly RawFrame[]; tensors: readonly (Float32Array | Uint8Array)[]; shared: boolean };
  /** null when the search was off. */
  maxDrop: number | null;
  /** The estimated drop of the chosen model is within maxDrop. */
  passed: boolean;
  warnings: string[];
  seconds: number;
}

async function decodeHeldBack(frames: readonly FrameInput[]): Promise<RawFrame[]> {
  return Promise.all(frames.map((f) => (isRawFrame(f) ? f : decodeImage(f))));
}

export async function quantizeWithSearch(options: QuantizeWithSearchOptions): Promise<QuantizeWithSearchResult> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'quantizeWithSearch(options)', options);
  if (!(options.model instanceof Uint8Array)) throw invalidArgument("the float model's bytes", 'options.model', options.model);
  const maxDrop = options.maxDrop ?? 0.01;
  if (typeof maxDrop !== 'number' || !(maxDrop >= 0)) throw invalidArgument('a number >= 0', 'options.maxDrop', maxDrop);
  const search = options.search ?? true;
  const started = Date.now();
  const { preprocess, heldBack: heldBackOption, heldBackShared, engineOptions, search: _search, maxDrop: _maxDrop, onProgress, ...quantizeOptions } = options;
  void _search;
  void _maxDrop;
  const quantized = await quantizeModel({
    ...quantizeOptions,
    onProgress: (p) => onProgress?.({ phase: p.phase, ...(p.frames !== undefined ? { done: p.frames } : {}), ...(p.total !== undefined ? { total: p.total } : {}) }),
  });
  const heldBackFrames = typeof heldBackOption === 'function' ? heldBackOption() : heldBackOption;
  if (!Array.isArray(heldBackFrames) || heldBackFrames.length === 0) {
    throw new Int8DetectError('ERR_CALIBRATION', 'No frames were held back for the label-free accuracy check: give at least one frame the calibrator does not');
  }
  const heldBack = await prepareHeldBack(await decodeHeldBack(heldBackFrames), preprocess);
  const result = await searchMixedPrecision({
    fp32Model: options.model,
    model: quantized.model,
    plan: quantized.plan,
    heldBack,
    engineOptions: engineOptions ?? {},
    maxDrop: search ? maxDrop : Number.POSITIVE_INFINITY,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (p) => onProgress?.({ phase: p.phase, done: p.done, total: p.total }),
  });
  const nothing = quantized.plan.activations.length === 0 && quantized.plan.weights.length === 0;
  const macs = result.macs;
  const warnings = [...quantized.warnings];
  if (heldBackShared) warnings.push(`only ${heldBack.frames.length} frames for the accuracy check, and they are calibration frames too: the check is optimistic`);
  return {
    fp32Model: options.model,
    preprocess,
    engineOptions: engineOptions ?? {},
    bytes: nothing ? quantized.bytes : result.bytes,
    quantized,
    search: result,
    keepFloat: result.keepFloat,
    macs: { ...macs, int8Fraction: macs.total > 0 ? macs.int8 / macs.total : 0 },
    heldBack: { frames: heldBack.frames, tensors: heldBack.tensors, shared: heldBackShared ?? false },
    maxDrop: search ? maxDrop : null,
    passed: result.estimatedDrop <= maxDrop,
    warnings,
    seconds: (Date.now() - started) / 1000,
  };
}
