/**
 * The TensorRT backend where TensorRT is not built (every machine of this project's CI): probe()
 * says why, createEngine refuses with that reason, 'auto' falls back, the core still loads; plus
 * the parts of the backend that need no GPU (module loading in a child process, shapes, versions).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import '../lib/runtimes/builtin';
import { backendDescriptor } from '../lib/runtimes/registry';
import { parseCudaDevice } from '../lib/runtimes/tensorrt/descriptor';
import { parseShapeFlag } from '../lib/cli/commands/build';
import { createEngine } from '../lib/engine';
import { Int8DetectError } from '../lib/util/errors';
import { loadCoreAddon } from '../lib/native/core-addon';
import { optionalModulePath } from '../lib/native/optional-module';
import { probe } from '../lib/probe';
import { resolveInputShapes } from '../lib/runtimes/tensorrt/input-shapes';
import { loadTensorRtModule, tensorRtModuleStatus } from '../lib/runtimes/tensorrt/module';
import { decodeTensorRtVersion, encodeTensorRtVersion, formatTensorRtVersion } from '../lib/runtimes/tensorrt/version';
import { runCli } from './helpers/cli';
import { models } from './helpers/fixtures';

const run = promisify(execFile);
const moduleBuilt = fs.existsSync(optionalModulePath('tensorrt'));

test('the module path probe() names is the one the loader loads', async (t) => {
  const status = await tensorRtModuleStatus();
  t.is(status.file, optionalModulePath('tensorrt'));
});

const notBuilt = moduleBuilt ? test.skip : test;

notBuilt('probe(): TensorRT unavailable, saying the module is not built and what the CUDA probe saw', async (t) => {
  const report = await probe({ refresh: true });
  const trt = report.backends.tensorrt;
  t.false(trt.available);
  t.is(trt.version, undefined);
  t.deepEqual(trt.devices, []);
  t.regex(trt.reason ?? '', /^the TensorRT module is not built \(no build\/Release\/int8_detect_tensorrt\.node in .*\): install TensorRT .* run 'npm run build:native'/);
  t.regex(trt.reason ?? '', /\. CUDA probe: /);
  const status = await tensorRtModuleStatus();
  t.false(status.loaded);
  if (!status.loaded) t.false(status.built);
});

notBuilt("createEngine({ backend: 'tensorrt' }) throws TensorRT's reason; 'auto' falls back to ONNX Runtime", async (t) => {
  const report = await probe();
  const err = await t.throwsAsync(createEngine({ model: models.yoloxNano, backend: 'tensorrt' }), { instanceOf: Int8DetectError });
  t.is((err as Int8DetectError).code, 'ERR_BACKEND_UNAVAILABLE');
  t.true(err?.message.includes(report.backends.tensorrt.reason ?? '<none>'), err?.message);
  const engine = await createEngine({ model: models.yoloxNano });
  t.teardown(() => engine.dispose());
  // The next usable backend: OpenVINO where its module is built (CI), else ONNX Runtime.
  t.is(engine.info.backend, report.backends.openvino.available ? 'openvino' : 'onnxruntime');
  t.true(engine.info.reasons.backend.includes(`Skipped TensorRT: ${report.backends.tensorrt.reason}`), engine.info.reasons.backend);
  const detections = await engine.detect({ data: new Uint8Array(64 * 48 * 3).fill(90), width: 64, height: 48, format: 'rgb' });
  t.true(Array.isArray(detections));
  t.is(typeof loadCoreAddon().testCalibrationBridge, 'function', 'the core addon still loads, with the bridge test entry point');
});

notBuilt("the tensorrt descriptor's open() and loadTensorRtModule refuse TensorRT with the reason, without crashing", async (t) => {
  const open = backendDescriptor('tensorrt').open({ modelPath: models.yoloxNano, modelBytes: fs.readFileSync(models.yoloxNano), precision: 'fp32', concurrency: 1, threads: 0, cacheDir: os.tmpdir() });
  await t.throwsAsync(open, { instanceOf: Int8DetectError, message: /^TensorRT cannot run here: the TensorRT module is not built/ });
  await t.throwsAsync(loadTensorRtModule(), { instanceOf: Int8DetectError, message: /^TensorRT cannot run here: the TensorRT module is not built/ });
  t.is(backendDescriptor('onnxruntime').name, 'onnxruntime');
});

test('a module file that is not a library fails its test load in a child process, as a reason', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-trt-module-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'int8_detect_tensorrt.node');
  fs.writeFileSync(file, 'not an ELF file');
  const status = await tensorRtModuleStatus({ file });
  t.false(status.loaded);
  if (!status.loaded) {
    t.true(status.built);
    t.regex(status.reason, /^int8_detect_tensorrt\.node failed to load in a test process: .*(invalid ELF header|file too short|not a valid)/i);
  }
  t.is(await tensorRtModuleStatus({ file }), status, 'tried once per process');
});

const compilerPresent = (() => {
  try {
    return require('node:child_process').spawnSync('cc', ['--version']).status === 0;
  } catch {
    return false;
  }
})();

(compilerPresent && process.platform === 'linux' ? test : test.skip)(
  'a module that aborts while loading (a driver mismatch) kills only the test process, never this one',
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-trt-abort-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const source = path.join(dir, 'abort.c');
    fs.writeFileSync(source, '#include <stdlib.h>\n__attribute__((constructor)) static void load_fails(void) { abort(); }\n');
    const file = path.join(dir, 'int8_detect_tensorrt.node');
    await run('cc', ['-shared', '-fPIC', '-o', file, source]);
    const status = await tensorRtModuleStatus({ file });
    t.false(status.loaded);
    if (!status.loaded) t.regex(status.reason, /^loading int8_detect_tensorrt\.node killed a test process with SIGABRT.*the TensorRT or CUDA libraries do not match this driver$/);
    t.pass('this process is still running');
  },
);

test('TensorRT version numbers: both encodings, both ways', (t) => {
  t.deepEqual(decodeTensorRtVersion(8601), { major: 8, minor: 6, patch: 1 });
  t.deepEqual(decodeTensorRtVersion(100300), { major: 10, minor: 3, patch: 0 });
  t.deepEqual(decodeTensorRtVersion(110100), { major: 11, minor: 1, patch: 0 });
  t.is(formatTensorRtVersion(decodeTensorRtVersion(100812)), '10.8.12');
  for (const n of [8601, 8615, 100300, 101300, 110100]) t.is(encodeTensorRtVersion(decodeTensorRtVersion(n)), n);
  t.throws(() => decodeTensorRtVersion(0), { instanceOf: RangeError });
});

const info = (dims: (number | string)[] | null) => [{ name: 'images', elemType: 1, type: 'float32', dims }];

test('input shapes: fixed from the model, a dynamic batch defaults to 1, dynamic sizes must be given', (t) => {
  t.deepEqual(resolveInputShapes(info([1, 3, 416, 416])), [{ name: 'images', min: [1, 3, 416, 416], opt: [1, 3, 416, 416], max: [1, 3, 416, 416] }]);
  t.deepEqual(resolveInputShapes(info(['batch', 3, 640, 640])), [{ name: 'images', min: [1, 3, 640, 640], opt: [1, 3, 640, 640], max: [1, 3, 640, 640] }]);
  t.throws(() => resolveInputShapes(info(['batch', 3, 'height', 'width'])), {
    message: "Input 'images' has dynamic dimensions [batch, 3, height, width]: give inputShapes.images as a shape such as [1, 3, 640, 640] or as { min, opt, max }",
  });
  t.deepEqual(resolveInputShapes(info([-1, 3, -1, -1]), { images: { min: [1, 3, 320, 320], opt: [4, 3, 640, 640], max: [8, 3, 1280, 1280] } }), [
    { name: 'images', min: [1, 3, 320, 320], opt: [4, 3, 640, 640], max: [8, 3, 1280, 1280] },
  ]);
  t.throws(() => resolveInputShapes(info([1, 3, 416, 416]), { images: [1, 3, 640, 640] }), { message: /fixed dimension 416 at position 2/ });
  t.throws(() => resolveInputShapes(info([-1, 3, -1, -1]), { images: { min: [1, 3, 640, 640], opt: [1, 3, 320, 320], max: [1, 3, 640, 640] } }), {
    message: /min <= opt <= max/,
  });
  t.throws(() => resolveInputShapes(info([1, 3, 416, 416]), { input: [1, 3, 416, 416] }), { message: "inputShapes names 'input', but the model's inputs are 'images'" });
  t.throws(() => resolveInputShapes(info(null)), { message: "Input 'images' has no shape in the model: give inputShapes.images" });
  t.throws(() => resolveInputShapes(info([1, 3, 416, 416]), { images: [1, 3, 416] }), { message: /has 4 dimensions .* has 3/ });
});

test('CLI flag and device parsing', (t) => {
  t.deepEqual(parseShapeFlag('images=1x3x640x640'), ['images', [1, 3, 640, 640]]);
  t.deepEqual(parseShapeFlag('x=1x3x320x320:2x3x640x640:4x3x960x960'), ['x', { min: [1, 3, 320, 320], opt: [2, 3, 640, 640], max: [4, 3, 960, 960] }]);
  t.throws(() => parseShapeFlag('images=1x3x0x640'), { message: /--shape expects/ });
  t.throws(() => parseShapeFlag('images'), { message: /--shape expects/ });
  t.is(parseCudaDevice(undefined), 0);
  t.is(parseCudaDevice('cuda:2'), 2);
  t.is(parseCudaDevice('1'), 1);
  t.throws(() => parseCudaDevice('cpu'), { message: /Expected a CUDA device such as 'cuda:0'/ });
});

test('int8-detect build: usage errors exit 2; without TensorRT it exits 1 with the reason', async (t) => {
  const both = await runCli(['build', '--model', models.yoloxNano, '--precision', 'int8', '--calib', '/tmp', '--calib-cache', '/tmp/x.calib']);
  t.is(both.code, 2);
  t.regex(both.stderr, /give --calib DIR or --calib-cache FILE, not both/);
  const precision = await runCli(['build', '--model', models.yoloxNano, '--precision', 'fp64']);
  t.is(precision.code, 2);
  t.regex(precision.stderr, /--precision expects fp32, fp16 or int8, got fp64/);
  const help = await runCli(['build', '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /--calib-cache FILE/);
  if (moduleBuilt) return;
  const result = await runCli(['build', '--model', models.yoloxNano, '--precision', 'fp32']);
  t.is(result.code, 1);
  t.regex(result.stderr, /^int8-detect build: TensorRT cannot run here: the TensorRT module is not built/);
});
