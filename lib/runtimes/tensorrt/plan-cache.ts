/**
 * Serialized TensorRT plans on disk, keyed by everything that makes a plan valid: the model's
 * hash, precision and INT8 mode, the calibration, the input shapes, the TensorRT version and the
 * GPU (name and compute capability). The key and the build settings go in a JSON sidecar beside
 * the plan (`x.plan` + `x.plan.json`), never into the plan itself, so trtexec and DeepStream load
 * our plans as they are. A plan whose sidecar names another TensorRT or GPU is rebuilt, never
 * loaded: TensorRT plans are only valid for the version and the GPU that built them.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError } from '../../util/errors';
import { writeFileAtomic } from '../../util/files';

export const SIDECAR_FORMAT = 'int8-detect-tensorrt-plan';
export const SIDECAR_VERSION = 1;

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

export interface PlanSidecar {
  format: typeof SIDECAR_FORMAT;
  version: typeof SIDECAR_VERSION;
  keyHash: string;
  key: PlanCacheKey;
  plan: { file: string; bytes: number; sha256: string };
  build: PlanBuildRecord;
}

export type PlanLookup =
  | { status: 'hit'; plan: Buffer; sidecar: PlanSidecar }
  | { status: 'missing'; reason: string }
  | { status: 'stale'; reason: string };

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** JSON with object keys sorted at every level, so equal keys hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function planKeyHash(key: PlanCacheKey): string {
  return sha256(canonicalJson(key));
}

export function sidecarPath(planPath: string): string {
  return `${planPath}.json`;
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

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

function isSidecar(value: unknown): value is PlanSidecar {
  const v = value as PlanSidecar;
  return (
    typeof v === 'object' && v !== null && v.format === SIDECAR_FORMAT && typeof v.keyHash === 'string' &&
    typeof v.key === 'object' && v.key !== null && typeof v.plan === 'object' && v.plan !== null &&
    typeof v.plan.sha256 === 'string' && typeof v.plan.bytes === 'number'
  );
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Int8DetectError('ERR_ARGUMENT', `Cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Whether `planPath` holds a plan built for exactly `key`, checked against its sidecar and its hash. */
export async function lookupPlan(planPath: string, key: PlanCacheKey): Promise<PlanLookup> {
  const sidecarBytes = await readIfExists(sidecarPath(planPath));
  const plan = await readIfExists(planPath);
  if (sidecarBytes === undefined && plan === undefined) return { status: 'missing', reason: `no plan at ${planPath}` };
  if (sidecarBytes === undefined) return { status: 'stale', reason: `${planPath} has no sidecar ${path.basename(sidecarPath(planPath))}, so how it was built is unknown` };
  let sidecar: unknown;
  try {
    sidecar = JSON.parse(sidecarBytes.toString('utf8'));
  } catch {
    return { status: 'stale', reason: `the sidecar ${sidecarPath(planPath)} is not valid JSON` };
  }
  if (!isSidecar(sidecar)) return { status: 'stale', reason: `the sidecar ${sidecarPath(planPath)} is not an int8-detect plan sidecar` };
  const differences = describeKeyDifference(sidecar.key, key);
  if (differences.length > 0) return { status: 'stale', reason: `the plan ${planPath} cannot be used: ${differences.join('; ')}` };
  if (plan === undefined) return { status: 'stale', reason: `the plan ${planPath} is missing beside its sidecar` };
  if (plan.length !== sidecar.plan.bytes || sha256(plan) !== sidecar.plan.sha256) {
    return { status: 'stale', reason: `the plan ${planPath} does not match its sidecar (truncated or replaced)` };
  }
  return { status: 'hit', plan, sidecar };
}

/** Write the plan, then its sidecar, each atomically; returns the sidecar written. */
export async function storePlan(planPath: string, key: PlanCacheKey, plan: Uint8Array, build: PlanBuildRecord): Promise<PlanSidecar> {
  const sidecar: PlanSidecar = {
    format: SIDECAR_FORMAT,
    version: SIDECAR_VERSION,
    keyHash: planKeyHash(key),
    key,
    plan: { file: path.basename(planPath), bytes: plan.byteLength, sha256: sha256(plan) },
    build,
  };
  await writeFileAtomic(planPath, plan);
  await writeFileAtomic(sidecarPath(planPath), `${JSON.stringify(sidecar, null, 2)}\n`);
  return sidecar;
}
