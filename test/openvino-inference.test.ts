/**
 * The openvino backend on the real fixtures, FP32 forced (so a BF16-capable CPU does not round):
 * the same detections as ONNX Runtime, from ONNX and from IR, serial and concurrent.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Detection } from '../lib/detect/types';
import { createEngine, type Engine } from '../lib/engine';
import { convertToOpenVinoIr } from '../lib/runtimes/openvino/convert';
import { runtimeStatusSync } from './helpers/runtime-status';
import { summarizePerfCounters } from '../lib/runtimes/openvino/perf-table';
import { coco, models } from './helpers/fixtures';
import { iou } from './helpers/boxes';

const status = runtimeStatusSync('openvino');
const ovTest = status.loaded ? test.serial : test.skip;
if (!status.loaded) console.log(`openvino-inference: skipped: ${status.reason}`);

const IMAGE_COUNT = 4;
let images: string[] = [];
let cacheDir = '';

test.before(async () => {
  images = (await fs.readdir(coco.evalImages)).sort().slice(0, IMAGE_COUNT).map((f) => path.join(coco.evalImages, f));
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-ov-'));
  process.env.INT8_DETECT_CACHE_DIR = cacheDir;
});
test.after.always(async () => {
  if (cacheDir) await fs.rm(cacheDir, { recursive: true, force: true });
});

async function detectAll(engine: Engine): Promise<Detection[][]> {
  const out: Detection[][] = [];
  for (const image of images) out.push(await engine.detect(image));
  return out;
}

/** Every confident detection of `expected` has one in `actual` of the same class at IoU > 0.99, and the counts agree. */
function assertSameDetections(t: import('ava').ExecutionContext, expected: Detection[][], actual: Detection[][], label: string): void {
  let matched = 0;
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i].filter((d) => d.score > 0.3);
    const got = actual[i].filter((d) => d.score > 0.25);
    for (const d of want) {
      const best = got.filter((g) => g.classId === d.classId).reduce((m, g) => Math.max(m, iou(g.box, d.box)), 0);
      t.true(best > 0.99, `${label}, image ${path.basename(images[i])}: ${d.label} at score ${d.score.toFixed(3)} has best IoU ${best.toFixed(4)}`);
      matched++;
    }
    t.is(actual[i].filter((d) => d.score > 0.3).length, want.length, `${label}, image ${path.basename(images[i])}: confident detection count`);
  }
  t.true(matched >= IMAGE_COUNT, `${label}: ${matched} confident detections compared`);
}

for (const [name, model] of [
  ['yolox_nano', models.yoloxNano],
  ['yolov8n', models.yolov8n],
] as const) {
  ovTest(`${name}: OpenVINO CPU (f32 forced) gives ONNX Runtime's detections`, async (t) => {
    const ort = await createEngine({ model, backend: 'onnxruntime' });
    const ov = await createEngine({ model, backend: 'openvino', openvino: { inferencePrecision: 'f32' } });
    try {
      t.is(ov.info.backend, 'openvino');
      t.is(ov.info.device, 'CPU');
      t.is(ov.info.precision, 'fp32');
      t.is(ov.info.inferencePrecision, 'f32');
      t.regex(ov.info.reasons.precision, /0 FakeQuantize nodes; 0 of \d+ convolution\/matmul layers run in INT8 kernels; float layers compute in f32 \(forced\)/);
      t.is(ov.info.runtimeVersion, status.version ?? '');
      assertSameDetections(t, await detectAll(ort), await detectAll(ov), name);
    } finally {
      await ort.dispose();
      await ov.dispose();
    }
  });
}

ovTest('an IR saved by convertToOpenVinoIr loads from its .xml and gives the ONNX model\'s detections', async (t) => {
  const xml = path.join(cacheDir, 'ir', 'yolox_nano.xml');
  await convertToOpenVinoIr(models.yoloxNano, xml);
  const written = (await fs.readdir(path.dirname(xml))).sort();
  t.deepEqual(written, ['yolox_nano.bin', 'yolox_nano.xml'], 'both files, no temporary names left');
  const onnx = await createEngine({ model: models.yoloxNano, backend: 'openvino', openvino: { inferencePrecision: 'f32' } });
  // backend 'auto' picks OpenVINO for an IR: nothing else runs it.
  const ir = await createEngine({ model: xml, openvino: { inferencePrecision: 'f32' } });
  try {
    t.is(ir.info.backend, 'openvino');
    t.is(ir.info.model.family, 'yolox', 'the family is recognised from the compiled model\'s output shape');
    t.is(ir.info.model.producer, 'OpenVINO IR');
    assertSameDetections(t, await detectAll(onnx), await detectAll(ir), 'IR');
  } finally {
    await onnx.dispose();
    await ir.dispose();
  }
});

ovTest('8 concurrent detect() calls on a pool of 4 infer requests give the serial detections', async (t) => {
  const engine = await createEngine({ model: models.yoloxNano, backend: 'openvino', concurrency: 4, openvino: { inferencePrecision: 'f32' } });
  try {
    t.is(engine.info.concurrency, 4);
    t.regex(engine.info.reasons.precision, /THROUGHPUT hint, 4 infer requests/);
    const eight = Array.from({ length: 8 }, (_, i) => images[i % images.length]);
    const serial: Detection[][] = [];
    for (const image of eight) serial.push(await engine.detect(image));
    const concurrent = await Promise.all(eight.map((image) => engine.detect(image)));
    t.deepEqual(concurrent, serial);
    t.true(serial.every((d) => d.length > 0));
  } finally {
    await engine.dispose();
  }
});

ovTest('perf counters: per-layer kernels and times, summed over runs, grouped by layer and exec type', async (t) => {
  const engine = await createEngine({ model: models.yoloxNano, backend: 'openvino', openvino: { inferencePrecision: 'f32', perfCounters: true } });
  try {
    await engine.detect(images[0]);
    await engine.detect(images[1]);
    const report = engine.perfCounters({ reset: true });
    if (!report) return t.fail('no counters with perfCounters: true');
    t.is(report.runs, 2);
    const convs = report.layers.filter((l) => l.nodeType === 'Convolution' && l.status === 'EXECUTED');
    t.true(convs.length > 50, `${convs.length} executed convolutions`);
    t.true(convs.every((l) => /f32|FP32/i.test(l.execType)), 'a float model forced to f32 runs FP32 kernels');
    const summary = summarizePerfCounters(report);
    t.true(summary.msPerRun > 0);
    t.is(summary.int8TimeShare, 0);
    t.is(summary.byLayerType[0].key, 'Convolution', 'convolutions take most of the time');
    t.is(engine.perfCounters()?.runs, 0, 'reset starts a new table');
  } finally {
    await engine.dispose();
  }
  const plain = await createEngine({ model: models.yoloxNano, backend: 'openvino' });
  t.is(plain.perfCounters(), undefined, 'no counters unless asked for');
  await plain.dispose();
});

ovTest('infer() returns the raw output tensor, and OpenVINO caches the compiled model under the engine cache', async (t) => {
  const engine = await createEngine({ model: models.yoloxNano, backend: 'openvino' });
  try {
    const outputs = await engine.infer(new Float32Array(3 * 416 * 416).fill(114));
    const output = Object.values(outputs)[0];
    t.deepEqual(output.dims, [1, 3549, 85]);
    t.true(output.data instanceof Float32Array);
    t.true((await fs.readdir(path.join(cacheDir, 'openvino'))).some((f) => f.endsWith('.blob')), 'a compiled blob in <cacheDir>/openvino');
  } finally {
    await engine.dispose();
  }
});
