/**
 * INT8 junctions (lib/quantize/placement-junctions.ts): Concat, Add, MaxPool, Resize, Slice and
 * Split between quantized convs quantized on every edge, value-moving ops on their input's grid,
 * Concats' inputs on their output's grid where it costs little (lib/quantize/shared-grids.ts);
 * and the Split lowering that runs the 8-bit split on ONNX Runtime.
 */
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { promises as fs } from 'node:fs';
import { decodeModel, encodeModel, int64Tensor, type OnnxModel } from '../lib/onnx/model';
import { lowerInt8Split } from '../lib/onnx/lower-int8-split';
import { placeQuantization } from '../lib/quantize/placement';
import { addInt8Junctions } from '../lib/quantize/placement-junctions';
import { calibratorFromFolder } from '../lib/quantize/calibrator';
import { quantizeModel } from '../lib/runtimes/onnxruntime/quantize';
import { createEngine } from '../lib/engine';
import { preprocessFrame, tensorSize } from '../lib/detect/preprocess';
import { decodeImage } from '../lib/image/decode';
import { validateRawFrame } from '../lib/image/frame';
import { listImages } from '../lib/util/files';
import { coco, models } from './helpers/fixtures';
import { buildModel, node, str, weights } from './helpers/onnx-graph';

const load = async (file: string) => decodeModel(await fs.readFile(file));

function readersOf(model: OnnxModel, tensor: string): string[] {
  return model.graph.nodes.filter((n) => n.inputs.includes(tensor)).map((n) => n.name);
}

for (const [name, file] of [
  ['yolox_nano', models.yoloxNano],
  ['yolov8n', models.yolov8n],
] as const) {
  test(`${name}: every junction between quantized convs is quantized on all its edges, the head is not`, async (t) => {
    const model = await load(file);
    const portable = placeQuantization(model);
    const placement = addInt8Junctions(model, portable);
    const sites = new Map(placement.activations.map((a) => [a.tensor, a]));
    // The portable sites are all still there, in their order, and gain readers only.
    t.deepEqual(placement.activations.slice(0, portable.activations.length).map((a) => a.tensor), portable.activations.map((a) => a.tensor));
    for (const a of portable.activations) t.true(a.consumers.every((c) => sites.get(a.tensor)!.consumers.includes(c)));
    let junctions = 0;
    for (const node of model.graph.nodes) {
      if (!['Concat', 'Add', 'MaxPool', 'Resize', 'Split'].includes(node.opType)) continue;
      if (placement.head.has(node.name)) {
        for (const o of node.outputs) t.false(sites.has(o), `head node ${node.name} stays float`);
        continue;
      }
      junctions++;
      for (const o of node.outputs) {
        const site = sites.get(o);
        t.truthy(site, `output of ${node.opType} ${node.name} is quantized`);
        t.deepEqual(site!.consumers.slice().sort(), readersOf(model, o).sort(), `every reader of ${o} reads the dequantized value`);
        if (['MaxPool', 'Split'].includes(node.opType)) t.is(site!.alignWith, node.inputs[0], `${node.name}'s output takes its input's grid`);
        else if (node.opType === 'Concat' && name === 'yolox_nano' && node.name === 'Concat_40') t.is(site!.alignWith, 'images', 'the Focus concat of image phases keeps the image grid');
        else t.is(site!.alignWith, undefined, `${node.name}: its own range`);
      }
      const data = ['MaxPool', 'Resize', 'Split'].includes(node.opType) ? [node.inputs[0]] : node.inputs;
      for (const i of data) t.truthy(sites.get(i), `input ${i} of ${node.name} is quantized`);
    }
    t.true(junctions >= 10, `${junctions} junctions`);
    // Each Concat (but the Focus one, already on one grid) offers its inputs its output's grid.
    const concats = model.graph.nodes.filter((n) => n.opType === 'Concat' && !placement.head.has(n.name) && sites.get(n.outputs[0])?.alignWith === undefined);
    t.true(concats.length >= 10, `${concats.length} concats`);
    t.deepEqual(
      placement.sharedGrids!.map((g) => g[0]).sort(),
      concats.map((n) => n.outputs[0]).sort(),
    );
    for (const group of placement.sharedGrids!) {
      const concat = concats.find((n) => n.outputs[0] === group[0])!;
      t.deepEqual(group.slice(1), concat.inputs, `${concat.name}: its inputs, in order`);
    }
    // MACs do not move: the same compute nodes are quantized.
    t.deepEqual(placement.compute, portable.compute);
  });
}

test('yolov8n: the plan puts aligned tensors on their partner\'s grid, and ONNX Runtime splits 8-bit tensors', async (t) => {
  const engine = await createEngine({ model: models.yolov8n, backend: 'onnxruntime' });
  const spec = engine.info.preprocess;
  await engine.dispose();
  const result = await quantizeModel({ model: models.yolov8n, calibrator: await calibratorFromFolder(coco.calibImages, { preprocess: spec, inputName: 'images', limit: 4, shuffleSeed: 3 }) });
  const plan = new Map(result.plan.activations.map((a) => [a.name, a]));
  const aligned = result.plan.activations.filter((a) => a.alignedWith !== undefined);
  t.true(aligned.length >= 8, `${aligned.length} aligned tensors`);
  for (const a of aligned) {
    const partner = plan.get(a.alignedWith!)!;
    t.is(a.scale, partner.scale, a.name);
    t.is(a.zeroPoint, partner.zeroPoint, a.name);
  }
  // Concats whose inputs all joined the output's grid: QLinearConcat copies them.
  const float = await load(models.yolov8n);
  const copied = float.graph.nodes.filter((n) => n.opType === 'Concat' && plan.has(n.outputs[0]) && n.inputs.every((i) => plan.get(i)?.scale === plan.get(n.outputs[0])!.scale && plan.get(i)?.zeroPoint === plan.get(n.outputs[0])!.zeroPoint));
  t.true(copied.length >= 6, `${copied.length} Concats on one grid`);
  for (const n of copied) for (const i of n.inputs) t.is(plan.get(i)!.alignedWith ?? i, plan.get(n.outputs[0])!.alignedWith ?? n.outputs[0], `${i} names the grid it shares`);
  const qdq = decodeModel(result.bytes);
  const { model: lowered, lowered: splits } = lowerInt8Split(qdq);
  t.is(splits, qdq.graph.nodes.filter((n) => n.opType === 'Split' && !result.plan.float.some((f) => f.node === n.name)).length, 'every feature Split (the head\'s split stays float)');
  t.true(splits >= 7);
  const input = new Float32Array(tensorSize(spec));
  await preprocessFrame(validateRawFrame(await decodeImage((await listImages(coco.evalImages))[0])), spec, input);
  const run = async (bytes: Uint8Array) => {
    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    try {
      const out = await session.run({ images: new ort.Tensor('float32', input, [1, 3, spec.height, spec.width]) });
      return out[session.outputNames[0]].data as Float32Array;
    } finally {
      await session.release();
    }
  };
  const a = await run(result.bytes);
  const b = await run(encodeModel(lowered));
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  t.true(diff <= 1e-4 * scale, `the 8-bit split is exact: ${diff} against ${scale}`);
});

test('a Resize between quantized convs quantizes its data input only, not computed sizes', (t) => {
  // images -> Conv -> a -> Resize(a, sizes = Shape(a) * [1, 1, 2, 2]) -> Conv -> Conv (the head) -> output
  const model = buildModel({
    nodes: [
      node('Conv', ['images', 'w1'], ['a']),
      node('Shape', ['a'], ['a_shape']),
      node('Mul', ['a_shape', 'factors'], ['sizes']),
      node('Resize', ['a', '', '', 'sizes'], ['b'], [str('mode', 'nearest')]),
      node('Conv', ['b', 'w2'], ['c']),
      node('Conv', ['c', 'w3'], ['output']),
    ],
    initializers: [weights('w1', [4, 3, 1, 1]), weights('w2', [4, 4, 1, 1]), weights('w3', [4, 4, 1, 1]), int64Tensor('factors', [4], [1, 1, 2, 2])],
    input: { name: 'images', dims: [1, 3, 8, 8] },
    outputs: ['output'],
  });
  const placement = addInt8Junctions(model, placeQuantization(model));
  const sites = new Set(placement.activations.map((a) => a.tensor));
  t.true(sites.has('a') && sites.has('b'), 'the data in and out');
  t.false(sites.has('sizes'), 'a computed sizes input is a shape, not an activation');
  t.false(sites.has('a_shape'));
});
