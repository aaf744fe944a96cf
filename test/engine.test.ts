import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { createEngine, type Engine } from '../lib/engine';
import type { RawFrame } from '../lib/image/frame';
import { fromXywh, iou } from './helpers/boxes';
import { coco, models } from './helpers/fixtures';

// Ground truth from coco/eval/instances.json for two images used below.
const SHEEP = { file: '000000187334.jpg', box: fromXywh([118, 165, 325, 235]) };
const MOTORCYCLE = { file: '000000084533.jpg', motorcycle: fromXywh([14, 150, 576, 411]), person: fromXywh([132, 52, 241, 346]) };

async function rgbFrame(file: string): Promise<RawFrame> {
  const { data, info } = await sharp(path.join(coco.evalImages, file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, format: 'rgb' };
}

let yolox: Engine;
test.before(async () => {
  yolox = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
});
test.after.always(async () => {
  await yolox?.dispose();
});

test('the YOLOX fixture is recognised with no flags and runs on ONNX Runtime', (t) => {
  const { info } = yolox;
  t.is(info.backend, 'onnxruntime');
  t.is(info.device, 'cpu');
  t.is(info.precision, 'fp32');
  t.is(info.model.family, 'yolox');
  t.deepEqual(
    { order: info.preprocess.channelOrder, scale: info.preprocess.scale, placement: info.preprocess.placement, pad: info.preprocess.padValue },
    { order: 'bgr', scale: 1, placement: 'topleft', pad: 114 },
  );
  t.is(info.preprocess.width, 416);
  t.is(info.labels.length, 80);
  t.is(info.labels[0], 'person');
  t.regex(info.reasons.backend, /ONNX Runtime/);
  t.regex(info.reasons.model, /yolox/i);
});

test('detect() finds the labelled objects, in source pixels, from a path, a Buffer and raw frames', async (t) => {
  const file = path.join(coco.evalImages, MOTORCYCLE.file);
  const fromPath = await yolox.detect(file);
  const fromBuffer = await yolox.detect(await fs.readFile(file));
  const rgb = await rgbFrame(MOTORCYCLE.file);
  const fromRgb = await yolox.detect(rgb);
  t.deepEqual(fromBuffer, fromPath);
  t.deepEqual(fromRgb, fromPath);

  const motorcycle = fromPath.find((d) => d.label === 'motorcycle');
  const person = fromPath.find((d) => d.label === 'person');
  t.truthy(motorcycle, JSON.stringify(fromPath));
  t.truthy(person);
  t.true(iou(motorcycle!.box, MOTORCYCLE.motorcycle) > 0.7, `motorcycle IoU ${iou(motorcycle!.box, MOTORCYCLE.motorcycle)}`);
  t.true(iou(person!.box, MOTORCYCLE.person) > 0.7, `person IoU ${iou(person!.box, MOTORCYCLE.person)}`);
  for (const d of fromPath) {
    t.true(d.box.x1 >= 0 && d.box.y1 >= 0 && d.box.x2 <= rgb.width && d.box.y2 <= rgb.height, 'clipped to the frame');
    t.true(d.score >= 0.25 && d.score <= 1);
    t.is(d.label, yolox.info.labels[d.classId]);
  }
  for (let i = 1; i < fromPath.length; i++) t.true(fromPath[i - 1].score >= fromPath[i].score, 'best first');
});

test('BGR, BGRA, padded-stride and NV12 frames of the same picture give the same objects', async (t) => {
  const rgb = await rgbFrame(SHEEP.file);
  const { width, height } = rgb;
  const bgr = Buffer.alloc(rgb.data.length);
  const stride = width * 4 + 64;
  const bgra = Buffer.alloc(stride * height, 7);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      bgr[s] = rgb.data[s + 2];
      bgr[s + 1] = rgb.data[s + 1];
      bgr[s + 2] = rgb.data[s];
      const d = y * stride + x * 4;
      bgra[d] = rgb.data[s + 2];
      bgra[d + 1] = rgb.data[s + 1];
      bgra[d + 2] = rgb.data[s];
      bgra[d + 3] = 255;
    }
  }
  const reference = await yolox.detect(rgb);
  t.deepEqual(await yolox.detect({ data: bgr, width, height, format: 'bgr' }), reference);
  t.deepEqual(await yolox.detect({ data: bgra, width, height, format: 'bgra', stride }), reference);

  // NV12 through a real video encoder's colour conversion: ffmpeg-free, by our own BT.601 maths.
  const nv12 = Buffer.alloc(width * height * 1.5);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      const [r, g, b] = [rgb.data[s], rgb.data[s + 1], rgb.data[s + 2]];
      nv12[y * width + x] = Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b);
      if (y % 2 === 0 && x % 2 === 0) {
        const o = width * height + (y / 2) * width + x;
        nv12[o] = Math.round(128 - 0.148 * r - 0.291 * g + 0.439 * b);
        nv12[o + 1] = Math.round(128 + 0.439 * r - 0.368 * g - 0.071 * b);
      }
    }
  }
  const fromNv12 = await yolox.detect({ data: nv12, width, height, format: 'nv12' });
  const sheep = fromNv12.find((d) => d.label === 'sheep');
  t.truthy(sheep, JSON.stringify(fromNv12));
  t.true(iou(sheep!.box, SHEEP.box) > 0.8);
  t.true(iou(sheep!.box, reference.find((d) => d.label === 'sheep')!.box) > 0.95);
});

test('8 concurrent detect() calls return exactly what 8 serial calls return', async (t) => {
  const files = (await fs.readdir(coco.evalImages)).sort().slice(0, 8);
  const frames = await Promise.all(files.map(rgbFrame));
  const serial = [];
  for (const frame of frames) serial.push(await yolox.detect(frame));
  const concurrent = await Promise.all(frames.map((frame) => yolox.detect(frame)));
  t.deepEqual(concurrent, serial);
  t.true(serial.flat().length > 8, 'the images hold objects');
});

test('concurrent calls on an engine with two workers match serial calls too', async (t) => {
  const engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime', concurrency: 2, threads: 1 });
  try {
    t.is(engine.info.concurrency, 2);
    const files = (await fs.readdir(coco.evalImages)).sort().slice(8, 16);
    const frames = await Promise.all(files.map(rgbFrame));
    const serial = [];
    for (const frame of frames) serial.push(await yolox.detect(frame));
    t.deepEqual(await Promise.all(frames.map((f) => engine.detect(f))), serial);
  } finally {
    await engine.dispose();
  }
});

test('detect() options: threshold, class filter and maximum count', async (t) => {
  const file = path.join(coco.evalImages, MOTORCYCLE.file);
  const all = await yolox.detect(file, { scoreThreshold: 0.05 });
  const onlyPeople = await yolox.detect(file, { scoreThreshold: 0.05, classes: [0] });
  const top1 = await yolox.detect(file, { scoreThreshold: 0.05, maxDetections: 1 });
  t.true(all.length > onlyPeople.length);
  t.true(onlyPeople.length > 0 && onlyPeople.every((d) => d.classId === 0));
  t.deepEqual(top1, [all[0]]);
  t.true(all.every((d) => d.score > 0.05));
});

test('infer() runs raw tensors and returns the model outputs', async (t) => {
  const input = new Float32Array(3 * 416 * 416).fill(114);
  const outputs = await yolox.infer({ images: { data: input, dims: [1, 3, 416, 416] } });
  t.deepEqual(Object.keys(outputs), ['output']);
  t.deepEqual([...outputs.output.dims], [1, 3549, 85]);
  t.is(outputs.output.data.length, 3549 * 85);
  t.is(input[0], 114, "the caller's buffer is left intact");
  const again = await yolox.infer(input);
  t.deepEqual(again.output.data, outputs.output.data);
  await t.throwsAsync(yolox.infer({ images: { data: new Float32Array(10), dims: [1, 3, 416, 416] } }), { message: /dims \[1, 3, 416, 416\].*holds 10/ });
  await t.throwsAsync(yolox.infer({ images: { data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] } }), { message: /expects dims \[1, 3, 416, 416\]/ });
});

test('the YOLOv8 fixture works with no flags: Ultralytics preprocessing and names from its metadata', async (t) => {
  const engine = await createEngine({ model: models.yolov8n });
  try {
    const { info } = engine;
    t.is(info.model.family, 'yolov8');
    t.is(info.preprocess.channelOrder, 'rgb');
    t.is(info.preprocess.placement, 'center');
    t.true(Math.abs(info.preprocess.scale - 1 / 255) < 1e-9);
    t.is(info.preprocess.width, 640);
    t.is(info.labels[0], 'person');
    t.regex(info.reasons.model, /metadata/i);
    const found = await engine.detect(path.join(coco.evalImages, SHEEP.file));
    const sheep = found.find((d) => d.label === 'sheep');
    t.truthy(sheep, JSON.stringify(found));
    t.true(iou(sheep!.box, SHEEP.box) > 0.8);
  } finally {
    await engine.dispose();
  }
});

test('dispose() waits for calls in flight; later calls reject with ERR_DISPOSED', async (t) => {
  const engine = await createEngine({ model: models.yoloxNano });
  const frame = await rgbFrame(SHEEP.file);
  const inFlight = [engine.detect(frame), engine.detect(frame), engine.detect(frame)];
  const disposed = engine.dispose();
  const results = await Promise.all(inFlight);
  await disposed;
  t.is(results.length, 3);
  t.true(results.every((r) => r.some((d) => d.label === 'sheep')));
  const err = await t.throwsAsync(engine.detect(frame), { message: /disposed/ });
  t.is((err as { code?: string }).code, 'ERR_DISPOSED');
  await t.throwsAsync(engine.infer(new Float32Array(3 * 416 * 416)), { message: /disposed/ });
  await engine.dispose();
});

test('engines release their worker threads and can be created again and again', async (t) => {
  for (let i = 0; i < 3; i++) {
    const engine = await createEngine({ model: models.yoloxNano, threads: 1 });
    await engine.dispose();
  }
  t.pass();
});

test('bad frames are errors that name the problem', async (t) => {
  const err = async (frame: unknown, pattern: RegExp, code: string) => {
    const e = await t.throwsAsync(yolox.detect(frame as RawFrame), { message: pattern });
    t.is((e as { code?: string }).code, code, e?.message);
  };
  await err({ data: Buffer.alloc(100), width: 640, height: 480, format: 'rgb' }, /too small.*640x480 rgb.*needs 921600 bytes.*has 100/, 'ERR_FRAME');
  await err({ data: Buffer.alloc(100), width: 0, height: 480, format: 'rgb' }, /positive integer for frame.width but received 0/, 'ERR_ARGUMENT');
  await err({ data: Buffer.alloc(640 * 480 * 2), width: 641, height: 480, format: 'nv12' }, /nv12 frame needs an even width and height.*641x480/, 'ERR_FRAME');
  await err({ data: Buffer.alloc(640 * 480 * 2), width: 640, height: 479, format: 'i420' }, /even width and height/, 'ERR_FRAME');
  await err({ data: Buffer.alloc(100), width: 10, height: 10, format: 'yuyv' }, /Unknown frame format "yuyv"/, 'ERR_FRAME');
  await err({ data: Buffer.alloc(640 * 480 * 3), width: 640, height: 480, format: 'rgb', stride: 100 }, /stride of at least 1920/, 'ERR_ARGUMENT');
  await err(Buffer.from('not an image'), /Could not decode the image/, 'ERR_FRAME');
  await err(path.join(os.tmpdir(), 'no-such-image.jpg'), /Image file not found/, 'ERR_ARGUMENT');
  await err(42, /Expected a raw frame/, 'ERR_ARGUMENT');
});

test('bad detect() options are errors that name the option', async (t) => {
  const frame = await rgbFrame(SHEEP.file);
  await t.throwsAsync(yolox.detect(frame, { scoreThreshold: 2 }), { message: /scoreThreshold/ });
  await t.throwsAsync(yolox.detect(frame, { maxDetections: 0 }), { message: /maxDetections/ });
  await t.throwsAsync(yolox.detect(frame, { classes: [-1] }), { message: /classes/ });
});
