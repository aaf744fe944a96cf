/**
 * buildTensorRtPlan's decisions, with a stand-in for int8_detect_tensorrt.node that records what it
 * is asked to build (no GPU, no TensorRT): the calibrator kind from a cache's header, optimization
 * profiles for symbolic inputs, the dims bound, DLA and min-max, the plan cache key, the error codes,
 * and a bad calibration cache from TensorRT never failing a good plan (issue 20).
 */
import test, { type ExecutionContext } from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Int8DetectError } from '../lib/util/errors';
import type { Calibrator } from '../lib/quantize/types';
import { buildTensorRtPlan, type TensorRtBuildOptions } from '../lib/runtimes/tensorrt/build-plan';
import type { NativeBuildOptions, NativeBuildResult, NativeTensorRtRuntimeInfo, TensorRtAddon } from '../lib/runtimes/tensorrt/native-types';
import { tinyModel } from './helpers/tiny-onnx';

interface FakeModule {
  loaded: { addon: TensorRtAddon; info: NativeTensorRtRuntimeInfo };
  builds: NativeBuildOptions[];
}

function orinInfo(multiprocessors = 16): NativeTensorRtRuntimeInfo {
  return {
    libraryVersion: 100300,
    compiled: { major: 10, minor: 3, patch: 0 },
    capabilities: { implicitInt8: true, precisionFlags: true, progressMonitor: true, alwaysStronglyTyped: false },
    cudaRuntimeVersion: 12060,
    cudaDriverVersion: 12060,
    devices: [{ index: 0, name: 'Orin', computeCapability: '8.7', totalMemoryBytes: 16 * 1024 ** 3, integrated: true, multiprocessors }],
  };
}

/** A module whose buildPlan resolves with `result` (or rejects with `failure`) and remembers its options. */
function fakeModule(result: Partial<NativeBuildResult> = {}, failure?: Error, info = orinInfo()): FakeModule {
  const builds: NativeBuildOptions[] = [];
  const addon: TensorRtAddon = {
    runtimeInfo: () => info,
    buildPlan(options) {
      builds.push(options);
      const built: NativeBuildResult = { plan: Buffer.from('a plan'), timingCache: null, calibrationCache: null, calibrationBatches: 0, log: [], ...result };
      return { promise: failure ? Promise.reject(failure) : Promise.resolve(built), abort: () => undefined };
    },
    loadEngine: () => Promise.reject(new Error('not used here')),
    napiVersion: 8,
  };
  return { loaded: { addon, info }, builds };
}

const fixedModel = tinyModel({ inputDims: [1, 3, 32, 32], outputDims: [1, 6, 4] });
const symbolicBatchModel = tinyModel({ inputDims: ['batch', 3, 32, 32], outputDims: [1, 6, 4] });

async function scratch(t: ExecutionContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-trt-plan-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function build(t: ExecutionContext, module: FakeModule, options: Partial<TensorRtBuildOptions>, model = fixedModel, dir?: string) {
  const cacheDir = dir ?? (await scratch(t));
  return buildTensorRtPlan(path.join(cacheDir, 'model.onnx'), { precision: 'fp32', cacheDir, ...options }, module.loaded, model);
}

async function cacheFile(t: ExecutionContext, header: string): Promise<string> {
  const file = path.join(await scratch(t), 'model.calib');
  await fs.writeFile(file, `${header}\nimages: 3c010a14\n/conv/Conv_output_0: 3d8f5c29\n`);
  return file;
}

const calibrator: Calibrator = {
  batchSize: 1,
  size: 1,
  async *[Symbol.asyncIterator]() {
    yield { input: 'images', data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] };
  },
};

test('a calibration cache gets the calibrator that wrote it, picked from its header', async (t) => {
  const minmax = fakeModule();
  await build(t, minmax, { precision: 'int8', calibrationCache: await cacheFile(t, 'TRT-100300-MinMaxCalibration') });
  t.is(minmax.builds[0].calibrator, 'minmax', 'TensorRT ignores a cache read by another calibrator kind');
  t.regex(Buffer.from(minmax.builds[0].calibrationCache ?? []).toString('latin1'), /^TRT-100300-MinMaxCalibration\n/);
  const entropy = fakeModule();
  await build(t, entropy, { precision: 'int8', calibrationCache: await cacheFile(t, 'TRT-8601-EntropyCalibration2') });
  t.is(entropy.builds[0].calibrator, 'entropy2');
});

test('EntropyCalibration and LegacyCalibration caches are refused: no calibrator here reads them', async (t) => {
  for (const algorithm of ['EntropyCalibration', 'LegacyCalibration']) {
    const module = fakeModule();
    const file = await cacheFile(t, `TRT-100300-${algorithm}`);
    const err = await t.throwsAsync(build(t, module, { precision: 'int8', calibrationCache: file }), { instanceOf: Int8DetectError });
    t.is((err as Int8DetectError).code, 'ERR_ARGUMENT');
    t.is(
      err?.message,
      `The calibration cache ${file} was written by TensorRT's ${algorithm} calibrator, which int8-detect cannot run (TensorRT reads a cache only with the calibrator kind that wrote it): ` +
        'give an EntropyCalibration2 or MinMaxCalibration cache, or calibrate again',
    );
    t.is(module.builds.length, 0);
  }
});

test('a calibrationAlgorithm that contradicts the cache header is refused', async (t) => {
  const file = await cacheFile(t, 'TRT-100300-MinMaxCalibration');
  await t.throwsAsync(build(t, fakeModule(), { precision: 'int8', calibrationCache: file, calibrationAlgorithm: 'entropy2' }), {
    code: 'ERR_ARGUMENT',
    message: /was written by the MinMaxCalibration calibrator \('minmax'\), but calibrationAlgorithm is 'entropy2'/,
  });
});

test('concurrency: a symbolic input dimension gets one optimization profile per context, even at a fixed shape', async (t) => {
  const symbolic = fakeModule();
  const result = await build(t, symbolic, { concurrency: 4 }, symbolicBatchModel);
  t.is(symbolic.builds[0].profiles, 4);
  t.deepEqual(symbolic.builds[0].inputShapes, [{ name: 'images', min: [1, 3, 32, 32], opt: [1, 3, 32, 32], max: [1, 3, 32, 32] }]);
  t.is(result.sidecar.key.profiles, 4);
  const fixed = fakeModule();
  await build(t, fixed, { concurrency: 4 }, fixedModel);
  t.is(fixed.builds[0].profiles, 1, 'a fully fixed engine shares its one profile between contexts');
});

test('an input of more than 8 dimensions is refused before TensorRT sees it', async (t) => {
  const module = fakeModule();
  const model = tinyModel({ inputDims: [1, 1, 1, 1, 1, 1, 1, 3, 32], outputDims: [1, 6, 4] });
  await t.throwsAsync(build(t, module, {}, model), {
    code: 'ERR_ARGUMENT',
    message: "Input 'images' has 9 dimensions [1, 1, 1, 1, 1, 1, 1, 3, 32]; TensorRT takes at most 8",
  });
  t.is(module.builds.length, 0);
});

test('DLA with the min-max calibrator is refused: DLA needs Entropy2', async (t) => {
  const module = fakeModule();
  await t.throwsAsync(build(t, module, { precision: 'int8', calibrator, calibrationId: 'x', calibrationAlgorithm: 'minmax', dlaCore: 0 }), {
    code: 'ERR_ARGUMENT',
    message: /DLA core 0 needs the Entropy2 calibrator/,
  });
  const file = await cacheFile(t, 'TRT-100300-MinMaxCalibration');
  await t.throwsAsync(build(t, module, { precision: 'int8', calibrationCache: file, dlaCore: 0 }), { code: 'ERR_ARGUMENT', message: /DLA core 0 needs the Entropy2 calibrator/ });
  t.is(module.builds.length, 0);
});

test('the plan cache key holds gpuFallback on DLA and the GPU SM count (every Orin reports Orin 8.7)', async (t) => {
  const dir = await scratch(t);
  const first = await build(t, fakeModule(), { precision: 'fp16', dlaCore: 0, gpuFallback: true }, fixedModel, dir);
  t.false(first.fromCache);
  t.is(first.sidecar.key.gpu.multiprocessors, 16);
  t.true((await build(t, fakeModule(), { precision: 'fp16', dlaCore: 0, gpuFallback: true }, fixedModel, dir)).fromCache);
  const noFallback = await build(t, fakeModule(), { precision: 'fp16', dlaCore: 0, gpuFallback: false }, fixedModel, dir);
  t.false(noFallback.fromCache, 'a DLA plan without GPU fallback is another plan');
  const gpu = await build(t, fakeModule(), { precision: 'fp16' }, fixedModel, dir);
  t.false(gpu.fromCache);
  t.true((await build(t, fakeModule(), { precision: 'fp16', gpuFallback: false }, fixedModel, dir)).fromCache, 'gpuFallback does not matter off DLA');
  const smallerOrin = await build(t, fakeModule({}, undefined, orinInfo(8)), { precision: 'fp16' }, fixedModel, dir);
  t.false(smallerOrin.fromCache);
  t.regex(smallerOrin.reason, /it was built for Orin \(compute capability 8\.7, 16 SMs\) and this GPU is Orin \(compute capability 8\.7, 8 SMs\)/);
});

test('native build failures keep their code: calibration, abort, bad settings, TensorRT', async (t) => {
  for (const code of ['ERR_CALIBRATION', 'ERR_ABORTED', 'ERR_ARGUMENT', 'ERR_ENGINE_BUILD'] as const) {
    const failure = Object.assign(new Error(`failed with ${code}`), { code, log: [] });
    const err = await t.throwsAsync(build(t, fakeModule({}, failure), {}), { instanceOf: Int8DetectError });
    t.is((err as Int8DetectError).code, code);
  }
});

test('an abort before the build starts is ERR_ABORTED', async (t) => {
  const controller = new AbortController();
  controller.abort('shutting down');
  await t.throwsAsync(build(t, fakeModule(), { signal: controller.signal }), { code: 'ERR_ABORTED' });
});

test('a calibration cache TensorRT wrote that cannot be read back never fails the good plan: it is dropped with a warning', async (t) => {
  const dir = await scratch(t);
  const module = fakeModule({ calibrationCache: Buffer.from('not a calibration cache\n'), calibrationBatches: 1 });
  const result = await build(t, module, { precision: 'int8', calibrator, calibrationId: 'images-v1' }, fixedModel, dir);
  t.is(result.calibrationCachePath, undefined);
  t.is(result.plan.toString(), 'a plan');
  t.true(result.sidecar.record.warnings.some((w) => /the calibration cache TensorRT wrote is not a usable TensorRT calibration cache: line 1/.test(w)), result.sidecar.record.warnings.join(' | '));
  t.deepEqual((await fs.readdir(path.join(dir, 'tensorrt'))).filter((f) => f.endsWith('.calib')), []);
  const good = fakeModule({ calibrationCache: Buffer.from('TRT-100300-EntropyCalibration2\nimages: 3c010a14\n'), calibrationBatches: 1 });
  const kept = await build(t, good, { precision: 'int8', calibrator, calibrationId: 'images-v2' }, fixedModel, dir);
  t.truthy(kept.calibrationCachePath);
});
