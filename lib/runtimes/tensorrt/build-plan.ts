/**
 * From an ONNX model to a TensorRT plan on disk: decide the build (precision, INT8 mode, shapes,
 * calibration), look the plan up in the engine cache, build it off the event loop when it is
 * missing or stale, and store it with its sidecar, the shared timing cache and, after an on-device
 * calibration, the calibration cache TensorRT wrote.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Precision } from '../session';
import { config } from '../../util/config';
import { Int8DetectError, invalidArgument } from '../../util/errors';
import { writeFileAtomic } from '../../util/files';
import { countGraphOps, isQuantizedModel } from '../../onnx/graph-ops';
import { readModelInfo } from '../../onnx/model-info';
import type { Calibrator } from '../../quantize/types';
import { calibrationPull } from './calibration-pull';
import { formatCalibrationCache, parseCalibrationCache, retargetCalibrationCache } from '../../quantize/emitters/tensorrt-cache-format';
import {
  defaultPlanPath,
  lookupPlan,
  sha256,
  storePlan,
  timingCachePath,
  type CalibrationIdentity,
  type GpuIdentity,
  type PlanCacheKey,
  type PlanSidecar,
} from './plan-cache';
import { elementCount, isDynamicRange, resolveInputShapes, type InputShapeSpec } from './input-shapes';
import { loadTensorRtModule } from './module';
import type { NativeBuildProgress, NativeTensorRtRuntimeInfo, TensorRtAddon } from './native-types';
import { decodeTensorRtVersion, encodeTensorRtVersion, formatTensorRtVersion } from './version';

export type TensorRtCalibratorAlgorithm = 'entropy2' | 'minmax';

export interface TensorRtBuildOptions {
  precision: Precision;
  /** Implicit INT8 (TensorRT <= 10): TensorRT's calibrator pulls these batches, made with the engine's preprocessing. */
  calibrator?: Calibrator;
  /** Names the calibrator's data for the plan cache (e.g. a hash of the image folder); without it a calibrated plan is always rebuilt. */
  calibrationId?: string;
  /** 'entropy2' (default; the one DLA needs) or 'minmax' (Ultralytics' choice for YOLO). */
  calibrationAlgorithm?: TensorRtCalibratorAlgorithm;
  /** Implicit INT8 from a calibration cache file (ours, the portable quantizer's, or TensorRT's own): no calibration on the device. */
  calibrationCache?: string;
  /** Shapes of inputs with dynamic dimensions. */
  inputShapes?: Record<string, InputShapeSpec>;
  /** Where to write the plan (its sidecar goes beside it); default: in the cache folder. */
  plan?: string;
  cacheDir?: string;
  /** Builder workspace limit in bytes; 0 or absent: TensorRT's default. */
  workspaceBytes?: number;
  /** Jetson DLA core to build for; absent: the GPU. */
  dlaCore?: number;
  /** Let layers the DLA cannot run fall back to the GPU (default true). */
  gpuFallback?: boolean;
  /** CUDA device index (default 0). */
  device?: number;
  /** Execution contexts that will run at once: a dynamic-shape plan gets one optimization profile each. */
  concurrency?: number;
  /** How long TensorRT's getBatch waits for the calibrator (default 120 s). */
  batchTimeoutMs?: number;
  /** Build even when the cache holds a valid plan. */
  rebuild?: boolean;
  onProgress?: (event: TensorRtBuildEvent) => void;
  signal?: AbortSignal;
}

export type TensorRtBuildEvent =
  | { kind: 'phase'; progress: NativeBuildProgress }
  | { kind: 'calibration'; batches: number };

export interface TensorRtPlanResult {
  planPath: string;
  plan: Buffer;
  sidecar: PlanSidecar;
  fromCache: boolean;
  /** Why the plan was reused or built, in words. */
  reason: string;
  tensorrtVersion: string;
  gpu: GpuIdentity;
  /** The calibration cache TensorRT wrote after calibrating on the device, when it did. */
  calibrationCachePath?: string;
}

const DEFAULT_BATCH_TIMEOUT_MS = 120_000;

/** The resolved build, before any work: what TensorRT will be asked for and under which key. */
interface BuildPlanDecision {
  int8Mode: PlanCacheKey['int8Mode'];
  calibrationCache: Uint8Array | null;
  calibration: CalibrationIdentity | null;
  cacheable: boolean;
}

function tensorRtVersionOf(info: NativeTensorRtRuntimeInfo): string {
  return formatTensorRtVersion(decodeTensorRtVersion(info.libraryVersion));
}

function gpuOf(info: NativeTensorRtRuntimeInfo, device: number): GpuIdentity {
  const gpu = info.devices.find((d) => d.index === device);
  if (!gpu) {
    const seen = info.devices.length === 0 ? `it sees no CUDA device${info.cudaError ? ` (${info.cudaError})` : ''}` : `it sees ${info.devices.length}`;
    throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `CUDA device ${device} was requested, but ${seen}`);
  }
  return { name: gpu.name, computeCapability: gpu.computeCapability };
}

async function decideInt8(
  modelPath: string,
  quantized: boolean,
  options: TensorRtBuildOptions,
  info: NativeTensorRtRuntimeInfo,
): Promise<BuildPlanDecision> {
  const version = tensorRtVersionOf(info);
  if (options.precision !== 'int8') {
    if (quantized) {
      throw new Int8DetectError('ERR_ARGUMENT', `${modelPath} is quantized (QuantizeLinear/DequantizeLinear nodes): build it with precision 'int8' (explicit quantization)`);
    }
    if (options.precision === 'fp16' && !info.capabilities.precisionFlags) {
      throw new Int8DetectError('ERR_ARGUMENT', `TensorRT ${version} builds strongly typed networks and has no FP16 flag: give an FP16 ONNX model, or build fp32 or int8`);
    }
    return { int8Mode: 'none', calibrationCache: null, calibration: null, cacheable: true };
  }
  if (quantized) return { int8Mode: 'explicit', calibrationCache: null, calibration: null, cacheable: true };
  if (!info.capabilities.implicitInt8) {
    throw new Int8DetectError(
      'ERR_ARGUMENT',
      `TensorRT ${version} has no implicit INT8 (calibrators, calibration caches): quantize ${modelPath} to a Q/DQ ONNX model first, then build that with precision 'int8'`,
    );
  }
  const algorithm = options.calibrationAlgorithm ?? 'entropy2';
  if (options.calibrationCache !== undefined) {
    const bytes = await fs.readFile(options.calibrationCache).catch((err: Error) => {
      throw new Int8DetectError('ERR_ARGUMENT', `Cannot read the calibration cache ${options.calibrationCache}: ${err.message}`, { cause: err });
    });
    const cache = parseCalibrationCache(bytes, options.calibrationCache);
    const version = encodeTensorRtVersion(decodeTensorRtVersion(info.libraryVersion));
    const retargeted = Buffer.from(formatCalibrationCache(retargetCalibrationCache(cache, version)), 'latin1');
    return { int8Mode: 'implicit', calibrationCache: retargeted, calibration: { kind: 'cache', algorithm: cache.algorithm, sha256: sha256(bytes) }, cacheable: true };
  }
  if (options.calibrator === undefined) {
    throw new Int8DetectError(
      'ERR_ARGUMENT',
      `precision 'int8' for the float model ${modelPath} needs a calibrator or a calibration cache (implicit INT8), or a Q/DQ model (explicit INT8)`,
    );
  }
  const id = options.calibrationId;
  return {
    int8Mode: 'implicit',
    calibrationCache: null,
    // Without an id the plan is never reused, but it still goes to one slot, overwritten by each build.
    calibration: { kind: 'calibrator', algorithm, id: id ?? 'unnamed' },
    cacheable: id !== undefined,
  };
}

function checkOptions(options: TensorRtBuildOptions): void {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'options', options);
  if (!['fp32', 'fp16', 'int8'].includes(options.precision)) throw invalidArgument("'fp32', 'fp16' or 'int8'", 'options.precision', options.precision);
  const nonNegative = (value: unknown, name: string) => {
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) throw invalidArgument('a non-negative integer', name, value);
  };
  nonNegative(options.workspaceBytes, 'options.workspaceBytes');
  nonNegative(options.dlaCore, 'options.dlaCore');
  nonNegative(options.device, 'options.device');
  if (options.concurrency !== undefined && (!Number.isInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > 64)) {
    throw invalidArgument('an integer from 1 to 64', 'options.concurrency', options.concurrency);
  }
  if (options.batchTimeoutMs !== undefined && (!Number.isInteger(options.batchTimeoutMs) || options.batchTimeoutMs < 1)) {
    throw invalidArgument('a positive integer', 'options.batchTimeoutMs', options.batchTimeoutMs);
  }
  if (options.calibrationAlgorithm !== undefined && !['entropy2', 'minmax'].includes(options.calibrationAlgorithm)) {
    throw invalidArgument("'entropy2' or 'minmax'", 'options.calibrationAlgorithm', options.calibrationAlgorithm);
  }
  if (options.calibrator !== undefined && options.calibrationCache !== undefined) {
    throw new Int8DetectError('ERR_ARGUMENT', 'Give either a calibrator or a calibration cache, not both');
  }
}

function nativeBuildError(modelPath: string, err: unknown): Int8DetectError {
  const error = err as Error & { code?: string; log?: string[] };
  const errors = (error.log ?? []).filter((line) => line.startsWith('error') || line.startsWith('internal error')).slice(-3);
  const detail = errors.length > 0 && !errors.some((line) => error.message.includes(line.replace(/^[a-z ]+: /, ''))) ? ` (TensorRT said: ${errors.join(' | ')})` : '';
  return new Int8DetectError(error.code === 'ERR_ARGUMENT' ? 'ERR_ARGUMENT' : 'ERR_ENGINE_BUILD', `TensorRT could not build ${modelPath}: ${error.message}${detail}`, { cause: err });
}

async function readOptional(file: string): Promise<Buffer | null> {
  return fs.readFile(file).catch(() => null);
}

/** The plan for `modelPath` under these options: from the cache when valid, else built now. */
export async function buildTensorRtPlan(
  modelPath: string,
  options: TensorRtBuildOptions,
  loaded?: { addon: TensorRtAddon; info: NativeTensorRtRuntimeInfo },
  modelBytes?: Uint8Array,
): Promise<TensorRtPlanResult> {
  checkOptions(options);
  const { addon, info } = loaded ?? (await loadTensorRtModule());
  const device = options.device ?? 0;
  const tensorrtVersion = tensorRtVersionOf(info);
  const gpu = gpuOf(info, device);
  const bytes =
    modelBytes ??
    (await fs.readFile(modelPath).catch((err: Error) => {
      throw new Int8DetectError('ERR_MODEL', `Cannot read the model ${modelPath}: ${err.message}`, { cause: err });
    }));
  const modelInfo = readModelInfo(bytes);
  const quantized = isQuantizedModel(countGraphOps(bytes));
  const decision = await decideInt8(modelPath, quantized, options, info);
  const inputShapes = resolveInputShapes(modelInfo.inputs, options.inputShapes);
  const profiles = inputShapes.some(isDynamicRange) ? (options.concurrency ?? 1) : 1;
  const key: PlanCacheKey = {
    model: { sha256: sha256(bytes), bytes: bytes.byteLength },
    precision: options.precision,
    int8Mode: decision.int8Mode,
    calibration: decision.calibration,
    inputShapes,
    profiles,
    tensorrt: tensorrtVersion,
    gpu,
    dlaCore: options.dlaCore ?? null,
  };
  const cacheDir = options.cacheDir ?? config.cacheDir;
  const planPath = path.resolve(options.plan ?? defaultPlanPath(cacheDir, modelPath, key));

  let why: string;
  if (options.rebuild) {
    why = 'a rebuild was requested';
  } else if (!decision.cacheable) {
    why = 'the calibrator has no calibrationId, so no cached plan can be matched to its data';
  } else {
    const found = await lookupPlan(planPath, key);
    if (found.status === 'hit') {
      return { planPath, plan: found.plan, sidecar: found.sidecar, fromCache: true, reason: `reused the cached plan ${planPath}`, tensorrtVersion, gpu };
    }
    why = found.reason;
  }

  const timingPath = timingCachePath(cacheDir, tensorrtVersion, gpu);
  const calibrationInput = inputShapes[0];
  const calibrationElements = calibrationInput ? elementCount(calibrationInput.opt) : 1;
  const pull =
    decision.int8Mode === 'implicit' && options.calibrator !== undefined
      ? calibrationPull(options.calibrator, {
          inputName: calibrationInput.name,
          elementsPerBatch: calibrationElements,
          onBatch: (batches) => options.onProgress?.({ kind: 'calibration', batches }),
        })
      : undefined;
  if (options.signal?.aborted) throw new Int8DetectError('ERR_ARGUMENT', `The TensorRT build of ${modelPath} was aborted before it started`);
  const started = Date.now();
  const handle = addon.buildPlan({
    model: bytes,
    modelPath: path.resolve(modelPath),
    precision: options.precision,
    int8Mode: decision.int8Mode,
    calibrator: options.calibrationAlgorithm ?? 'entropy2',
    calibrationCache: decision.calibrationCache,
    pull: pull?.pull ?? null,
    calibrationElements,
    batchTimeoutMs: options.batchTimeoutMs ?? DEFAULT_BATCH_TIMEOUT_MS,
    inputShapes,
    profiles,
    workspaceBytes: options.workspaceBytes ?? 0,
    timingCache: await readOptional(timingPath),
    dlaCore: options.dlaCore ?? -1,
    gpuFallback: options.gpuFallback ?? true,
    device,
    onProgress: options.onProgress ? (progress) => options.onProgress?.({ kind: 'phase', progress }) : null,
  });
  const onAbort = () => handle.abort(`aborted by the caller's AbortSignal${options.signal?.reason ? `: ${String(options.signal.reason)}` : ''}`);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let result;
  try {
    result = await handle.promise;
  } catch (err) {
    throw nativeBuildError(modelPath, err);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }

  const sidecar = await storePlan(planPath, key, result.plan, {
    modelPath: path.resolve(modelPath),
    workspaceBytes: options.workspaceBytes ?? 0,
    gpuFallback: options.gpuFallback ?? true,
    calibrationBatches: result.calibrationBatches,
    seconds: (Date.now() - started) / 1000,
    builtAt: new Date().toISOString(),
    warnings: result.log.filter((line) => line.startsWith('warning')),
  });
  if (result.timingCache) await writeFileAtomic(timingPath, result.timingCache);
  let calibrationCachePath: string | undefined;
  if (result.calibrationCache) {
    // Validate what TensorRT wrote before keeping it: a cache we cannot read back helps no one.
    parseCalibrationCache(result.calibrationCache, 'the calibration cache TensorRT wrote');
    calibrationCachePath = planPath.replace(/\.plan$/, '') + '.calib';
    await writeFileAtomic(calibrationCachePath, result.calibrationCache);
  }
  return { planPath, plan: result.plan, sidecar, fromCache: false, reason: `built a new plan: ${why}`, tensorrtVersion, gpu, ...(calibrationCachePath ? { calibrationCachePath } : {}) };
}
