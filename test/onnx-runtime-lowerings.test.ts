/**
 * The load-time rewrites that give ONNX Runtime a faster graph of the same model: dead nodes
 * pruned, the channel-equalized SiLU in INT8 kernels, the Focus stem as one SpaceToDepth. Real
 * models (yolox_nano, yolov8n) and real frames.
 */
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { promises as fs } from 'node:fs';
import { createEngine } from '../lib/engine';
import { decodeModel, encodeModel, floatTensor, uint8Tensor, type OnnxModel } from '../lib/onnx/model';
import { lowerDflSoftmax } from '../lib/onnx/lower-dfl-softmax';
import { lowerEqualizedSilu } from '../lib/onnx/lower-equalized-silu';
import { lowerForOnnxRuntimeDetailed } from '../lib/runtimes/onnxruntime/lowering';
import { buildModelBytes, node, weights } from './helpers/onnx-graph';
import { int64Tensor } from '../lib/onnx/model';
import { lowerFocus } from '../lib/onnx/lower-focus';
import { lowerFloatSilu } from '../lib/onnx/lower-float-silu';
import { lowerInt8Silu } from '../lib/onnx/lower-int8-silu';
import { pruneDeadNodes } from '../lib/onnx/prune-dead-nodes';
import { preprocessFrame, tensorSize } from '../lib/detect/preprocess';
import { decodeImage } from '../lib/image/decode';
import { listImages } from '../lib/util/files';
import { validateRawFrame } from '../lib/image/frame';
import { calibratorFromFolder } from '../lib/quantize/calibrator';
import { quantizeModel } from '../lib/runtimes/onnxruntime/quantize';
import type { PreprocessSpec } from '../lib/detect/types';
import { coco, models } from './helpers/fixtures';
import { maxRelativeDifference, meanRelativeDifference } from './helpers/differences';

let spec: PreprocessSpec;
let inputs: Float32Array[];
let quantized: Awaited<ReturnType<typeof quantizeModel>>;

test.before(async () => {
  const engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
  spec = engine.info.preprocess;
  await engine.dispose();
  inputs = [];
  for (const file of (await listImages(coco.evalImages)).slice(0, 3)) {
    const buffer = new Float32Array(tensorSize(spec));
    await preprocessFrame(validateRawFrame(await decodeImage(file)), spec, buffer);
    inputs.push(buffer);
  }
  const calibrator = calibratorFromFolder(coco.calibImages, { preprocess: spec, inputName: 'images', limit: 8, shuffleSeed: 7 });
  quantized = await quantizeModel({ model: models.yoloxNano, calibrator: await calibrator, equalize: { frames: 8 } });
});

async function runOrt(bytes: Uint8Array, input: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, spec.height, spec.width]) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

async function yolov8Spec(): Promise<PreprocessSpec> {
  const engine = await createEngine({ model: models.yolov8n, backend: 'onnxruntime' });
  const v8 = engine.info.preprocess;
  await engine.dispose();
  return v8;
}

const opCount = (model: OnnxModel, opType: string) => model.graph.nodes.filter((n) => n.opType === opType).length;

test('pruneDeadNodes removes the DequantizeLinears the INT8 SiLU lowering leaves unread, and nothing else', (t) => {
  const silu = lowerInt8Silu(decodeModel(quantized.bytes));
  t.true(silu.lowered > 20);
  const { model, removed } = pruneDeadNodes(silu.model);
  // One DQ per lowered SiLU fed only the float Sigmoid and Mul.
  t.is(removed, silu.lowered);
  const read = new Set(model.graph.nodes.flatMap((n) => n.inputs));
  for (const o of model.graph.outputs) read.add(o.name);
  t.true(model.graph.nodes.every((n) => n.outputs.some((o) => read.has(o))), 'every remaining node has a reader');
  t.true(model.graph.initializers.every((i) => read.has(i.name)), 'no unread initializer is left');
  t.is(pruneDeadNodes(model).removed, 0);
  t.is(pruneDeadNodes(model).model, model, 'a clean model is returned as it is');
});

test('pruneDeadNodes keeps graph outputs and removes a dead chain as a whole', (t) => {
  const base = decodeModel(quantized.bytes);
  const first = base.graph.nodes.find((n) => n.opType === 'Conv')!;
  const scale = floatTensor('dead_scale', [], [2]);
  const dead: OnnxModel = {
    ...base,
    graph: {
      ...base.graph,
      initializers: [...base.graph.initializers, scale],
      nodes: [
        ...base.graph.nodes,
        { name: 'dead_1', opType: 'Mul', domain: '', inputs: [first.outputs[0], scale.name], outputs: ['dead_1_out'], attributes: [], extra: [] },
        { name: 'dead_2', opType: 'Sigmoid', domain: '', inputs: ['dead_1_out'], outputs: ['dead_2_out'], attributes: [], extra: [] },
      ],
    },
  };
  const { model, removed } = pruneDeadNodes(dead);
  t.is(removed, 2);
  t.false(model.graph.initializers.some((i) => i.name === 'dead_scale'));
  t.deepEqual(model.graph.outputs, base.graph.outputs);
});

test('the equalized SiLUs become INT8 kernels, and the model stays as close to FP32 as the float SiLUs kept it', async (t) => {
  t.true(quantized.equalized.length >= 10, `${quantized.equalized.length} chains equalized`);
  const qdq = decodeModel(quantized.bytes);
  const { model, lowered } = lowerEqualizedSilu(qdq);
  t.true(lowered.length >= (2 * quantized.equalized.length) / 3, `${lowered.length} of ${quantized.equalized.length} lowered`);
  const restores = (m: OnnxModel) => m.graph.nodes.filter((n) => n.name.endsWith('_restore_scale'));
  t.is(restores(model).length, restores(qdq).length - lowered.length);
  // What stays float is a chain whose product nothing quantizes (the head's float convs, a float Concat or Add read it).
  const readers = (m: OnnxModel, tensor: string) => m.graph.nodes.filter((n) => n.inputs.includes(tensor));
  for (const restore of restores(model)) {
    const product = readers(model, restore.outputs[0]).find((n) => n.opType === 'Mul')!.outputs[0];
    const next = readers(model, product).flatMap((n) => (n.name.endsWith('_product_scale') ? readers(model, n.outputs[0]) : [n]));
    t.false(next.some((n) => n.opType === 'QuantizeLinear'), `${restore.name} was lowerable`);
  }
  t.is(opCount(model, 'QLinearSigmoid'), lowered.length);
  // One depthwise 1x1 QLinearConv for the sigmoid's argument, one more where the product is rescaled.
  t.is(opCount(model, 'QLinearConv'), lowered.length + lowered.filter((l) => l.rescaled).length);
  const pruned = pruneDeadNodes(model).model;
  t.is(pruneDeadNodes(model).removed, 0, 'the lowering leaves no dead node');
  const bytes = encodeModel(pruned);
  const fp32Bytes = await fs.readFile(models.yoloxNano);
  for (const input of inputs) {
    const fp32 = await runOrt(fp32Bytes, input);
    const before = meanRelativeDifference(fp32, await runOrt(quantized.bytes, input));
    const after = meanRelativeDifference(fp32, await runOrt(bytes, input));
    // The sigmoid's 8-bit argument and output add roundings: they may add error, not multiply it.
    t.true(after < 1.3 * before, `mean relative difference from FP32: float SiLUs ${before}, INT8 ${after}`);
  }
  t.is(lowerEqualizedSilu(pruned).lowered.length, 0, 'a lowered model has nothing left to lower');
});

test('the Focus stem becomes one SpaceToDepth, exactly, on the float and the Q/DQ model', async (t) => {
  const fp32 = decodeModel(await fs.readFile(models.yoloxNano));
  const { model, lowered } = lowerFocus(fp32);
  t.is(lowered.length, 1);
  t.is(opCount(model, 'Slice'), 0);
  t.is(opCount(model, 'SpaceToDepth'), 1);
  t.is(opCount(model, 'Concat'), opCount(fp32, 'Concat') - 1);
  t.true(model.graph.initializers.length <= fp32.graph.initializers.length, 'the slices\' constants and the old weight go');
  for (const input of inputs) {
    const a = await runOrt(encodeModel(fp32), input);
    const b = await runOrt(encodeModel(model), input);
    t.true(maxRelativeDifference(a, b) < 1e-4, `float: ${maxRelativeDifference(a, b)}`);
  }
  const qdq = decodeModel(quantized.bytes);
  const q = lowerFocus(qdq);
  t.is(q.lowered.length, 1);
  for (const input of inputs) {
    const a = await runOrt(quantized.bytes, input);
    const b = await runOrt(encodeModel(q.model), input);
    // The same INT8 weights permuted and the same quantized image: identical up to float summation order.
    t.true(meanRelativeDifference(a, b) < 1e-4, `Q/DQ: ${meanRelativeDifference(a, b)}`);
  }
});

test('models without a Focus or an equalized SiLU pass through untouched', async (t) => {
  const v8 = decodeModel(await fs.readFile(models.yolov8n));
  t.is(lowerFocus(v8).model, v8);
  t.is(lowerEqualizedSilu(v8).model, v8);
  t.is(pruneDeadNodes(v8).model, v8);
});

test('the DFL head\'s middle-axis softmax becomes a last-axis one with a MatMul: yolov8n\'s outputs bit for bit the same', async (t) => {
  const bytes = await fs.readFile(models.yolov8n);
  const fp32 = decodeModel(bytes);
  const { model, lowered } = lowerDflSoftmax(fp32);
  t.is(lowered.length, 1);
  t.is(opCount(model, 'Softmax'), 1);
  t.is(opCount(model, 'MatMul'), opCount(fp32, 'MatMul') + 1);
  t.is(opCount(model, 'Conv'), opCount(fp32, 'Conv') - 1);
  const softmax = model.graph.nodes.find((n) => n.opType === 'Softmax')!;
  t.is(softmax.attributes.find((a) => a.name === 'axis')?.i, -1);
  // The session lowering applies it to the float model as well (the head is float in INT8 models too).
  const session = lowerForOnnxRuntimeDetailed(bytes);
  t.is(session.dflSoftmaxes, 1);
  const image = new Float32Array(3 * 640 * 640);
  await preprocessFrame(validateRawFrame(await decodeImage((await listImages(coco.evalImages))[0])), await yolov8Spec(), image);
  const run = async (b: Uint8Array) => {
    const s = await ort.InferenceSession.create(b, { logSeverityLevel: 3 });
    try {
      return (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', image, [1, 3, 640, 640]) }))[s.outputNames[0]].data as Float32Array;
    } finally {
      await s.release();
    }
  };
  const a = await run(bytes);
  const b = await run(session.bytes);
  t.is(a.length, b.length);
  t.is(maxRelativeDifference(a, b), 0);
});

test('the DFL rewrite leaves alone a softmax whose result is read by something other than a Reshape, and models before opset 13', (t) => {
  // images [1, 64, 1, 8] -> Reshape [1, 4, 16, 8] -> Transpose(0, 2, 1, 3) -> Softmax(1) -> Conv 16 -> 1
  const graph = (reader: 'Reshape' | 'Sigmoid', opset = 13) =>
    decodeModel(
      buildModelBytes({
        nodes: [
          node('Reshape', ['images', 'split'], ['bins']),
          node('Transpose', ['bins'], ['moved'], [{ name: 'perm', type: 7, ints: [0, 2, 1, 3], extra: [] }]),
          node('Softmax', ['moved'], ['probabilities'], [{ name: 'axis', type: 2, i: 1, extra: [] }]),
          node('Conv', ['probabilities', 'w'], ['expectation']),
          reader === 'Reshape' ? node('Reshape', ['expectation', 'flat'], ['output']) : node('Sigmoid', ['expectation'], ['output']),
        ],
        initializers: [int64Tensor('split', [4], [1, 4, 16, 8]), int64Tensor('flat', [3], [1, 4, 8]), weights('w', [1, 16, 1, 1])],
        input: { name: 'images', dims: [1, 64, 1, 8] },
        outputs: ['output'],
        opset,
      }),
    );
  t.is(lowerDflSoftmax(graph('Reshape')).lowered.length, 1);
  const other = graph('Sigmoid');
  t.is(lowerDflSoftmax(other).model, other, 'a Sigmoid would see [1, 4, 8, 1] for [1, 1, 4, 8]');
  const old = graph('Reshape', 12);
  t.is(lowerDflSoftmax(old).model, old, 'opset 12: Softmax(axis 1) normalises over every axis from 1');
});

test('the SiLUs left in float become QuickGelu, the same function; other Sigmoid-Mul pairs stay', async (t) => {
  // DQ(images) -> x * Sigmoid(x), in both operand orders (lowered); a Sigmoid read twice (kept);
  // Sigmoid(y) * w (kept); x * Sigmoid(x) on a value not known to be float32 (kept).
  const model = decodeModel(
    buildModelBytes({
      nodes: [
        node('QuantizeLinear', ['images', 'scale', 'zero'], ['images_q']),
        node('DequantizeLinear', ['images_q', 'scale', 'zero'], ['x']),
        node('Sigmoid', ['x'], ['gate']),
        node('Mul', ['gate', 'x'], ['silu']),
        node('DequantizeLinear', ['images_q', 'scale', 'zero'], ['x2']),
        node('Sigmoid', ['x2'], ['gate_b']),
        node('Mul', ['x2', 'gate_b'], ['silu_b']),
        node('Add', ['silu', 'silu_b'], ['sum']),
        node('Sigmoid', ['sum'], ['gate2']),
        node('Mul', ['sum', 'gate2'], ['silu2']),
        node('Add', ['silu2', 'gate2'], ['both']),
        node('Sigmoid', ['both'], ['gate3']),
        node('Mul', ['gate3', 'w'], ['output']),
      ],
      initializers: [weights('w', [1, 4, 1, 1]), floatTensor('scale', [], [0.1]), uint8Tensor('zero', [], Uint8Array.of(128))],
      input: { name: 'images', dims: [1, 4, 8, 8] },
      outputs: ['output'],
    }),
  );
  const { model: lowered, lowered: count } = lowerFloatSilu(model);
  t.is(count, 2);
  const gelu = lowered.graph.nodes.filter((n) => n.opType === 'QuickGelu');
  t.deepEqual(
    gelu.map((n) => [n.domain, n.inputs, n.outputs, n.attributes.find((a) => a.name === 'alpha')?.f]),
    [
      ['com.microsoft', ['x'], ['silu'], 1],
      ['com.microsoft', ['x2'], ['silu_b'], 1],
    ],
  );
  t.is(opCount(lowered, 'Sigmoid'), 2, "the Sigmoid read twice and the one times a weight stay");
  t.true(lowered.opsetImports.some((o) => o.domain === 'com.microsoft'));
  const image = Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i) * 9);
  const run = async (m: OnnxModel) => {
    const s = await ort.InferenceSession.create(encodeModel(m), { logSeverityLevel: 3 });
    try {
      return (await s.run({ images: new ort.Tensor('float32', image, [1, 4, 8, 8]) })).output.data as Float32Array;
    } finally {
      await s.release();
    }
  };
  t.true(maxRelativeDifference(await run(model), await run(lowered)) <= 1e-6);
  // On the INT8 model: the head's float SiLUs, after the INT8 ones are lowered.
  const int8 = lowerInt8Silu(lowerEqualizedSilu(decodeModel(quantized.bytes)).model).model;
  const head = lowerFloatSilu(int8);
  t.true(head.lowered >= 1, `${head.lowered} float SiLUs`);
  t.is(lowerForOnnxRuntimeDetailed(quantized.bytes).floatSilus, head.lowered);
  t.true(maxRelativeDifference(await runOrt(encodeModel(int8), inputs[0]), await runOrt(encodeModel(head.model), inputs[0])) <= 1e-5);
});
