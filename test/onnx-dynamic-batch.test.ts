/**
 * The dynamic batch rewrite (lib/onnx/dynamic-batch.ts) on the real detectors: a batch of four
 * different COCO frames gives, frame by frame, what four batch-1 runs of the original give.
 */
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { promises as fs } from 'node:fs';
import { createEngine } from '../lib/engine';
import { decodeModel, encodeModel, int64Tensor, type OnnxModel } from '../lib/onnx/model';
import { hasDynamicBatch, makeBatchDynamic } from '../lib/onnx/dynamic-batch';
import { valueInfoShape } from '../lib/onnx/model';
import { preprocessFrame, tensorSize } from '../lib/detect/preprocess';
import { decodeImage } from '../lib/image/decode';
import { listImages } from '../lib/util/files';
import { validateRawFrame } from '../lib/image/frame';
import type { PreprocessSpec } from '../lib/detect/types';
import { Int8DetectError } from '../lib/util/errors';
import { coco, models } from './helpers/fixtures';

async function frames(model: string, count: number): Promise<{ spec: PreprocessSpec; inputs: Float32Array[] }> {
  const engine = await createEngine({ model, backend: 'onnxruntime' });
  const spec = engine.info.preprocess;
  await engine.dispose();
  const inputs: Float32Array[] = [];
  for (const file of (await listImages(coco.evalImages)).slice(0, count)) {
    const buffer = new Float32Array(tensorSize(spec));
    await preprocessFrame(validateRawFrame(await decodeImage(file)), spec, buffer);
    inputs.push(buffer);
  }
  return { spec, inputs };
}

async function run(bytes: Uint8Array, inputs: Float32Array[], spec: PreprocessSpec): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const batch = new Float32Array(inputs.length * inputs[0].length);
    inputs.forEach((x, i) => batch.set(x, i * x.length));
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', batch, [inputs.length, 3, spec.height, spec.width]) });
    const tensor = out[session.outputNames[0]];
    return { data: tensor.data as Float32Array, dims: tensor.dims };
  } finally {
    await session.release();
  }
}

for (const [name, path] of [
  ['yolox_nano', models.yoloxNano],
  ['yolov8n', models.yolov8n],
] as const) {
  test(`${name}: a batch of 4 frames gives each frame's batch-1 outputs`, async (t) => {
    const original = decodeModel(await fs.readFile(path));
    t.false(hasDynamicBatch(original));
    const result = makeBatchDynamic(original);
    t.true(result.changed);
    t.true(hasDynamicBatch(result.model));
    t.true(result.reshapes.length >= 3, `rewrote ${result.reshapes.length} Reshape targets`);
    t.deepEqual(valueInfoShape(result.model.graph.outputs[0]).dims?.[0], 'batch');
    // The caller's model is untouched.
    t.is(valueInfoShape(original.graph.inputs[0]).dims?.[0], 1);

    const { spec, inputs } = await frames(path, 4);
    const bytes = encodeModel(result.model);
    const batched = await run(bytes, inputs, spec);
    t.is(batched.dims[0], 4);
    const per = batched.data.length / 4;
    const originalBytes = await fs.readFile(path);
    for (let i = 0; i < 4; i++) {
      const single = await run(originalBytes, [inputs[i]], spec);
      t.is(single.data.length, per);
      let diff = 0;
      let scale = 0;
      for (let k = 0; k < per; k++) {
        diff = Math.max(diff, Math.abs(single.data[k] - batched.data[i * per + k]));
        scale = Math.max(scale, Math.abs(single.data[k]));
      }
      t.true(diff <= 1e-4 * scale, `frame ${i}: largest difference ${diff} against ${scale}`);
    }
    // Frames are not mixed: two different frames give different outputs.
    t.notDeepEqual(batched.data.subarray(0, 100), batched.data.subarray(per, per + 100));
    // Batch 1 still runs.
    const one = await run(bytes, [inputs[0]], spec);
    t.is(one.dims[0], 1);
  });
}

test('a model that already has a dynamic batch is returned as it is', async (t) => {
  const once = makeBatchDynamic(decodeModel(await fs.readFile(models.yoloxNano))).model;
  const twice = makeBatchDynamic(once);
  t.false(twice.changed);
  t.is(twice.model, once);
});

test('a Reshape that folds the batch into the features is refused, naming the node', async (t) => {
  const model: OnnxModel = decodeModel(await fs.readFile(models.yoloxNano));
  const reshape = model.graph.nodes.find((n) => n.opType === 'Reshape')!;
  const flat = int64Tensor('flat_target', [2], [85, -1]);
  const edited: OnnxModel = {
    ...model,
    graph: { ...model.graph, initializers: [...model.graph.initializers, flat], nodes: model.graph.nodes.map((n) => (n === reshape ? { ...n, inputs: [n.inputs[0], flat.name] } : n)) },
  };
  const err = t.throws(() => makeBatchDynamic(edited), { instanceOf: Int8DetectError });
  t.is(err.code, 'ERR_MODEL');
  t.regex(err.message, new RegExp(`Reshape node '${reshape.name}'.*\\[85, -1\\]`));
});

test('a Concat along the batch axis is refused', async (t) => {
  const model: OnnxModel = decodeModel(await fs.readFile(models.yoloxNano));
  const concat = model.graph.nodes.find((n) => n.opType === 'Concat' && n.inputs.every((i) => !model.graph.initializers.some((w) => w.name === i)))!;
  const edited: OnnxModel = {
    ...model,
    graph: { ...model.graph, nodes: model.graph.nodes.map((n) => (n === concat ? { ...n, attributes: n.attributes.map((a) => (a.name === 'axis' ? { ...a, i: 0 } : a)) } : n)) },
  };
  const err = t.throws(() => makeBatchDynamic(edited), { instanceOf: Int8DetectError });
  t.regex(err.message, /Concat node .* axis 0, the batch/);
});

test('an input whose dimension 0 is not 1 is refused', async (t) => {
  const model: OnnxModel = decodeModel(await fs.readFile(models.yoloxNano));
  const { tensorTypeWithShape } = await import('../lib/onnx/dynamic-batch');
  const input = model.graph.inputs[0];
  const edited: OnnxModel = { ...model, graph: { ...model.graph, inputs: [{ ...input, type: tensorTypeWithShape(1, [2, 3, 416, 416]) }] } };
  const err = t.throws(() => makeBatchDynamic(edited), { instanceOf: Int8DetectError });
  t.regex(err.message, /input 'images' has dimension 0 of 2, not 1/);
});
