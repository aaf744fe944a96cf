/**
 * A dynamic batch dimension for a model exported with batch 1, so one inference can run several
 * frames (`detectBatch`, the video pipeline's `batch`, Triton's `max_batch_size`).
 *
 * Detector exports fix the batch at 1 in three places, and each is rewritten:
 *
 * - the graph inputs and outputs: dimension 0 becomes the symbol `batch`;
 * - Reshape targets stored as constants (`[1, 85, -1]` in YOLOX's head, `[1, 4, 16, 8400]` in the
 *   YOLOv8 DFL): the leading 1 becomes 0, which Reshape reads as "copy the input's dimension 0"
 *   (with `allowzero` set, where 0 is literal, -1 instead, when the target has no other -1);
 * - value_info entries that state a batch of 1 are dropped (the runtime infers them again),
 *   so no stale shape contradicts the new one.
 *
 * Everything else in these graphs is batch-agnostic: convolutions, element-wise ops (constants of
 * shape [1, C, 1, 1] broadcast over any batch), Concat/Split/Softmax on later axes, Transposes that
 * keep axis 0 first. An op that does act on the batch axis (a Concat or Split along axis 0, a
 * Transpose that moves it, a Reshape whose constant target does not keep it first, a Flatten at
 * axis 0...) makes the rewrite refuse with ERR_MODEL naming the node, rather than produce a model
 * that mixes frames. Reshape targets computed at run time (Shape -> Gather -> Concat) are already
 * generic and are left as they are.
 */
import { Int8DetectError } from '../util/errors';
import { indexGraph, nameAllocator, type GraphIndex } from './graph-index';
import { decodeModel, encodeModel, intAttribute, intsAttribute, tensorInts, int64Tensor, valueInfoShape, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './model';
import { ProtoWriter } from './writer';

export interface DynamicBatchResult {
  /** The rewritten model (a copy); the input model itself when it already had a dynamic batch. */
  model: OnnxModel;
  /** Whether anything changed. */
  changed: boolean;
  /** The symbol of dimension 0 of the inputs and outputs. */
  dimension: string;
  /** Node names (or keys) of the Reshapes whose constant target was rewritten. */
  reshapes: string[];
}

export interface DynamicBatchOptions {
  /** The symbolic name of the batch dimension (default 'batch'). */
  dimension?: string;
}

/** The TypeProto of a tensor of `elemType` with these dimensions (numbers fixed, strings symbolic). */
export function tensorTypeWithShape(elemType: number, dims: readonly (number | string)[]): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, (tensorType) => {
    tensorType.int64(1, elemType);
    tensorType.message(2, (shape) => {
      for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int64(1, d) : dim.string(2, d)));
    });
  });
  return w.finish();
}

/** Whether the model's first input already has a symbolic (or unknown) dimension 0. */
export function hasDynamicBatch(model: OnnxModel): boolean {
  const index = indexGraph(model.graph);
  const input = model.graph.inputs.find((i) => index.graphInputs.has(i.name));
  if (!input) return false;
  const { dims } = valueInfoShape(input);
  return dims !== null && dims.length > 0 && typeof dims[0] !== 'number';
}

function refuse(node: OnnxNode, why: string): Int8DetectError {
  return new Int8DetectError('ERR_MODEL', `Cannot give the model a dynamic batch dimension: ${node.opType} node '${node.name}' ${why}`);
}

function constantInts(index: GraphIndex, tensor: string): number[] | undefined {
  const init = index.initializers.get(tensor);
  if (init) return tensorInts(init);
  const node = index.producer.get(tensor);
  if (node?.opType === 'Constant' && node.domain === '') {
    const value = node.attributes.find((a) => a.name === 'value')?.t;
    return value ? tensorInts(value) : undefined;
  }
  return undefined;
}

/** The axis attribute of a node, normalised against a rank when negative (rank unknown: as given). */
function axisOf(node: OnnxNode, fallback: number): number {
  return intAttribute(node, 'axis', fallback);
}

/**
 * The checks on ops that could act on the batch axis. Only tensors that carry the batch are a
 * concern; the detectors this library reads carry it on every activation, so the checks apply to
 * every node whose first input is not a constant.
 */
function checkNode(node: OnnxNode, index: GraphIndex): void {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return;
  const firstIsConstant = node.inputs[0] !== undefined && (index.initializers.has(node.inputs[0]) || index.producer.get(node.inputs[0])?.opType === 'Constant');
  if (firstIsConstant) return;
  switch (node.opType) {
    case 'Concat':
    case 'Split':
    case 'Softmax':
    case 'LogSoftmax':
    case 'Gather':
    case 'CumSum':
      if (axisOf(node, node.opType === 'Softmax' || node.opType === 'LogSoftmax' ? -1 : 0) === 0) throw refuse(node, 'works along axis 0, the batch');
      return;
    case 'Flatten':
      if (axisOf(node, 1) === 0) throw refuse(node, 'flattens the batch into the features (axis 0)');
      return;
    case 'Transpose': {
      const perm = intsAttribute(node, 'perm');
      if (!perm || perm[0] !== 0) throw refuse(node, `moves the batch axis (perm ${perm ? `[${perm.join(', ')}]` : 'reversed'})`);
      return;
    }
    case 'Squeeze':
    case 'Unsqueeze': {
      const axes = intsAttribute(node, 'axes') ?? (node.inputs[1] ? constantInts(index, node.inputs[1]) : undefined);
      if (!axes) throw refuse(node, 'has axes computed at run time');
      if (axes.includes(0)) throw refuse(node, 'squeezes or inserts axis 0, the batch');
      return;
    }
    case 'Slice': {
      const axes = node.inputs[3] ? constantInts(index, node.inputs[3]) : undefined;
      const starts = node.inputs[1] ? constantInts(index, node.inputs[1]) : undefined;
      if (!starts) throw refuse(node, 'has starts computed at run time');
      // Without axes, the slice covers axes 0..n-1 in order, so it cuts the batch axis.
      if ((axes ?? starts.map((_, i) => i)).includes(0)) throw refuse(node, 'slices along axis 0, the batch');
      return;
    }
    default:
      return;
  }
}

/**
 * The model with a dynamic batch dimension on its inputs and outputs (see the file comment).
 * Throws ERR_MODEL when an input does not have batch 1 in dimension 0 (or no stated shape), or when
 * a node works along the batch axis.
 */
export function makeBatchDynamic(model: OnnxModel, options: DynamicBatchOptions = {}): DynamicBatchResult {
  const dimension = options.dimension ?? 'batch';
  if (hasDynamicBatch(model)) return { model, changed: false, dimension, reshapes: [] };
  const graph = model.graph;
  const index = indexGraph(graph);
  const rebatch = (info: OnnxValueInfo, role: string): OnnxValueInfo => {
    const { elemType, dims } = valueInfoShape(info);
    // An output that states no shape has none to fix: the runtime infers it.
    if (dims === null && role === 'output') return info;
    if (!dims || dims.length === 0) throw new Int8DetectError('ERR_MODEL', `Cannot give the model a dynamic batch dimension: ${role} '${info.name}' states no shape`);
    if (dims[0] !== 1) throw new Int8DetectError('ERR_MODEL', `Cannot give the model a dynamic batch dimension: ${role} '${info.name}' has dimension 0 of ${dims[0]}, not 1`);
    return { ...info, type: tensorTypeWithShape(elemType, [dimension, ...dims.slice(1)]) };
  };
  const inputs = graph.inputs.map((i) => (index.graphInputs.has(i.name) ? rebatch(i, 'input') : i));
  const outputs = graph.outputs.map((o) => rebatch(o, 'output'));
  for (const node of graph.nodes) checkNode(node, index);

  const unique = nameAllocator(graph);
  const newInitializers: OnnxTensor[] = [];
  const reshapes: string[] = [];
  const nodes = graph.nodes.map((node) => {
    if (node.opType !== 'Reshape' || node.domain !== '' || !node.inputs[1]) return node;
    const target = constantInts(index, node.inputs[1]);
    if (!target) return node; // computed at run time from the input's shape: batch-generic already
    if (target[0] === 0 && intAttribute(node, 'allowzero', 0) === 0) return node;
    if (target[0] !== 1) throw refuse(node, `reshapes to [${target.join(', ')}], which does not keep the batch first`);
    const allowZero = intAttribute(node, 'allowzero', 0) !== 0;
    if (allowZero && target.includes(-1)) throw refuse(node, `reshapes to [${target.join(', ')}] with allowzero set and a -1 already`);
    const rewritten = int64Tensor(unique(`${node.inputs[1]}_dynamic_batch`), [target.length], [allowZero ? -1 : 0, ...target.slice(1)]);
    newInitializers.push(rewritten);
    reshapes.push(node.name || node.outputs[0]);
    return { ...node, inputs: [node.inputs[0], rewritten.name, ...node.inputs.slice(2)] };
  });
  // A value_info that states batch 1 would contradict the new shapes; the runtime infers them again.
  const valueInfo = graph.valueInfo.filter((v) => valueInfoShape(v).dims?.[0] !== 1);
  // The replaced Reshape targets go when nothing reads them any more.
  const replaced = new Set(graph.nodes.filter((n, i) => nodes[i] !== n).map((n) => n.inputs[1]));
  const read = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...graph.initializers.filter((t) => !replaced.has(t.name) || read.has(t.name)), ...newInitializers];
  return {
    model: { ...model, graph: { ...graph, inputs, outputs, nodes, valueInfo, initializers } },
    changed: true,
    dimension,
    reshapes,
  };
}

/**
 * An ONNX model's bytes with a dynamic batch dimension (the bytes as given when it already has
 * one), and the Reshapes whose constant target was rewritten.
 */
export function batchDynamicBytes(bytes: Uint8Array, options: DynamicBatchOptions = {}): { bytes: Uint8Array; reshapes: string[] } {
  const { model, changed, reshapes } = makeBatchDynamic(decodeModel(bytes), options);
  return { bytes: changed ? encodeModel(model) : bytes, reshapes };
}
