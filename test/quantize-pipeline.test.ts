import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { countGraphOps } from '../lib/onnx/graph-ops';
import { encodeModel } from '../lib/onnx/model';
import { readModelInfo } from '../lib/onnx/model-info';
import { resolveModelProfile } from '../lib/detect/profile';
import type { PreprocessSpec } from '../lib/detect/types';
import { calibratorFromFolder, calibratorFromFrames, calibratorFromAsyncFrames } from '../lib/quantize/calibrator';
import { emitQdqModel } from '../lib/quantize/emitters/qdq';
import { buildPlan, emitPlanJson } from '../lib/quantize/plan';
import { quantizeModel } from '../lib/runtimes/onnxruntime/quantize';
import { emitTensorRtCalibrationCache } from '../lib/quantize/emitters/tensorrt-cache';
import type { CalibrationBatch, Calibrator } from '../lib/quantize/types';
import { parseCalibrationCache } from '../lib/quantize/emitters/tensorrt-cache-format';
import { runCli } from './helpers/cli';
import { coco, models } from './helpers/fixtures';
import { buildModel, node, yolov5LikeModel } from './helpers/onnx-graph';
import { tinyModel } from './helpers/tiny-onnx';

let dir: string;
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-quantize-'));
});
test.after.always(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const smallSpec: PreprocessSpec = {
  width: 32,
  height: 32,
  layout: 'nchw',
  dtype: 'float32',
  channelOrder: 'rgb',
  scale: 1 / 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  placement: 'center',
  padValue: 114,
} as PreprocessSpec;

function gradientFrame(seed: number) {
  const data = new Uint8Array(40 * 30 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * (seed + 3) + seed * 17) % 256;
  return { data, width: 40, height: 30, format: 'rgb' as const };
}

/** A calibrator of fixed batches, for shapes and values the image calibrators never make. */
function batchesOf(...batches: CalibrationBatch[]): Calibrator {
  return {
    batchSize: 1,
    async *[Symbol.asyncIterator]() {
      yield* batches;
    },
  };
}

const yoloxProfile = async () => resolveModelProfile({ info: readModelInfo(await fs.readFile(models.yoloxNano)) });

test('yolox_nano: the Q/DQ model runs on ONNX Runtime with INT8 kernels and the engine reports int8', async (t) => {
  const profile = await yoloxProfile();
  const calibrator = await calibratorFromFolder(coco.calibImages, { preprocess: profile.preprocess, inputName: profile.inputName, limit: 3 });
  t.is(calibrator.warnings.length, 1);
  t.regex(calibrator.warnings[0], /only 3 calibration frames: 300 or more/);
  const result = await quantizeModel({ model: models.yoloxNano, calibrator, method: 'auto', activations: 'uint8-asymmetric' });
  const ops = countGraphOps(result.bytes);
  t.is(ops.get('DequantizeLinear'), result.plan.activations.length + result.plan.weights.length);
  t.is(ops.get('QuantizeLinear'), result.plan.activations.length);
  t.true(result.macs.int8 / result.macs.total > 0.9, `INT8 MAC fraction ${result.macs.int8 / result.macs.total}`);
  t.is(result.plan.calibration.frames, 3);
  t.true(result.plan.activations.every((a) => a.scale > 0 && a.zeroPoint >= 0 && a.zeroPoint <= 255 && a.range.min <= a.range.max));
  const file = path.join(dir, 'yolox.int8.onnx');
  await fs.writeFile(file, result.bytes);
  const engine = await createEngine({ model: file, backend: 'onnxruntime' });
  try {
    t.is(engine.info.precision, 'int8');
    t.is(engine.info.model.opset, 13);
    const detections = await engine.detect(path.join(coco.evalImages, (await fs.readdir(coco.evalImages))[0]));
    t.true(detections.length > 0);
  } finally {
    await engine.dispose();
  }

  // Emitting again with tensors kept in float is cheap and leaves out exactly their Q/DQ.
  const keep = new Set(result.plan.activations.slice(0, 5).map((a) => a.name));
  const fewer = countGraphOps(emitQdqModel(result.model, result.plan, { keepFloat: keep }));
  t.is(fewer.get('QuantizeLinear'), result.plan.activations.length - 5);
  const other = buildPlan(result.model, result.statistics, { method: 'minmax', activations: 'int8-symmetric' });
  t.true(other.activations.every((a) => a.method === 'minmax' && a.zeroPoint === 0));

  const json = JSON.parse(emitPlanJson(result.plan));
  t.is(json.activations.length, result.plan.activations.length);
  t.true(json.float.some((f: { reason: string }) => /detection head/.test(f.reason)));
  t.is(typeof json.macs.int8Fraction, 'number');
  const cache = parseCalibrationCache(emitTensorRtCalibrationCache(result.statistics.statistics, result.plan));
  t.is(cache.algorithm, 'EntropyCalibration2');
  const first = result.plan.activations[0];
  t.true(Math.abs(cache.scales.get(first.name)! - Math.max(Math.abs(first.range.min), Math.abs(first.range.max)) / 127) < 1e-6 * cache.scales.get(first.name)! + 1e-12);
});

test('an empty calibration set is refused', async (t) => {
  const empty = await fs.mkdtemp(path.join(dir, 'empty-'));
  await t.throwsAsync(calibratorFromFolder(empty, { preprocess: smallSpec, inputName: 'images' }), { message: /holds no images/ });
  t.throws(() => calibratorFromFrames([], { preprocess: smallSpec, inputName: 'images' }), { message: /calibration set is empty/ });
  const none = calibratorFromAsyncFrames((async function* () {})(), { preprocess: smallSpec, inputName: 'images' });
  await t.throwsAsync(quantizeModel({ model: encodeModel(yolov5LikeModel()), calibrator: none }), { message: /calibration set is empty/ });
});

test('frames are preprocessed into batches of the requested size, with one warning for a small set', async (t) => {
  const warnings: string[] = [];
  const calibrator = calibratorFromFrames([0, 1, 2, 3, 4].map(gradientFrame), { preprocess: smallSpec, inputName: 'images', batchSize: 2, onWarning: (m) => warnings.push(m) });
  for (let pass = 0; pass < 2; pass++) {
    const dims: number[][] = [];
    for await (const batch of calibrator) {
      dims.push(batch.dims.slice());
      t.is(batch.data.length, batch.dims.reduce((a, b) => a * b, 1));
    }
    t.deepEqual(dims, [[2, 3, 32, 32], [2, 3, 32, 32], [1, 3, 32, 32]]);
  }
  t.is(warnings.length, 1);
  const result = await quantizeModel({ model: encodeModel(yolov5LikeModel()), calibrator });
  t.is(result.plan.calibration.frames, 5);
});

test('a batch of the wrong shape is refused, naming both shapes', async (t) => {
  const wrong = batchesOf({ input: 'images', data: new Float32Array(3 * 16 * 16), dims: [1, 3, 16, 16] });
  const err = await t.throwsAsync(quantizeModel({ model: encodeModel(yolov5LikeModel()), calibrator: wrong }));
  t.regex(err!.message, /batch of shape \[1, 3, 16, 16\] does not fit the model input 'images' of shape \[1, 3, 32, 32\]/);
});

test('NaN or infinite activations are refused, naming the tensor', async (t) => {
  const data = new Float32Array(3 * 32 * 32).fill(0.5);
  data[100] = Number.NaN;
  const err = await t.throwsAsync(quantizeModel({ model: encodeModel(yolov5LikeModel()), calibrator: batchesOf({ input: 'images', data, dims: [1, 3, 32, 32] }) }));
  t.regex(err!.message, /Tensor "[^"]+" has \d+ NaN or infinite value/);
  t.regex(err!.message, /calibration frames 0\.\.0/);
});

test('a model with nothing to quantize comes back as it was, with a warning', async (t) => {
  const bytes = tinyModel({ inputDims: [1, 3, 32, 32], outputDims: [1, 4] });
  const calibrator = calibratorFromFrames([gradientFrame(1)], { preprocess: smallSpec, inputName: 'images' });
  const result = await quantizeModel({ model: bytes, calibrator });
  t.is(Buffer.compare(Buffer.from(result.bytes), Buffer.from(bytes)), 0);
  t.regex(result.warnings.join('\n'), /nothing to quantize/);
  t.deepEqual(result.macs, { int8: 0, total: 0, int8Fraction: 0 });
});

test('an abort half-way rejects the quantization', async (t) => {
  const controller = new AbortController();
  const calibrator = calibratorFromFrames([0, 1, 2, 3, 4, 5].map(gradientFrame), {
    preprocess: smallSpec,
    inputName: 'images',
    signal: controller.signal,
    onProgress: ({ frames }) => frames === 2 && controller.abort('stop here'),
  });
  await t.throwsAsync(quantizeModel({ model: encodeModel(yolov5LikeModel()), calibrator, signal: controller.signal }), { message: /aborted: stop here/ });
});

test('a model whose opset cannot be raised is refused before calibration', async (t) => {
  const old = buildModel({ input: { name: 'images', dims: [1, 3, 32, 32] }, nodes: [node('Upsample', ['images', 'scales'], ['output'], [], 'upsample_1')], outputs: ['output'], opset: 9 });
  let pulled = 0;
  const calibrator: Calibrator = {
    batchSize: 1,
    async *[Symbol.asyncIterator]() {
      pulled++;
      yield { input: 'images', data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] };
    },
  };
  await t.throwsAsync(quantizeModel({ model: encodeModel(old), calibrator }), { message: /Cannot raise the model's opset from 9 to 13: Upsample node 'upsample_1'/ });
  t.is(pulled, 0);
});

test('CLI: quantize writes the model, plan and cache; a failure half-way leaves no file behind', async (t) => {
  const images = await fs.mkdtemp(path.join(dir, 'calib-'));
  const source = (await fs.readdir(coco.calibImages)).filter((f) => f.endsWith('.jpg')).slice(0, 2);
  for (const f of source) await fs.copyFile(path.join(coco.calibImages, f), path.join(images, f));
  const out = await fs.mkdtemp(path.join(dir, 'out-'));
  // --no-search: the mixed-precision search (minutes) has its own test; the check still runs.
  const ok = await runCli(['quantize', '--model', models.yoloxNano, '--calib', images, '--out', path.join(out, 'm.int8.onnx'), '--plan', path.join(out, 'plan.json'), '--calib-cache', path.join(out, 'cache.txt'), '--no-search']);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /INT8 MACs\s+9\d\.\d %/);
  t.regex(ok.stdout, /check\s+agreement AP50 with FP32 on 2 held-back frames: all INT8 [01]\.\d+/);
  t.regex(ok.stderr, /warning: only 2 calibration frames/);
  t.deepEqual((await fs.readdir(out)).sort(), ['cache.txt', 'm.int8.onnx', 'plan.json']);
  t.true(parseCalibrationCache(await fs.readFile(path.join(out, 'cache.txt'))).scales.has('images'));
  t.true(countGraphOps(await fs.readFile(path.join(out, 'm.int8.onnx'))).has('QuantizeLinear'));

  // A corrupt image after a good one: calibration fails half-way, and nothing is written.
  await fs.writeFile(path.join(images, 'zz-corrupt.jpg'), Buffer.from('not a jpeg at all'));
  const failed = await fs.mkdtemp(path.join(dir, 'failed-'));
  const bad = await runCli(['quantize', '--model', models.yoloxNano, '--calib', images, '--out', path.join(failed, 'm.int8.onnx'), '--plan', path.join(failed, 'plan.json')]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /zz-corrupt\.jpg/);
  t.deepEqual(await fs.readdir(failed), []);
});
