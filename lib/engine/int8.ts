/**
 * createEngine({ precision: 'int8', calibrator }) on a float model: quantize it with the default
 * flow (calibration, the label-free check on held-back frames, the mixed-precision search) and
 * cache the result, keyed by the model's hash, every calibration setting, the calibration frames'
 * fingerprint, the library's version and the quantizing runtime's version. What produces the
 * artefact is pluggable per backend (registerInt8Quantizer): the portable Q/DQ quantizer serves
 * ONNX Runtime; OpenVINO's quantizer (lib/openvino/engine-quantizer.ts) makes a FakeQuantize IR,
 * cached as two files (.xml + .bin) and opened from its path.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendName } from '../runtimes/backend';
import { resolveModelProfile } from '../detect/profile';
import type { DetectorFamily, PreprocessSpec } from '../detect/types';
import { Int8DetectError, invalidArgument } from '../util/errors';
import type { FrameInput } from '../image/frame';
import { packageRoot } from '../native/core';
import type { ModelInfo } from '../onnx/model-info';
import type { ProbeReport } from '../probe';
import { sha256 } from '../runtimes/tensorrt/plan-cache';
import { abortError, calibratorFromAsyncFrames, calibratorFromFolder, calibratorFromFrames, fingerprintFrames, type FrameCalibrator } from '../quantize/calibrator';
import type { CandidateEngineOptions } from '../quantize/candidate';
import { openVinoInt8Quantizer } from '../runtimes/openvino/engine-quantizer';
import { int8CachePath, int8CompanionPath, int8EntryDigest, int8KeyHash, lookupInt8Model, removeInt8Model, storeInt8Model } from '../quantize/int8-cache';
import type { LabelFreeCheckSummary } from '../quantize/mixed-precision';
import type { IgnoredScope } from '../quantize/placement';
import { checkPlanOptions, type MethodChoice } from '../quantize/plan';
import type { ActivationMode } from '../quantize/qparams';
import { int8Summary } from '../quantize/int8-summary';
import { checkBiasCorrection } from '../quantize/quantize';
import { quantizeWithSearch, type QuantizeWithSearchProgress } from '../quantize/quantize-with-search';
import type { BiasCorrectionMode } from '../quantize/bias-correction';
import type { Calibrator } from '../quantize/types';

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
   * 32, at most a quarter), or the frames themselves (then every calibration frame calibrates).
   */
  heldBack?: number | readonly FrameInput[];
  /** false: check, but keep every activation in INT8 (no mixed-precision search). Default true. */
  search?: boolean;
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
  onProgress?: (progress: QuantizeWithSearchProgress) => void;
  /** Aborts quantization (nothing is cached); createEngine then rejects. */
  signal?: AbortSignal;
}

/** What the quantization did, stored with a cached model and reported as engine.info.quantization. */
export interface Int8Summary {
  method: MethodChoice;
  activations: ActivationMode;
  weightBits: 7 | 8;
  calibrationFrames: number;
  quantizedActivations: number;
  quantizedWeights: number;
  /** Activations the mixed-precision search kept in float, most sensitive first. */
  keptFloat: string[];
  /** Nodes kept in float by the placement (detection head, ignored scope), with the reason. */
  floatNodes: { node: string; opType: string; reason: string }[];
  /** Multiply-accumulates per frame, and the share that runs in INT8. */
  macs: { int8: number; total: number; int8Fraction: number };
  /** The label-free check: INT8 scored against FP32's detections on held-back frames (AP50). */
  agreement: LabelFreeCheckSummary;
  /** Seconds the quantization took (when it was made). */
  seconds: number;
  warnings: string[];
}

export interface EngineQuantizationInfo extends Int8Summary {
  /** 'cache': loaded from cachePath; 'quantized': made by this createEngine call. */
  source: 'cache' | 'quantized';
  /** The cache entry; null when the model could not be cached (the calibrator has no fingerprint). */
  cachePath: string | null;
  /** SHA-256 of the cache key. */
  keyHash: string;
}

/** Everything a quantizer needs, resolved and checked. */
export interface Int8QuantizeRequest {
  model: Uint8Array;
  preprocess: PreprocessSpec;
  calibrator: Calibrator;
  /** Called after calibration: a stream's held-back frames are known only once it has been read. */
  heldBack: () => readonly FrameInput[];
  heldBackShared: boolean;
  settings: ResolvedInt8Settings;
  engineOptions: CandidateEngineOptions;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (progress: QuantizeWithSearchProgress) => void;
}

export interface Int8Quantizer {
  /** The tool and version that make the artefact, e.g. 'onnxruntime 1.30.0': part of the cache key. */
  id(report: ProbeReport): string;
  /** The artefact's file extension in the cache. */
  extension: string;
  /** Extensions of files the artefact needs beside it, same stem (an OpenVINO IR's '.bin'). */
  companions?: readonly string[];
  /** The backend opens the artefact from its path (an OpenVINO IR), not from its bytes. */
  opensFromPath?: boolean;
  /** `companions`: each extension of `Int8Quantizer.companions` with that file's bytes. */
  quantize(request: Int8QuantizeRequest): Promise<{ bytes: Uint8Array; companions?: ReadonlyMap<string, Uint8Array>; summary: Int8Summary }>;
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
}

/** The portable quantizer: the same flow as `int8-detect quantize`, giving a Q/DQ ONNX model. */
export const portableQdqQuantizer: Int8Quantizer = {
  extension: '.onnx',
  id: (report) => `onnxruntime ${report.backends.onnxruntime.version ?? 'unknown'}`,
  async quantize(request) {
    const { settings } = request;
    const flow = await quantizeWithSearch({
      model: request.model,
      preprocess: request.preprocess,
      calibrator: request.calibrator,
      heldBack: request.heldBack,
      heldBackShared: request.heldBackShared,
      method: settings.method,
      activations: settings.activations,
      weightBits: settings.weightBits,
      ...(settings.biasCorrection !== undefined ? { biasCorrection: settings.biasCorrection } : {}),
      ignoredScope: settings.ignoredScope,
      maxDrop: settings.maxDrop,
      search: settings.search,
      engineOptions: request.engineOptions,
      ...(request.threads !== undefined ? { threads: request.threads } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    });
    const { plan } = flow.quantized;
    const { search } = flow;
    return {
      bytes: flow.bytes,
      summary: int8Summary({
        plan,
        keptFloat: flow.keepFloat,
        macs: flow.macs,
        agreement: {
          heldBackFrames: flow.heldBack.frames.length,
          heldBackShared: flow.heldBack.shared,
          floor: search.agreement.floor,
          allInt8: search.agreement.allInt8,
          chosen: search.agreement.chosen,
          estimatedDrop: search.estimatedDrop,
          estimatedDropInterval: search.estimatedDropInterval,
          maxDrop: flow.maxDrop,
          passed: flow.passed,
          trials: search.trials,
        },
        seconds: flow.seconds,
        warnings: flow.warnings,
      }),
    };
  },
};

const quantizers = new Map<BackendName, Int8Quantizer>([
  ['onnxruntime', portableQdqQuantizer],
  // A FakeQuantize IR placed where OpenVINO fuses it (OpenVINO also reads Q/DQ ONNX models as they are).
  ['openvino', openVinoInt8Quantizer],
]);

/** Plug in the quantizer that makes a backend's INT8 artefact from a float model. */
export function registerInt8Quantizer(backend: BackendName, quantizer: Int8Quantizer): void {
  if (typeof quantizer !== 'object' || quantizer === null || typeof quantizer.quantize !== 'function' || typeof quantizer.id !== 'function') {
    throw invalidArgument('an Int8Quantizer { id, extension, quantize }', 'quantizer', quantizer);
  }
  quantizers.set(backend, quantizer);
}

export function int8QuantizerFor(backend: BackendName): Int8Quantizer | undefined {
  return quantizers.get(backend);
}

let libraryVersion: string | undefined;
function packageVersion(): string {
  libraryVersion ??= (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return libraryVersion;
}

export const DEFAULT_HELD_BACK_FRAMES = 32;

export function resolveInt8Settings(options: Int8EngineOptions): ResolvedInt8Settings {
  const q = options.quantization ?? {};
  if (typeof q !== 'object' || q === null) throw invalidArgument('an object', 'options.quantization', q);
  const { correctWeightBias: _planDefault, ...plan } = checkPlanOptions(q);
  const biasCorrection = q.biasCorrection === undefined ? undefined : checkBiasCorrection(q.biasCorrection, 'none');
  const maxDrop = options.maxDrop ?? 0.01;
  if (typeof maxDrop !== 'number' || !(maxDrop >= 0)) throw invalidArgument('a number >= 0', 'options.maxDrop', maxDrop);
  if (q.search !== undefined && typeof q.search !== 'boolean') throw invalidArgument('a boolean', 'options.quantization.search', q.search);
  return { ...plan, biasCorrection, maxDrop, search: q.search ?? true };
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
  backend: BackendName;
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
    },
    detector: { family: parts.family, preprocess: parts.preprocess, classes: parts.classes },
  };
}

interface ResolvedCalibration {
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

async function resolveCalibration(
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

export interface Int8EngineRequest {
  bytes: Uint8Array;
  info: ModelInfo;
  modelName: string;
  backend: BackendName;
  report: ProbeReport;
  cacheDir: string;
  options: Int8EngineOptions & {
    family?: DetectorFamily;
    labels?: string | readonly string[];
    preprocess?: Partial<PreprocessSpec>;
    threads?: number;
  };
}

export interface Int8EngineResult {
  /** The INT8 artefact the backend opens (an IR's .xml when `modelPath` is set). */
  bytes: Uint8Array;
  /** Where the artefact is, for a backend that opens it from its path (an OpenVINO IR's .xml). */
  modelPath?: string;
  /** Call once the backend has opened `modelPath`: removes it when it is not a cache entry. */
  release?: () => Promise<void>;
  /** The cache entry's digest (every file's SHA-256), to key measurements made on it; absent when not cached. */
  digest?: string;
  quantization: EngineQuantizationInfo;
  /** One sentence for engine.info.reasons.quantization. */
  reason: string;
}

/** The float model quantized for `backend`: from the cache when a whole entry for the same key is there, else made (and cached). */
export async function quantizeForEngine(request: Int8EngineRequest): Promise<Int8EngineResult> {
  const { options } = request;
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgument('an AbortSignal', 'options.signal', signal);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalidArgument('a function', 'options.onProgress', options.onProgress);
  if (signal?.aborted) throw abortError(signal);
  const quantizer = int8QuantizerFor(request.backend);
  if (!quantizer) {
    throw new Int8DetectError('ERR_ARGUMENT', `precision 'int8' with a calibrator is not available on the ${request.backend} backend: no quantizer is registered for it`);
  }
  const settings = resolveInt8Settings(options);
  const overrides = { family: options.family, labels: options.labels, preprocess: options.preprocess };
  const profile = resolveModelProfile({ info: request.info, overrides });
  const calibration = await resolveCalibration(options.calibrator!, options.quantization ?? {}, profile, signal);
  const modelSha256 = sha256(request.bytes);
  const key = int8CacheKey({
    modelSha256,
    modelBytes: request.bytes.byteLength,
    backend: request.backend,
    quantizer: quantizer.id(request.report),
    settings,
    frames: calibration.fingerprint ?? 'unidentified',
    heldBack: calibration.heldBackKey,
    family: profile.family,
    preprocess: profile.preprocess,
    classes: profile.labels.length,
  });
  const keyHash = int8KeyHash(key);
  const notes: string[] = [];
  const cachePath = calibration.fingerprint === undefined ? null : int8CachePath(request.cacheDir, request.modelName, modelSha256, keyHash, quantizer.extension);
  if (cachePath !== null) {
    const found = await lookupInt8Model<typeof key, Int8Summary>(cachePath, key);
    if (found.status === 'hit') {
      return {
        bytes: found.bytes,
        ...(quantizer.opensFromPath ? { modelPath: cachePath } : {}),
        digest: int8EntryDigest(found.manifest),
        quantization: { ...found.manifest.summary, source: 'cache', cachePath, keyHash },
        reason: `loaded from the INT8 cache ${cachePath} (quantized ${found.manifest.createdAt} with the same model, frames and settings)`,
      };
    }
    if (found.status === 'corrupt') {
      notes.push(`the cache entry was not trusted and was rebuilt: ${found.reason}`);
      await removeInt8Model(cachePath, quantizer.companions);
    }
  }
  const engineOptions: CandidateEngineOptions = {
    ...(options.family !== undefined ? { family: options.family } : {}),
    ...(options.labels !== undefined ? { labels: options.labels } : {}),
    ...(options.preprocess !== undefined ? { preprocess: options.preprocess } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  };
  const made = await quantizer.quantize({
    model: request.bytes,
    preprocess: profile.preprocess,
    calibrator: calibration.calibrator,
    heldBack: calibration.heldBack,
    heldBackShared: calibration.shared,
    settings,
    engineOptions,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(signal ? { signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  // An abort that lands after the last check of the flow still writes nothing.
  if (signal?.aborted) throw abortError(signal);
  const summary: Int8Summary = { ...made.summary, warnings: [...made.summary.warnings] };
  const companions = made.companions ?? new Map<string, Uint8Array>();
  let served: Pick<Int8EngineResult, 'modelPath' | 'release' | 'digest'> = {};
  if (cachePath === null) {
    summary.warnings.push('the calibrator has no fingerprint (a stream or a generator), so the quantized model was not cached: every createEngine call quantizes again');
    if (quantizer.opensFromPath) served = await writeUncached(quantizer, made.bytes, companions);
  } else {
    const manifest = await storeInt8Model(cachePath, key, made.bytes, made.summary, companions);
    served = { ...(quantizer.opensFromPath ? { modelPath: cachePath } : {}), digest: int8EntryDigest(manifest) };
  }
  const interval = summary.agreement.estimatedDropInterval;
  const drop =
    `estimated mAP drop ${summary.agreement.estimatedDrop.toFixed(4)}${interval ? ` (90 % interval ${interval[0].toFixed(4)}-${interval[1].toFixed(4)})` : ''}` +
    `${summary.agreement.maxDrop === null ? '' : ` (max ${summary.agreement.maxDrop})`}`;
  const where = cachePath === null ? 'not cached: the calibrator has no fingerprint' : `cached at ${cachePath}`;
  return {
    bytes: made.bytes,
    ...served,
    quantization: { ...summary, source: 'quantized', cachePath, keyHash },
    reason: [`quantized on ${summary.calibrationFrames} calibration frames in ${summary.seconds.toFixed(1)} s, ${drop}; ${where}`, ...notes].join('; '),
  };
}

/** An artefact opened from its path that cannot be cached: a temporary folder, removed once opened. */
async function writeUncached(quantizer: Int8Quantizer, bytes: Uint8Array, companions: ReadonlyMap<string, Uint8Array>): Promise<Pick<Int8EngineResult, 'modelPath' | 'release'>> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-int8-'));
  const modelPath = path.join(folder, `model.int8${quantizer.extension}`);
  for (const [extension, data] of companions) await fs.writeFile(int8CompanionPath(modelPath, extension), data);
  await fs.writeFile(modelPath, bytes);
  return { modelPath, release: () => fs.rm(folder, { recursive: true, force: true }) };
}
