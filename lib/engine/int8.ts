/**
 * createEngine({ precision: 'int8', calibrator }) on a float model: quantize it for the chosen
 * backend with that backend's quantizer (the one pipeline: calibration, the label-free check on
 * held-back frames, the mixed-precision search) and cache the result, keyed by the model's hash,
 * every calibration setting, the calibration frames' fingerprint, the library's version and the
 * quantizer's own version. An artefact the backend opens from its path (an OpenVINO IR) is served
 * from the cache folder, or from a temporary folder when it cannot be cached.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Yolov8Layout } from '../detect/decoders/index';
import { resolveModelProfile } from '../detect/profile';
import type { DetectorFamily, PreprocessSpec } from '../detect/types';
import type { ModelInfo } from '../onnx/model-info';
import { abortError } from '../quantize/calibrator';
import type { QuantizerAdapter } from '../quantize/adapter';
import type { BackendDescriptor } from '../runtimes/backend';
import { quantizeModelFor, quantizerOf } from '../runtimes/quantize-model';
import { entryDigest } from '../util/artefact-cache';
import { invalidArgument } from '../util/errors';
import { companionPath } from '../util/files';
import { keyHash, sha256 } from '../util/hash';
import { resolveCalibration } from './calibration-source';
import { int8CachePath, lookupInt8Model, removeInt8Model, storeInt8Model } from './int8-cache';
import { int8CacheKey, resolveInt8Settings, type Int8EngineOptions } from './int8-settings';
import { int8Summary, type Int8Summary } from './int8-summary';

export interface EngineQuantizationInfo extends Int8Summary {
  /** 'cache': loaded from cachePath; 'quantized': made by this createEngine call. */
  source: 'cache' | 'quantized';
  /** The cache entry; null when the model could not be cached (the calibrator has no fingerprint). */
  cachePath: string | null;
  /** SHA-256 of the cache key. */
  keyHash: string;
}

export interface Int8EngineRequest {
  /** The float model's bytes and description. */
  bytes: Uint8Array;
  info: ModelInfo;
  modelName: string;
  backend: BackendDescriptor;
  cacheDir: string;
  options: Int8EngineOptions & {
    family?: DetectorFamily;
    outputLayout?: Yolov8Layout;
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

/** The float model quantized for the backend: from the cache when a whole entry for the same key is there, else made (and cached). */
export async function quantizeForEngine(request: Int8EngineRequest): Promise<Int8EngineResult> {
  const { options } = request;
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgument('an AbortSignal', 'options.signal', signal);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalidArgument('a function', 'options.onProgress', options.onProgress);
  if (signal?.aborted) throw abortError(signal);
  const quantizer = quantizerOf(request.backend);
  const settings = resolveInt8Settings(options);
  const overrides = { family: options.family, outputLayout: options.outputLayout, labels: options.labels, preprocess: options.preprocess };
  const profile = resolveModelProfile({ info: request.info, overrides });
  const calibration = await resolveCalibration(options.calibrator!, options.quantization ?? {}, profile, signal);
  const modelSha256 = sha256(request.bytes);
  const key = int8CacheKey({
    modelSha256,
    modelBytes: request.bytes.byteLength,
    backend: request.backend.name,
    quantizer: await quantizer.id(),
    settings,
    frames: calibration.fingerprint ?? 'unidentified',
    heldBack: calibration.heldBackKey,
    family: profile.family,
    preprocess: profile.preprocess,
    classes: profile.labels.length,
  });
  const hash = keyHash(key);
  const notes: string[] = [];
  const { extension, companions, opensFromPath } = quantizer.artefact;
  const cachePath = calibration.fingerprint === undefined ? null : int8CachePath(request.cacheDir, request.modelName, modelSha256, hash, extension);
  if (cachePath !== null) {
    const found = await lookupInt8Model(cachePath, key);
    if (found.status === 'hit') {
      return {
        bytes: found.bytes,
        ...(opensFromPath ? { modelPath: cachePath } : {}),
        digest: entryDigest(found.manifest),
        quantization: { ...found.manifest.record, source: 'cache', cachePath, keyHash: hash },
        reason: `loaded from the INT8 cache ${cachePath} (quantized ${found.manifest.createdAt} with the same model, frames and settings)`,
      };
    }
    if (found.status === 'stale') {
      notes.push(`the cache entry was not trusted and was rebuilt: ${found.reason}`);
      await removeInt8Model(cachePath, companions);
    }
  }
  const made = await quantizeModelFor(request.backend, {
    model: request.bytes,
    calibrator: calibration.calibrator,
    heldBack: calibration.heldBack,
    heldBackShared: calibration.shared,
    method: settings.method,
    activations: settings.activations,
    weightBits: settings.weightBits,
    ...(settings.biasCorrection !== undefined ? { biasCorrection: settings.biasCorrection } : {}),
    ignoredScope: settings.ignoredScope,
    maxDrop: settings.maxDrop,
    search: settings.search,
    decideBy: settings.decideBy,
    minInt8Fraction: settings.minInt8Fraction,
    ...(settings.speed !== undefined ? { speed: settings.speed } : {}),
    overrides: { ...(options.family !== undefined ? { family: options.family } : {}), ...(options.outputLayout !== undefined ? { outputLayout: options.outputLayout } : {}), ...(options.labels !== undefined ? { labels: options.labels } : {}), ...(options.preprocess !== undefined ? { preprocess: options.preprocess } : {}) },
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(signal ? { signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  // An abort that lands after the last check of the flow still writes nothing.
  if (signal?.aborted) throw abortError(signal);
  const summary = int8Summary(made);
  const artefact = made.artefact;
  let served: Pick<Int8EngineResult, 'modelPath' | 'release' | 'digest'> = {};
  if (cachePath === null) {
    summary.warnings.push('the calibrator has no fingerprint (a stream or a generator), so the quantized model was not cached: every createEngine call quantizes again');
    if (opensFromPath) served = await writeUncached(quantizer, artefact.bytes, artefact.companions);
  } else {
    const manifest = await storeInt8Model(cachePath, key, artefact.bytes, summary, artefact.companions);
    served = { ...(opensFromPath ? { modelPath: cachePath } : {}), digest: entryDigest(manifest) };
  }
  const interval = summary.agreement.estimatedDropInterval;
  const drop =
    `estimated mAP drop ${summary.agreement.estimatedDrop.toFixed(4)}${interval ? ` (90 % interval ${interval[0].toFixed(4)}-${interval[1].toFixed(4)})` : ''}` +
    `${summary.agreement.maxDrop === null ? '' : ` (max ${summary.agreement.maxDrop})`}`;
  const where = cachePath === null ? 'not cached: the calibrator has no fingerprint' : `cached at ${cachePath}`;
  return {
    bytes: artefact.bytes,
    ...served,
    quantization: { ...summary, source: 'quantized', cachePath, keyHash: hash },
    reason: [`quantized on ${summary.calibrationFrames} calibration frames in ${summary.seconds.toFixed(1)} s, ${drop}; ${where}`, ...notes].join('; '),
  };
}

/** An artefact opened from its path that cannot be cached: a temporary folder, removed once opened. */
async function writeUncached(quantizer: QuantizerAdapter, bytes: Uint8Array, companions: ReadonlyMap<string, Uint8Array>): Promise<Pick<Int8EngineResult, 'modelPath' | 'release'>> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-int8-'));
  const modelPath = path.join(folder, `model.int8${quantizer.artefact.extension}`);
  for (const [extension, data] of companions) await fs.writeFile(companionPath(modelPath, extension), data);
  await fs.writeFile(modelPath, bytes);
  return { modelPath, release: () => fs.rm(folder, { recursive: true, force: true }) };
}
