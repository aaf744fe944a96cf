/**
 * engine.detectBatch(): several frames per inference (createEngine's `batch`), with the model
 * given a dynamic batch dimension at load. The detections per frame equal detect()'s.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { int64Tensor } from '../lib/onnx/model';
import { convertToOpenVinoIr } from '../lib/runtimes/openvino/convert';
import { buildModelBytes, node } from './helpers/onnx-graph';
import { createEngine, type Engine, type EngineOptions } from '../lib/engine';
import { listImages } from '../lib/util/files';
import { Int8DetectError } from '../lib/util/errors';
import type { Detection } from '../lib/detect/types';
import { coco, models } from './helpers/fixtures';
import { runtimeStatusSync } from './helpers/runtime-status';

const openvino = runtimeStatusSync('openvino');
const ovTest = openvino.loaded ? test : test.skip;
if (!openvino.loaded) console.log(`engine-batch: OpenVINO tests skipped: ${openvino.reason}`);

/** Same detections: same classes and scores within 1e-3, boxes within 0.05 pixel. */
function assertSame(t: import('ava').ExecutionContext, a: Detection[], b: Detection[], what: string): void {
  t.is(a.length, b.length, `${what}: ${a.length} against ${b.length} detections`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    t.is(a[i].classId, b[i].classId, `${what}: detection ${i} class`);
    t.true(Math.abs(a[i].score - b[i].score) < 1e-3, `${what}: detection ${i} score ${a[i].score} against ${b[i].score}`);
    for (const k of ['x1', 'y1', 'x2', 'y2'] as const) t.true(Math.abs(a[i].box[k] - b[i].box[k]) < 0.05, `${what}: detection ${i} ${k}`);
  }
}

test('onnxruntime: detectBatch with batch 4 gives, frame by frame, what detect() gives', async (t) => {
  const files = (await listImages(coco.evalImages)).slice(0, 6);
  const single = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
  const batched = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime', batch: 4 });
  try {
    t.is(single.info.batch, 1);
    t.is(batched.info.batch, 4);
    t.is(batched.info.model.inputs[0].dims[0], 'batch', 'the session reads a dynamic batch');
    const expected = await Promise.all(files.map((f) => single.detect(f)));
    // 6 frames: one inference of 4, one of 2.
    const got = await batched.detectBatch(files);
    t.is(got.length, files.length);
    t.true(expected.every((d) => d.length > 0));
    got.forEach((d, i) => assertSame(t, d, expected[i], `frame ${i}`));
    // A batch engine still detects one frame at a time, and detectBatch of one frame works.
    assertSame(t, await batched.detect(files[0]), expected[0], 'detect() on the batch engine');
    assertSame(t, (await batched.detectBatch([files[1]]))[0], expected[1], 'a batch of one');
    t.deepEqual(await batched.detectBatch([]), []);
    // With batch 1, detectBatch runs the frames one per call.
    const one = await single.detectBatch(files.slice(0, 2));
    one.forEach((d, i) => assertSame(t, d, expected[i], `batch-1 engine, frame ${i}`));
  } finally {
    await single.dispose();
    await batched.dispose();
  }
});

test('onnxruntime: yolov8n with batch 2, and calls in flight at once', async (t) => {
  const files = (await listImages(coco.evalImages)).slice(6, 10);
  const single = await createEngine({ model: models.yolov8n, backend: 'onnxruntime' });
  const batched = await createEngine({ model: models.yolov8n, backend: 'onnxruntime', batch: 2, concurrency: 2 });
  try {
    const expected = await Promise.all(files.map((f) => single.detect(f)));
    const [a, b] = await Promise.all([batched.detectBatch(files.slice(0, 2)), batched.detectBatch(files.slice(2, 4))]);
    [...a, ...b].forEach((d, i) => assertSame(t, d, expected[i], `frame ${i}`));
  } finally {
    await single.dispose();
    await batched.dispose();
  }
});

test('bad batch options and arguments are refused with a clear error', async (t) => {
  for (const batch of [0, 1.5, 65, '4']) {
    const err = await t.throwsAsync(createEngine({ model: models.yoloxNano, backend: 'onnxruntime', batch: batch as number }), { instanceOf: Int8DetectError });
    t.is(err!.code, 'ERR_ARGUMENT');
    t.regex(err!.message, /options\.batch/);
  }
  const engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime', batch: 2 });
  try {
    const err = await t.throwsAsync(engine.detectBatch('frames.jpg' as unknown as string[]), { instanceOf: Int8DetectError });
    t.regex(err!.message, /Expected an array of frames for detectBatch\(frames\)/);
  } finally {
    await engine.dispose();
  }
});

/**
 * Opens the model as `options` says, once with batch 1 and once with `batch`, and checks that
 * detectBatch(files) gives, frame by frame, what detect() gives; `inspect` adds its own checks.
 */
async function assertBatchAsSingle(
  t: import('ava').ExecutionContext,
  options: EngineOptions,
  batch: number,
  files: string[],
  what: string,
  inspect?: (batched: Engine, expected: Detection[][]) => void,
): Promise<void> {
  const single = await createEngine(options);
  const batched = await createEngine({ ...options, batch });
  try {
    const expected = await Promise.all(files.map((f) => single.detect(f)));
    inspect?.(batched, expected);
    const got = await batched.detectBatch(files);
    got.forEach((d, i) => assertSame(t, d, expected[i], `${what} frame ${i}`));
  } finally {
    await single.dispose();
    await batched.dispose();
  }
}

ovTest('openvino: detectBatch on the ONNX model with batch 3', async (t) => {
  const files = (await listImages(coco.evalImages)).slice(0, 3);
  await assertBatchAsSingle(t, { model: models.yoloxNano, backend: 'openvino' }, 3, files, 'yolox_nano');
});

ovTest('openvino: an IR (batch 1 as converted) runs detectBatch with batch 3, the constant-batch Reshapes of the head freed', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-ir-batch-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  for (const [name, model] of [
    ['yolox_nano', models.yoloxNano],
    ['yolov8n', models.yolov8n],
  ] as const) {
    const xml = path.join(dir, `${name}.xml`);
    await convertToOpenVinoIr(model, xml);
    const files = (await listImages(coco.evalImages)).slice(0, 3);
    // f32: BF16 (the default on a BF16 CPU) may round a batch differently from a single frame.
    await assertBatchAsSingle(t, { model: xml, backend: 'openvino', openvino: { inferencePrecision: 'f32' } }, 3, files, name, (batched, expected) => {
      t.is(batched.info.batch, 3);
      t.true(expected.flat().length > 5, `${name}: ${expected.flat().length} detections`);
    });
  }
});

ovTest('openvino: an IR whose graph fixes the batch is refused with batch > 1, not run with frames mixed', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-ir-fixed-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  // [1, 3, 8, 8] -> Reshape to [2, -1]: with batch N the batch would fold into the second axis.
  const bytes = buildModelBytes({
    nodes: [node('Reshape', ['images', 'shape'], ['output'])],
    initializers: [int64Tensor('shape', [2], [2, -1])],
    input: { name: 'images', dims: [1, 3, 8, 8] },
    outputs: ['output'],
  });
  const xml = path.join(dir, 'fixed.xml');
  await convertToOpenVinoIr(bytes, xml);
  const error = await t.throwsAsync(createEngine({ model: xml, backend: 'openvino', batch: 2, family: 'yolox' }));
  t.regex(error!.message, /dynamic batch dimension: output .* keeps \[2,\?\]|fixes the batch/);
  t.log(error!.message);
});
