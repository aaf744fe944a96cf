#!/usr/bin/env node
// The workload scripts/asan-openvino.sh runs under AddressSanitizer (needs `npm run build:ts`).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createEngine } = require('../dist/lib/index');
const { convertToOpenVinoIr } = require('../dist/lib/entries/openvino');
const { config } = require('../dist/lib/util/config');
const { openVinoModuleStatus } = require('../dist/lib/runtimes/openvino/module');

async function expectError(what, promise) {
  try {
    await promise;
  } catch (err) {
    console.log(`  refused as expected: ${what}: ${err.code} ${err.message.split('\n')[0].slice(0, 160)}`);
    return;
  }
  throw new Error(`${what} was not refused`);
}

async function main() {
  const status = await openVinoModuleStatus();
  if (!status.loaded) throw new Error(`the ASan OpenVINO module did not load: ${status.reason}`);
  console.log(`asan-openvino: ${status.file}, OpenVINO ${status.version}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-asan-ov-'));
  process.env.INT8_DETECT_CACHE_DIR = dir;
  const model = path.join(config.fixturesDir, 'models', 'yolox_nano.onnx');
  const images = path.join(config.fixturesDir, 'coco', 'eval', 'images');
  const files = fs.readdirSync(images).sort().slice(0, 4).map((f) => path.join(images, f));
  try {
    const fromBytes = await createEngine({ model: fs.readFileSync(model), backend: 'openvino', family: 'yolox', concurrency: 3, openvino: { perfCounters: true } });
    const found = await Promise.all([...files, ...files].map((f) => fromBytes.detect(f)));
    console.log(`  bytes, 8 concurrent detect(): ${found.map((d) => d.length).join(' ')} detections; ${fromBytes.perfCounters().layers.length} layers profiled`);
    await fromBytes.dispose();
    const xml = path.join(dir, 'ir', 'yolox_nano.xml');
    await convertToOpenVinoIr(model, xml);
    const ir = await createEngine({ model: xml, backend: 'openvino', openvino: { inferencePrecision: 'f32' } });
    console.log(`  IR: ${(await ir.detect(files[0])).length} detections; raw infer output ${Object.values(await ir.infer(new Float32Array(3 * 416 * 416))).map((o) => o.dims.join('x'))}`);
    await ir.dispose();
    // The IR with a dynamic batch (FreeReshapeBatch, reshape, the output check).
    const batched = await createEngine({ model: xml, backend: 'openvino', batch: 3 });
    console.log(`  IR, batch 3: ${(await batched.detectBatch(files.slice(0, 3))).map((d) => d.length).join(' ')} detections`);
    await batched.dispose();
    await expectError('device NPU', createEngine({ model, backend: 'openvino', device: 'NPU' }));
    fs.writeFileSync(xml, fs.readFileSync(xml, 'utf8').slice(0, 5000));
    await expectError('corrupt xml', createEngine({ model: xml, backend: 'openvino' }));
    fs.rmSync(xml.replace(/xml$/, 'bin'));
    await expectError('missing bin', createEngine({ model: xml, backend: 'openvino' }));
    // The quantization half of the module: statistics runner (extra outputs, f32 inference) and
    // the FakeQuantize emitter with its bias shifts, on a few calibration frames, then the IR it wrote.
    const { quantizeForOpenVino } = require('../dist/lib/runtimes/openvino/quantize');
    const { calibratorFromFolder } = require('../dist/lib/quantize/calibrator');
    const probeEngine = await createEngine({ model, backend: 'openvino' });
    const calibrator = await calibratorFromFolder(path.join(config.fixturesDir, 'coco', 'calib'), { preprocess: probeEngine.info.preprocess, inputName: 'images', limit: 4 });
    await probeEngine.dispose();
    const int8Xml = path.join(dir, 'int8', 'yolox_nano.int8.xml');
    fs.mkdirSync(path.dirname(int8Xml), { recursive: true });
    const quantized = await quantizeForOpenVino({ model, calibrator, out: int8Xml, equalize: { frames: 2 } });
    const int8 = await createEngine({ model: quantized.xmlPath, backend: 'openvino' });
    console.log(`  quantized IR (${quantized.plan.activations.length} activations, ${quantized.report.biasesShifted} biases shifted): ${(await int8.detect(files[0])).length} detections`);
    if (quantized.report.biasesShifted === 0) throw new Error('the emitter shifted no bias: the fast bias correction path did not run');
    await int8.dispose();
    console.log('asan-openvino: done, no AddressSanitizer report');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
