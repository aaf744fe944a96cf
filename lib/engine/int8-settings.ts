/**
 * createEngine's INT8 options (precision 'int8' or 'auto' with a calibrator on a float model),
 * checked and filled, and the INT8 cache key made of them.
 */
import type { DetectorFamily, PreprocessSpec } from '../detect/types';
import type { FrameInput } from '../image/frame';
import { PSEUDO_LABEL_THRESHOLD, UNCERTAIN_THRESHOLD } from '../quantize/agreement';
import type { BiasCorrectionMode } from '../quantize/bias-correction';
import type { QuantizeProgress } from '../quantize/pipeline';
import type { IgnoredScope } from '../quantize/placement';
import { checkMinInt8Fraction, DEFAULT_MAX_DROP, DEFAULT_MIN_INT8_FRACTION } from '../quantize/mixed-precision';
import { checkPlanOptions, type MethodChoice } from '../quantize/plan';
import type { ActivationMode } from '../quantize/qparams';
import { checkBiasCorrection } from '../quantize/steps';
import type { Calibrator } from '../quantize/types';
import { invalidArgument } from '../util/errors';
import { checkKnownKeys, optionKeys } from '../util/option-keys';
import { packageVersion } from '../util/package';

/**
 * Where calibration frames come from: an image folder, an array of frames (raw frames, encoded
 * images or paths), an async iterable of frames (a stream: never cached), or a Calibrator
 * (calibratorFromFolder/Frames/AsyncFrames, or your own batches with quantization.heldBack).
 */
export type Int8CalibrationSource = string | readonly FrameInput[] | AsyncIterable<FrameInput> | Calibrator;

export interface Int8QuantizationSettings {
  /** How activation ranges are chosen (default 'auto': per tensor, the range of least error). */
  method?: MethodChoice;
  /** Activation encoding (default: UINT8 asymmetric on x86-64, INT8 symmetric elsewhere). */
  activations?: ActivationMode;
  weightBits?: 7 | 8;
  ignoredScope?: IgnoredScope;
  /** Fast bias correction: 'all', 'weights' or 'none'; default: the quantizer's ('none' for Q/DQ ONNX, 'all' for OpenVINO). */
  biasCorrection?: BiasCorrectionMode;
  /**
   * Frames for the label-free check: how many to hold back from the calibration frames (default
   * 64, at most a quarter), or the frames themselves (then every calibration frame calibrates).
   */
  heldBack?: number | readonly FrameInput[];
  /** false: check, but keep every activation in INT8 (no mixed-precision search). Default true. */
  search?: boolean;
  /** How the check passes a candidate: 'estimate' (default: its estimated drop within maxDrop) or 'upper' (the upper end of its 90 % interval). */
  decideBy?: 'upper' | 'estimate';
  /** The least share of multiply-accumulates the searches leave in INT8 (default 0.9): float kept for accuracy or speed never goes beyond it. */
  minInt8Fraction?: number;
  /** Kernel families whose INT8 measures slower on this device go back to float (default: the quantizer's; on for OpenVINO). */
  speed?: boolean;
  /** Folder, array and stream sources: at most this many frames (held-back ones included). */
  limit?: number;
  /** Folder and array sources: shuffle with this seed before `limit`. */
  shuffleSeed?: number;
  /** Frames per calibration batch (default 1). */
  batchSize?: number;
}

/** The createEngine options of this flow (they take effect with precision 'int8' on a float model). */
export interface Int8EngineOptions {
  /** Calibration frames: quantize a float model when precision is 'int8'. */
  calibrator?: Int8CalibrationSource;
  /** Largest estimated mAP drop the label-free check accepts (default 0.01). */
  maxDrop?: number;
  quantization?: Int8QuantizationSettings;
  /** Quantization progress: calibration frames, sensitivity ranking, search trials. */
  onProgress?: (progress: QuantizeProgress) => void;
  /** Aborts quantization (nothing is cached); createEngine then rejects. */
  signal?: AbortSignal;
}

export interface ResolvedInt8Settings {
  method: MethodChoice;
  activations: ActivationMode;
  weightBits: 7 | 8;
  /** undefined: the quantizer's default. */
  biasCorrection: BiasCorrectionMode | undefined;
  ignoredScope: IgnoredScope;
  maxDrop: number;
  search: boolean;
  decideBy: 'upper' | 'estimate';
  minInt8Fraction: number;
  /** undefined: the quantizer's default. */
  speed: boolean | undefined;
}

const QUANTIZATION_SETTING_KEYS = optionKeys<Int8QuantizationSettings>({
  method: true,
  activations: true,
  weightBits: true,
  ignoredScope: true,
  biasCorrection: true,
  heldBack: true,
  search: true,
  decideBy: true,
  minInt8Fraction: true,
  speed: true,
  limit: true,
  shuffleSeed: true,
  batchSize: true,
});

export function resolveInt8Settings(options: Int8EngineOptions): ResolvedInt8Settings {
  const q = options.quantization ?? {};
  if (typeof q !== 'object' || q === null) throw invalidArgument('an object', 'options.quantization', q);
  checkKnownKeys(q, QUANTIZATION_SETTING_KEYS, 'quantization options', 'quantization.');
  const { correctWeightBias: _planDefault, ...plan } = checkPlanOptions(q);
  void _planDefault;
  const biasCorrection = q.biasCorrection === undefined ? undefined : checkBiasCorrection(q.biasCorrection, 'none');
  const maxDrop = options.maxDrop ?? DEFAULT_MAX_DROP;
  if (typeof maxDrop !== 'number' || !(maxDrop >= 0)) throw invalidArgument('a number >= 0', 'options.maxDrop', maxDrop);
  if (q.search !== undefined && typeof q.search !== 'boolean') throw invalidArgument('a boolean', 'options.quantization.search', q.search);
  if (q.decideBy !== undefined && q.decideBy !== 'upper' && q.decideBy !== 'estimate') throw invalidArgument("'upper' or 'estimate'", 'options.quantization.decideBy', q.decideBy);
  const minInt8Fraction = checkMinInt8Fraction(q.minInt8Fraction ?? DEFAULT_MIN_INT8_FRACTION, 'options.quantization.minInt8Fraction');
  if (q.speed !== undefined && typeof q.speed !== 'boolean') throw invalidArgument('a boolean', 'options.quantization.speed', q.speed);
  return { ...plan, biasCorrection, maxDrop, search: q.search ?? true, decideBy: q.decideBy ?? 'estimate', minInt8Fraction, speed: q.speed };
}

/** An ignored scope as plain data: regular expressions by source and flags. */
function scopeKey(scope: IgnoredScope): unknown {
  return {
    names: [...(scope.names ?? [])],
    types: [...(scope.types ?? [])],
    patterns: (scope.patterns ?? []).map((p) => (p instanceof RegExp ? `/${p.source}/${p.flags}` : String(p))),
  };
}

/** The cache key: everything that changes the quantized model. Tests compare the hashes of two. */
export function int8CacheKey(parts: {
  modelSha256: string;
  modelBytes: number;
  backend: string;
  quantizer: string;
  settings: ResolvedInt8Settings;
  frames: string;
  heldBack: number | string;
  family: DetectorFamily;
  preprocess: PreprocessSpec;
  classes: number;
}): Record<string, unknown> {
  const { settings } = parts;
  return {
    model: { sha256: parts.modelSha256, bytes: parts.modelBytes },
    backend: parts.backend,
    quantizer: parts.quantizer,
    library: `int8-detect ${packageVersion()}`,
    calibration: {
      frames: parts.frames,
      heldBack: parts.heldBack,
      method: settings.method,
      activations: settings.activations,
      weightBits: settings.weightBits,
      biasCorrection: settings.biasCorrection ?? 'default',
      ignoredScope: scopeKey(settings.ignoredScope),
      maxDrop: settings.search ? settings.maxDrop : null,
      search: settings.search,
      decideBy: settings.decideBy,
      minInt8Fraction: settings.minInt8Fraction,
      speed: settings.speed ?? 'default',
      // How the check scores INT8 against FP32: a change to it can change what the search keeps
      // in float, so an artefact checked under another rule is not reused.
      checkScoring: { pseudoLabels: PSEUDO_LABEL_THRESHOLD, ignoreRegionsFrom: UNCERTAIN_THRESHOLD },
    },
    detector: { family: parts.family, preprocess: parts.preprocess, classes: parts.classes },
  };
}
