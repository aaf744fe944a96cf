/**
 * Serialized TensorRT plans on disk, keyed by everything that makes a plan valid: the model's
 * hash, precision and INT8 mode, the calibration, the input shapes, the TensorRT version and the
 * GPU (name and compute capability). The key and the build settings go in a JSON sidecar beside
 * the plan (`x.plan` + `x.plan.json`), never into the plan itself, so trtexec and DeepStream load
 * our plans as they are. A plan whose sidecar names another TensorRT or GPU is rebuilt, never
 * loaded: TensorRT plans are only valid for the version and the GPU that built them.
 */
import * as path from 'node:path';
import { lookupArtefact, manifestPath, storeArtefact, type ArtefactKind, type ArtefactManifest } from '../../util/artefact-cache';
import { canonicalJson, fileSlug, keyHash, sha256 } from '../../util/hash';

export const SIDECAR_FORMAT = 'int8-detect-tensorrt-plan';
/** 2: the one artefact-cache manifest (artefact + record); version 1 sidecars are rebuilt. */
export const SIDECAR_VERSION = 2;

export interface GpuIdentity {
  name: string;
  computeCapability: string;
}

export interface InputShapeRange {
  name: string;
  min: number[];
  opt: number[];
  max: number[];
}

/** Where INT8 scales came from; null for FP32/FP16 and for Q/DQ models (their scales are in the model). */
export type CalibrationIdentity =
  | { kind: 'cache'; algorithm: string; sha256: string }
  | { kind: 'calibrator'; algorithm: 'entropy2' | 'minmax'; id: string };

export interface PlanCacheKey {
  model: { sha256: string; bytes: number };
  precision: 'fp32' | 'fp16' | 'int8';
  int8Mode: 'none' | 'implicit' | 'explicit';
  calibration: CalibrationIdentity | null;
  inputShapes: InputShapeRange[];
  /** Optimization profiles (one per concurrent context for dynamic shapes). */
  profiles: number;
  tensorrt: string;
  gpu: GpuIdentity;
  /** DLA core the plan was built for; null for the GPU. */
  dlaCore: number | null;
}

/** How a plan was built: recorded beside it, not part of its identity. */
export interface PlanBuildRecord {
  modelPath: string;
  workspaceBytes: number;
  gpuFallback: boolean;
  calibrationBatches: number;
  seconds: number;
  builtAt: string;
  /** TensorRT's warnings during the build. */
  warnings: string[];
}

/** The plan's manifest (`x.plan.json`): its key, its digest and how it was built (`record`). */
export type PlanSidecar = ArtefactManifest<PlanCacheKey, PlanBuildRecord>;

export type PlanLookup =
  | { status: 'hit'; plan: Buffer; sidecar: PlanSidecar }
  | { status: 'missing'; reason: string }
  | { status: 'stale'; reason: string };

export { sha256 };

export function planKeyHash(key: PlanCacheKey): string {
  return keyHash(key);
}

export const sidecarPath = manifestPath;

const slug = (text: string) => fileSlug(text);

/**
 * The plan's place in the cache. The name holds what chooses the plan (model, precision, INT8 mode,
 * calibration) but not the TensorRT version or the GPU: after an upgrade the same file is found,
 * its sidecar names the old version, and the plan is rebuilt in place instead of piling up.
 */
export function defaultPlanPath(cacheDir: string, modelPath: string, key: PlanCacheKey): string {
  const base = slug(path.basename(modelPath, path.extname(modelPath)));
  const calibration = key.calibration === null ? '' : `-${key.calibration.kind === 'cache' ? key.calibration.sha256 : sha256(key.calibration.id)}`.slice(0, 13);
  const shapes = sha256(canonicalJson([key.inputShapes, key.profiles, key.dlaCore])).slice(0, 8);
  return path.join(cacheDir, 'tensorrt', `${base}-${key.model.sha256.slice(0, 12)}-${key.precision}-${key.int8Mode}${calibration}-${shapes}.plan`);
}

/** One timing cache per TensorRT version and GPU, shared by every build there. */
export function timingCachePath(cacheDir: string, tensorrt: string, gpu: GpuIdentity): string {
  return path.join(cacheDir, 'tensorrt', `timing-${slug(tensorrt)}-${slug(gpu.name)}-sm${slug(gpu.computeCapability)}.cache`);
}

function describeGpu(gpu: GpuIdentity): string {
  return `${gpu.name} (compute capability ${gpu.computeCapability})`;
}

/** Why a plan built under `found` cannot serve `wanted`, one phrase per difference; empty when it can. */
export function describeKeyDifference(found: PlanCacheKey, wanted: PlanCacheKey): string[] {
  const reasons: string[] = [];
  if (found.tensorrt !== wanted.tensorrt) reasons.push(`it was built by TensorRT ${found.tensorrt} and this is TensorRT ${wanted.tensorrt}`);
  if (canonicalJson(found.gpu) !== canonicalJson(wanted.gpu)) reasons.push(`it was built for ${describeGpu(found.gpu)} and this GPU is ${describeGpu(wanted.gpu)}`);
  if (canonicalJson(found.model) !== canonicalJson(wanted.model)) reasons.push('the model file has changed since');
  if (found.precision !== wanted.precision || found.int8Mode !== wanted.int8Mode) {
    reasons.push(`it is ${found.precision}${found.int8Mode === 'none' ? '' : ` (${found.int8Mode})`} and ${wanted.precision}${wanted.int8Mode === 'none' ? '' : ` (${wanted.int8Mode})`} was asked for`);
  }
  if (canonicalJson(found.calibration) !== canonicalJson(wanted.calibration)) reasons.push('its INT8 calibration differs');
  if (canonicalJson(found.inputShapes) !== canonicalJson(wanted.inputShapes) || found.profiles !== wanted.profiles) reasons.push('its input shapes or optimization profiles differ');
  if (found.dlaCore !== wanted.dlaCore) reasons.push(`it was built for ${found.dlaCore === null ? 'the GPU' : `DLA core ${found.dlaCore}`}`);
  if (reasons.length === 0 && canonicalJson(found) !== canonicalJson(wanted)) reasons.push('its cache key differs');
  return reasons;
}

const PLAN: ArtefactKind<PlanCacheKey> = {
  format: SIDECAR_FORMAT,
  version: SIDECAR_VERSION,
  noun: 'plan',
  manifestNoun: 'sidecar',
  missingManifestHint: 'so how it was built is unknown',
  differences: describeKeyDifference,
};

/** Whether `planPath` holds a plan built for exactly `key`, checked against its sidecar and its hash. */
export async function lookupPlan(planPath: string, key: PlanCacheKey): Promise<PlanLookup> {
  const found = await lookupArtefact<PlanCacheKey, PlanBuildRecord>(PLAN, planPath, key);
  return found.status === 'hit' ? { status: 'hit', plan: found.bytes, sidecar: found.manifest } : found;
}

/** Write the plan, then its sidecar, each atomically; returns the sidecar written. */
export function storePlan(planPath: string, key: PlanCacheKey, plan: Uint8Array, build: PlanBuildRecord): Promise<PlanSidecar> {
  return storeArtefact(PLAN, planPath, key, plan, build);
}
