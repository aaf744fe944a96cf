/**
 * Small ONNX graphs for tests, written with the library's own model structure and encoder:
 * nodes by op type, float initializers, one float input and one float output.
 */
import { encodeModel, floatTensor, tensorTypeBytes, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from '../../lib/onnx/model';
import { ProtoWriter } from '../../lib/onnx/writer';

export function ints(name: string, values: number[]): OnnxAttribute {
  return { name, type: 7, ints: values, extra: [] };
}

export function int(name: string, value: number): OnnxAttribute {
  return { name, type: 2, i: value, extra: [] };
}

export function str(name: string, value: string): OnnxAttribute {
  return { name, type: 3, s: value, extra: [] };
}

export function node(opType: string, inputs: string[], outputs: string[], attributes: OnnxAttribute[] = [], name = outputs[0]): OnnxNode {
  return { name, opType, domain: '', inputs, outputs, attributes, extra: [] };
}

/** A float tensor type with a shape, as ValueInfo type bytes. */
export function shapedType(dims: readonly number[]): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, (t) => {
    t.int64(1, 1);
    t.message(2, (shape) => {
      for (const d of dims) shape.message(1, (dim) => dim.int64(1, d));
    });
  });
  return w.finish();
}

export interface GraphSpec {
  nodes: OnnxNode[];
  initializers?: OnnxTensor[];
  input: { name: string; dims: number[] };
  outputs: string[];
  opset?: number;
}

export function buildModel(spec: GraphSpec): OnnxModel {
  return {
    irVersion: 7,
    producerName: 'int8-detect-tests',
    producerVersion: '',
    opsetImports: [{ domain: '', version: spec.opset ?? 13 }],
    metadata: [],
    graph: {
      name: 'test',
      nodes: spec.nodes,
      initializers: spec.initializers ?? [],
      inputs: [{ name: spec.input.name, type: shapedType(spec.input.dims), extra: [] }],
      outputs: spec.outputs.map((name) => ({ name, type: tensorTypeBytes(1), extra: [] })),
      valueInfo: [],
      extra: [],
    },
    extra: [],
  };
}

export function buildModelBytes(spec: GraphSpec): Uint8Array {
  return encodeModel(buildModel(spec));
}

/** Deterministic pseudo-random weights in [-1, 1). */
export function weights(name: string, dims: number[], seed = 1): OnnxTensor {
  let state = seed;
  const count = dims.reduce((a, b) => a * b, 1);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    values[i] = state / 1073741824 - 1;
  }
  return floatTensor(name, dims, values);
}

/**
 * A YOLOv5-like detector: a Conv+SiLU backbone with a residual Add, three 1x1 detect convs, then
 * the Detect head's decode arithmetic (reshape, sigmoid, xy*2-0.5+grid, (wh*2)^2*anchor, concat).
 */
export function yolov5LikeModel(): OnnxModel {
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const convSilu = (input: string, out: string, cin: number, cout: number, stride: number, seed: number) => {
    inits.push(weights(`${out}.w`, [cout, cin, 3, 3], seed), weights(`${out}.b`, [cout], seed + 100));
    nodes.push(node('Conv', [input, `${out}.w`, `${out}.b`], [`${out}.conv`], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [stride, stride])]));
    nodes.push(node('Sigmoid', [`${out}.conv`], [`${out}.sig`]));
    nodes.push(node('Mul', [`${out}.conv`, `${out}.sig`], [out]));
  };
  convSilu('images', 'b1', 3, 8, 2, 1);
  convSilu('b1', 'b2', 8, 8, 1, 2);
  nodes.push(node('Add', ['b1', 'b2'], ['res']));
  convSilu('res', 'b3', 8, 8, 2, 3);
  const outputs: string[] = [];
  ['res', 'b3'].forEach((feature, level) => {
    const p = `detect${level}`;
    inits.push(weights(`${p}.w`, [18, 8, 1, 1], 10 + level), weights(`${p}.b`, [18], 20 + level));
    nodes.push(node('Conv', [feature, `${p}.w`, `${p}.b`], [`${p}.conv`], [ints('kernel_shape', [1, 1])]));
    inits.push({ name: `${p}.shape`, dataType: 7, dims: [3], raw: new Uint8Array(new BigInt64Array([1n, 18n, -1n]).buffer), extra: [] });
    nodes.push(node('Reshape', [`${p}.conv`, `${p}.shape`], [`${p}.flat`]));
    nodes.push(node('Sigmoid', [`${p}.flat`], [`${p}.prob`]));
    inits.push(floatTensor(`${p}.two`, [], [2]), floatTensor(`${p}.half`, [], [0.5]), floatTensor(`${p}.anchor`, [1, 18, 1], new Float32Array(18).fill(4)));
    nodes.push(node('Mul', [`${p}.prob`, `${p}.two`], [`${p}.x2`]));
    nodes.push(node('Sub', [`${p}.x2`, `${p}.half`], [`${p}.xy`]));
    nodes.push(node('Pow', [`${p}.x2`, `${p}.two`], [`${p}.sq`]));
    nodes.push(node('Mul', [`${p}.sq`, `${p}.anchor`], [`${p}.wh`]));
    nodes.push(node('Concat', [`${p}.xy`, `${p}.wh`], [`${p}.out`], [int('axis', 2)]));
    outputs.push(`${p}.out`);
  });
  nodes.push(node('Concat', outputs, ['output'], [int('axis', 2)]));
  return buildModel({ nodes, initializers: inits, input: { name: 'images', dims: [1, 3, 32, 32] }, outputs: ['output'] });
}
