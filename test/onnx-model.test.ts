import test from 'ava';
import { promises as fs } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { decodeModel, encodeModel, tensorFloats, tensorInts, defaultOpset, type OnnxModel } from '../lib/onnx/model';
import { raiseOpset } from '../lib/onnx/opset';
import { ProtoWriter } from '../lib/onnx/writer';
import { models } from './helpers/fixtures';
import { buildModel, buildModelBytes, int, ints, node, str } from './helpers/onnx-graph';

async function runModel(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const input: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor('float32', t.data, t.dims);
    const out = await session.run(input);
    return session.outputNames.map((name) => out[name].data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Index of the first element that differs (-1 when none): ava's deepEqual is far too slow on large arrays. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function pseudoRandom(count: number, scale: number): Float32Array {
  const values = new Float32Array(count);
  let state = 7;
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    values[i] = (state / 2147483648) * scale;
  }
  return values;
}

for (const [label, file, size, scale] of [
  ['yolox_nano', models.yoloxNano, 416, 255],
  ['yolov8n', models.yolov8n, 640, 1],
] as const) {
  test(`decode -> encode of ${label} runs in ONNX Runtime with identical outputs`, async (t) => {
    const bytes = await fs.readFile(file);
    const model = decodeModel(bytes);
    t.true(model.graph.nodes.length > 100);
    t.true(model.graph.initializers.every((i) => i.raw !== undefined));
    const again = encodeModel(model);
    // Encoding what we decoded again gives the same bytes: nothing is lost or reordered twice.
    t.is(Buffer.compare(Buffer.from(encodeModel(decodeModel(again))), Buffer.from(again)), 0);
    const feeds = { images: { data: pseudoRandom(3 * size * size, scale), dims: [1, 3, size, size] } };
    const [expected] = await runModel(bytes, feeds);
    const [actual] = await runModel(again, feeds);
    t.is(firstDifference(actual, expected), -1);
    t.deepEqual(decodeModel(again).metadata, model.metadata);
  });
}

test('yolox_nano raised from opset 11 to 13 gives identical outputs', async (t) => {
  const bytes = await fs.readFile(models.yoloxNano);
  const model = decodeModel(bytes);
  t.is(defaultOpset(model), 11);
  const raised = raiseOpset(model, 13);
  t.is(defaultOpset(raised), 13);
  t.is(defaultOpset(model), 11, 'the original is left alone');
  const feeds = { images: { data: pseudoRandom(3 * 416 * 416, 255), dims: [1, 3, 416, 416] } };
  t.is(firstDifference((await runModel(encodeModel(raised), feeds))[0], (await runModel(bytes, feeds))[0]), -1);
});

test('initializers stored as float_data and int64_data decode to raw little-endian data', (t) => {
  const w = new ProtoWriter();
  w.int64(1, 7);
  w.message(7, (g) => {
    g.message(5, (tensor) => tensor.packedInt64(1, [3]).int64(2, 1).string(8, 'f').packedFloat(4, [1.5, -2, 3.25]));
    g.message(5, (tensor) => tensor.int64(1, 2).int64(2, 7).string(8, 'i').packedInt64(7, [-1, 40000000000]));
  });
  w.message(8, (o) => o.int64(2, 13));
  const model = decodeModel(w.finish());
  const [f, i] = model.graph.initializers;
  t.deepEqual(Array.from(tensorFloats(f)), [1.5, -2, 3.25]);
  t.deepEqual(tensorInts(i), [-1, 40000000000]);
  const again = decodeModel(encodeModel(model));
  t.deepEqual(Array.from(tensorFloats(again.graph.initializers[0])), [1.5, -2, 3.25]);
});

test('opset 11 Split, Squeeze, Unsqueeze, ReduceSum and Softmax are rewritten with the same results', async (t) => {
  const spec = {
    input: { name: 'x', dims: [2, 6, 4] },
    nodes: [
      node('Split', ['x'], ['a', 'b'], [int('axis', 1), ints('split', [2, 4])]),
      node('Unsqueeze', ['a'], ['a4'], [ints('axes', [0])]),
      node('Squeeze', ['a4'], ['a3'], [ints('axes', [0])]),
      node('ReduceSum', ['b'], ['bs'], [ints('axes', [1]), int('keepdims', 1)]),
      node('Softmax', ['x'], ['sm'], [int('axis', 1)]),
      node('LogSoftmax', ['x'], ['lsm'], [int('axis', -1)]),
    ],
    outputs: ['a3', 'bs', 'sm', 'lsm'],
    opset: 11,
  };
  const old = buildModel(spec);
  const raised = raiseOpset(old, 13);
  t.is(defaultOpset(raised), 13);
  t.true(raised.graph.nodes.some((n) => n.opType === 'Flatten'), 'Softmax over axis 1 of a 3-D input keeps its opset-11 meaning');
  const feeds = { x: { data: pseudoRandom(48, 4), dims: [2, 6, 4] } };
  const expected = await runModel(buildModelBytes(spec), feeds);
  const actual = await runModel(encodeModel(raised), feeds);
  actual.forEach((values, i) => t.is(firstDifference(values, expected[i]), -1, `output ${spec.outputs[i]}`));
});

test('an operator whose meaning changed and is not rewritten is refused, naming the op and the node', (t) => {
  const resize = buildModel({
    input: { name: 'x', dims: [1, 1, 2, 2] },
    nodes: [node('Resize', ['x', 'roi', 'scales'], ['y'], [str('coordinate_transformation_mode', 'tf_half_pixel_for_nn')], 'upsample_7')],
    outputs: ['y'],
    opset: 11,
  });
  const err = t.throws(() => raiseOpset(resize, 13));
  t.is((err as { code?: string }).code, 'ERR_MODEL');
  t.regex(err!.message, /Resize node 'upsample_7'.*tf_half_pixel_for_nn/);
  const upsample: OnnxModel = buildModel({ input: { name: 'x', dims: [1, 1, 2, 2] }, nodes: [node('Upsample', ['x', 's'], ['y'], [], 'up')], outputs: ['y'], opset: 9 });
  t.throws(() => raiseOpset(upsample, 13), { message: /Upsample node 'up'/ });
});
