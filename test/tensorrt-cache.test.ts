/** The TensorRT engine cache: keys, sidecars, and when a plan on disk must be rebuilt. No GPU needed. */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalJson } from '../lib/util/hash';
import {
  defaultPlanPath,
  describeKeyDifference,
  lookupPlan,
  planKeyHash,
  sha256,
  sidecarPath,
  storePlan,
  timingCachePath,
  type PlanBuildRecord,
  type PlanCacheKey,
} from '../lib/runtimes/tensorrt/plan-cache';

const orin = { name: 'Orin', computeCapability: '8.7' };
const a100 = { name: 'NVIDIA A100-SXM4-40GB', computeCapability: '8.0' };

function key(overrides: Partial<PlanCacheKey> = {}): PlanCacheKey {
  return {
    model: { sha256: sha256('model bytes'), bytes: 11 },
    precision: 'int8',
    int8Mode: 'implicit',
    calibration: { kind: 'cache', algorithm: 'EntropyCalibration2', sha256: sha256('cache') },
    inputShapes: [{ name: 'images', min: [1, 3, 416, 416], opt: [1, 3, 416, 416], max: [1, 3, 416, 416] }],
    profiles: 1,
    tensorrt: '10.3.0',
    gpu: orin,
    dlaCore: null,
    ...overrides,
  };
}

const build: PlanBuildRecord = {
  modelPath: '/models/yolox_nano.onnx',
  workspaceBytes: 1 << 30,
  gpuFallback: true,
  calibrationBatches: 0,
  seconds: 42.5,
  builtAt: '2025-01-01T00:00:00.000Z',
  warnings: ['warning: some layers fall back to FP32'],
};

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-trt-cache-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the key hash does not depend on property order, and changes with every field', (t) => {
  const a = key();
  const reordered = Object.fromEntries(Object.entries(a).reverse()) as unknown as PlanCacheKey;
  t.is(planKeyHash(reordered), planKeyHash(a));
  t.is(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
  const variants: Partial<PlanCacheKey>[] = [
    { tensorrt: '10.3.1' },
    { gpu: a100 },
    { gpu: { name: 'Orin', computeCapability: '8.6' } },
    { precision: 'fp16', int8Mode: 'none', calibration: null },
    { calibration: { kind: 'cache', algorithm: 'EntropyCalibration2', sha256: sha256('other cache') } },
    { inputShapes: [{ name: 'images', min: [1, 3, 640, 640], opt: [1, 3, 640, 640], max: [1, 3, 640, 640] }] },
    { dlaCore: 0 },
    { model: { sha256: sha256('other model'), bytes: 11 } },
  ];
  const hashes = new Set(variants.map((v) => planKeyHash(key(v))));
  t.is(hashes.size, variants.length);
  t.false(hashes.has(planKeyHash(a)));
});

test('plan paths: one slot per model/precision/calibration, shared across TensorRT versions and GPUs; timing caches per GPU', (t) => {
  const base = defaultPlanPath('/cache', '/models/yolox_nano.onnx', key());
  t.regex(base, /^\/cache\/tensorrt\/yolox_nano-[0-9a-f]{12}-int8-implicit-[0-9a-f]{12}-[0-9a-f]{8}\.plan$/);
  t.is(defaultPlanPath('/cache', '/models/yolox_nano.onnx', key({ tensorrt: '10.4.0', gpu: a100 })), base, 'an upgrade rebuilds in place');
  t.not(defaultPlanPath('/cache', '/models/yolox_nano.onnx', key({ precision: 'fp16', int8Mode: 'none', calibration: null })), base);
  t.not(timingCachePath('/cache', '10.3.0', orin), timingCachePath('/cache', '10.3.0', a100));
  t.is(timingCachePath('/cache', '10.3.0', a100), '/cache/tensorrt/timing-10.3.0-NVIDIA-A100-SXM4-40GB-sm8.0.cache');
});

test('store then lookup: a hit, with the sidecar beside the plan and the plan bytes untouched', async (t) => {
  const dir = await tempDir(t);
  const planPath = path.join(dir, 'sub', 'yolox.plan');
  const plan = Buffer.from('a serialized TensorRT engine, byte for byte');
  const sidecar = await storePlan(planPath, key(), plan, build);
  t.deepEqual(await fs.readFile(planPath), plan, 'no header is prepended: trtexec and DeepStream load the file as is');
  const written = JSON.parse(await fs.readFile(sidecarPath(planPath), 'utf8'));
  t.deepEqual(written, sidecar);
  t.is(written.format, 'int8-detect-tensorrt-plan');
  t.is(written.version, 2);
  t.is(written.keyHash, planKeyHash(key()));
  t.deepEqual(written.key, key());
  t.deepEqual(written.artefact, { file: 'yolox.plan', bytes: plan.length, sha256: sha256(plan) });
  t.deepEqual(written.record, build);
  const found = await lookupPlan(planPath, key());
  t.is(found.status, 'hit');
  if (found.status === 'hit') t.deepEqual(found.plan, plan);
  t.deepEqual((await fs.readdir(path.dirname(planPath))).sort(), ['yolox.plan', 'yolox.plan.json'], 'no temporary files left');
});

test('another TensorRT version or another GPU: stale, never loaded, with the reason', async (t) => {
  const dir = await tempDir(t);
  const planPath = path.join(dir, 'yolox.plan');
  await storePlan(planPath, key(), Buffer.from('plan'), build);
  t.deepEqual(await lookupPlan(planPath, key({ tensorrt: '10.4.0' })), {
    status: 'stale',
    reason: `the plan ${planPath} cannot be used: it was built by TensorRT 10.3.0 and this is TensorRT 10.4.0`,
  });
  t.deepEqual(await lookupPlan(planPath, key({ gpu: a100 })), {
    status: 'stale',
    reason: `the plan ${planPath} cannot be used: it was built for Orin (compute capability 8.7) and this GPU is NVIDIA A100-SXM4-40GB (compute capability 8.0)`,
  });
  const both = await lookupPlan(planPath, key({ tensorrt: '8.6.1', gpu: a100, model: { sha256: sha256('new'), bytes: 3 } }));
  t.is(both.status, 'stale');
  if (both.status === 'stale') t.regex(both.reason, /TensorRT 10\.3\.0 .* 8\.6\.1; .*A100.*; the model file has changed since$/);
});

test('a missing, truncated or replaced plan, and a missing or broken sidecar, each need a rebuild', async (t) => {
  const dir = await tempDir(t);
  const planPath = path.join(dir, 'yolox.plan');
  t.deepEqual(await lookupPlan(planPath, key()), { status: 'missing', reason: `no plan at ${planPath}` });
  await storePlan(planPath, key(), Buffer.from('0123456789'), build);
  await fs.writeFile(planPath, '01234');
  t.regex((await lookupPlan(planPath, key()) as { reason: string }).reason, /does not match its sidecar \(truncated or replaced\)/);
  await fs.writeFile(planPath, '0123456780');
  t.is((await lookupPlan(planPath, key())).status, 'stale', 'same size, other bytes');
  await fs.rm(planPath);
  t.regex((await lookupPlan(planPath, key()) as { reason: string }).reason, /is missing beside its sidecar/);
  await fs.writeFile(planPath, 'plan');
  await fs.writeFile(sidecarPath(planPath), '{"format": "int8-detect-tensorrt-plan", ');
  t.regex((await lookupPlan(planPath, key()) as { reason: string }).reason, /is not valid JSON/);
  await fs.writeFile(sidecarPath(planPath), '{"format": "something-else"}');
  t.regex((await lookupPlan(planPath, key()) as { reason: string }).reason, /is not an int8-detect plan sidecar/);
  await fs.rm(sidecarPath(planPath));
  t.regex((await lookupPlan(planPath, key()) as { reason: string }).reason, /has no sidecar yolox\.plan\.json, so how it was built is unknown/);
});

test('describeKeyDifference names precision, calibration, shapes and DLA changes', (t) => {
  t.deepEqual(describeKeyDifference(key(), key()), []);
  t.deepEqual(describeKeyDifference(key(), key({ precision: 'fp16', int8Mode: 'none', calibration: null })), [
    'it is int8 (implicit) and fp16 was asked for',
    'its INT8 calibration differs',
  ]);
  t.deepEqual(describeKeyDifference(key(), key({ profiles: 2 })), ['its input shapes or optimization profiles differ']);
  t.deepEqual(describeKeyDifference(key({ dlaCore: 1 }), key()), ['it was built for DLA core 1']);
});
