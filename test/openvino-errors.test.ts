/**
 * Bad input on the openvino backend, each with a message that names the cause: OpenVINO absent
 * (the core still loads), an IR without its .bin, a device that is not present, a model OpenVINO
 * cannot read, an IR on another backend.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { convertToOpenVinoIr } from '../lib/runtimes/openvino/convert';
import { openVinoModuleStatus } from '../lib/runtimes/openvino/module';
import { runtimeStatusSync } from './helpers/runtime-status';
import { models } from './helpers/fixtures';

const status = runtimeStatusSync('openvino');
const ovTest = status.loaded ? test.serial : test.skip;
if (!status.loaded) console.log(`openvino-errors: tests that need the module skipped: ${status.reason}`);

let dir = '';
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-ov-errors-'));
  process.env.INT8_DETECT_CACHE_DIR = path.join(dir, 'cache');
});
test.after.always(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

// Runs without the module whether or not it is built: the override points at a file that is not there.
test('OpenVINO absent: probe() gives the reason, the core still loads and runs, backend openvino is refused with it', (t) => {
  const script = `
    const lib = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.js'))});
    (async () => {
      const report = await lib.probe();
      const engine = await lib.createEngine({ model: ${JSON.stringify(models.yoloxNano)} });
      const found = await engine.detect({ data: Buffer.alloc(64 * 48 * 3, 128), width: 64, height: 48, format: 'rgb' });
      await engine.dispose();
      let refused;
      try { await lib.createEngine({ model: ${JSON.stringify(models.yoloxNano)}, backend: 'openvino' }); } catch (err) { refused = { code: err.code, message: err.message }; }
      process.stdout.write(JSON.stringify({ openvino: report.backends.openvino, auto: engine.info.backend, detections: Array.isArray(found), refused }));
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const child = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, INT8_DETECT_OPENVINO_MODULE: path.join(os.tmpdir(), 'no-such-dir', 'int8_detect_openvino.node') },
  });
  t.is(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout);
  t.false(out.openvino.available);
  t.regex(out.openvino.reason, /the OpenVINO module is not built .*npm run setup:openvino.*npm run build:native/);
  t.regex(out.openvino.reason, /CPU: /, 'the reason carries the CPU INT8 features');
  t.is(out.auto, 'onnxruntime', "backend 'auto' falls back to ONNX Runtime");
  t.true(out.detections);
  t.is(out.refused.code, 'ERR_BACKEND_UNAVAILABLE');
  t.regex(out.refused.message, /Backend 'openvino' \(OpenVINO\) cannot run here: the OpenVINO module is not built/);
});

test('a module file that is not a library fails its test load in a child process, as a reason', async (t) => {
  const fake = path.join(dir, 'fake_openvino.node');
  await fs.writeFile(fake, 'not a shared library');
  const fakeStatus = await openVinoModuleStatus({ file: fake });
  t.false(fakeStatus.loaded);
  t.true(fakeStatus.built);
  t.regex(fakeStatus.reason ?? '', /fake_openvino\.node failed to load in a test process/);
});

ovTest('an IR whose .bin is missing is refused, naming the .bin', async (t) => {
  const xml = path.join(dir, 'nobin', 'model.xml');
  await convertToOpenVinoIr(models.yoloxNano, xml);
  await fs.rm(path.join(dir, 'nobin', 'model.bin'));
  const err = await t.throwsAsync(createEngine({ model: xml, backend: 'openvino' }));
  t.is((err as { code?: string }).code, 'ERR_MODEL');
  t.true(err?.message.includes(path.join(dir, 'nobin', 'model.bin')), err?.message);
  t.regex(err?.message ?? '', /no weights file beside it/);
});

ovTest('an IR on another backend is refused: only openvino runs IR', async (t) => {
  const xml = path.join(dir, 'ir', 'model.xml');
  await convertToOpenVinoIr(models.yoloxNano, xml);
  const err = await t.throwsAsync(createEngine({ model: xml, backend: 'onnxruntime' }));
  t.is((err as { code?: string }).code, 'ERR_MODEL');
  t.regex(err?.message ?? '', /is an OpenVINO model file: only backend 'openvino' runs it, not 'onnxruntime'/);
});

for (const device of ['NPU', 'GPU.7']) {
  ovTest(`device '${device}', not present here, is refused with the list of available devices`, async (t) => {
    if (status.devices.some((d) => d.startsWith(device))) return t.pass(`${device} is present on this machine`);
    const err = await t.throwsAsync(createEngine({ model: models.yoloxNano, backend: 'openvino', device }));
    t.is((err as { code?: string }).code, 'ERR_ARGUMENT');
    t.regex(err?.message ?? '', new RegExp(`the OpenVINO device '${device.replace('.', '\\.')}' is not present here; available devices: CPU \\(`));
  });
}

ovTest('a model OpenVINO cannot read: garbage bytes, a corrupt IR xml', async (t) => {
  // Not an ONNX protobuf either: the engine's own ONNX check stops it first, naming the model.
  const garbage = path.join(dir, 'garbage.onnx');
  await fs.writeFile(garbage, Buffer.from('this is not a model at all, just some text'.repeat(10)));
  const first = await t.throwsAsync(createEngine({ model: garbage, backend: 'openvino' }));
  t.is((first as { code?: string }).code, 'ERR_MODEL');
  t.true(first?.message.includes(garbage), first?.message);

  const xml = path.join(dir, 'corrupt', 'model.xml');
  await convertToOpenVinoIr(models.yoloxNano, xml);
  const text = await fs.readFile(xml, 'utf8');
  await fs.writeFile(xml, text.slice(0, Math.floor(text.length / 2)));
  const second = await t.throwsAsync(createEngine({ model: xml, backend: 'openvino' }));
  t.is((second as { code?: string }).code, 'ERR_MODEL');
  t.regex(second?.message ?? '', /OpenVINO cannot read the model .*corrupt.model\.xml/);
});

ovTest('an ONNX model that parses as protobuf but that OpenVINO cannot convert is refused by OpenVINO, naming it', async (t) => {
  // A valid ONNX file whose graph uses an operator no frontend knows.
  const { tinyModel } = await import('./helpers/tiny-onnx');
  const bytes = Buffer.from(tinyModel({ inputDims: [1, 3, 8, 8], outputDims: [1, 4, 85], bias: new Float32Array(4 * 85) }));
  // Same length, so every protobuf length prefix stays right.
  const broken = Buffer.from(bytes.toString('latin1').replace('ReduceMean', 'NoSuchOpXY'), 'latin1');
  t.false(broken.equals(bytes), 'the operator was renamed');
  const file = path.join(dir, 'unknown-op.onnx');
  await fs.writeFile(file, broken);
  const err = await t.throwsAsync(createEngine({ model: file, backend: 'openvino', family: 'yolox' }));
  t.is((err as { code?: string }).code, 'ERR_MODEL');
  t.regex(err?.message ?? '', /OpenVINO cannot read the model .*unknown-op\.onnx: /);
});

ovTest('bad openvino options are refused before anything native runs', async (t) => {
  const hint = await t.throwsAsync(createEngine({ model: models.yoloxNano, backend: 'openvino', openvino: { performanceHint: 'fast' as 'latency' } }));
  t.regex(hint?.message ?? '', /Expected 'latency' or 'throughput' for options\.openvino\.performanceHint but received "fast"/);
  const precision = await t.throwsAsync(createEngine({ model: models.yoloxNano, backend: 'openvino', openvino: { inferencePrecision: 'fp64' as 'f32' } }));
  t.regex(precision?.message ?? '', /options\.openvino\.inferencePrecision/);
});
