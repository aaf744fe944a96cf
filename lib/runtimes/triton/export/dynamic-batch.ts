/**
 * Detector exports fix their batch at 1: the graph's inputs and outputs say [1, ...], and the
 * head's Reshape nodes carry constant shapes such as [1, 85, -1]. For Triton's dynamic batching
 * the batch must vary, so this rewrite:
 * - names the first dimension of every graph input and output 'batch';
 * - turns a leading 1 in each constant Reshape shape into 0, which ONNX Reshape reads as "copy
 *   this dimension from the input" (unless allowzero = 1, then the node is refused);
 * - drops value_info, whose recorded intermediate shapes hold the old batch of 1 (runtimes infer
 *   them again).
 * The export then runs the rewritten model on a batch of two and checks each item against the
 * original model run alone (checkDynamicBatch), so a graph this rewrite cannot handle is refused
 * rather than exported wrong.
 */
import { Int8DetectError } from '../../../util/errors';
import { indexGraph, nameAllocator } from '../../../onnx/graph-index';
import { attribute, cloneModel, decodeModel, encodeModel, int64Tensor, tensorInts, valueInfoShape, type OnnxModel, type OnnxTensor, type OnnxValueInfo } from '../../../onnx/model';
import { ProtoWriter } from '../../../onnx/writer';

export const BATCH_DIM = 'batch';

export interface DynamicBatchResult {
  bytes: Uint8Array;
  /** Reshape nodes whose constant shape now copies the batch from their input. */
  reshapes: string[];
}

/** A TypeProto { tensor_type { elem_type, shape { dim... } } } with the given dims. */
function tensorType(elemType: number, dims: readonly (number | string)[]): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, (t) => {
    t.int64(1, elemType);
    t.message(2, (shape) => {
      for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int64(1, d) : dim.string(2, d)));
    });
  });
  return w.finish();
}

function withBatchDim(info: OnnxValueInfo, what: 'input' | 'output'): OnnxValueInfo {
  const { elemType, dims } = valueInfoShape(info);
  // An output that states no shape has none to fix: the runtime infers it.
  if (dims === null && what === 'output') return info;
  if (dims === null || dims.length === 0) {
    throw new Int8DetectError('ERR_MODEL', `Cannot make the batch dynamic: ${what} '${info.name}' states no shape`);
  }
  if (typeof dims[0] === 'number' && dims[0] !== 1) {
    throw new Int8DetectError('ERR_MODEL', `Cannot make the batch dynamic: ${what} '${info.name}' has a first dimension of ${dims[0]}, not a batch of 1`);
  }
  return { ...info, type: tensorType(elemType, [BATCH_DIM, ...dims.slice(1)]) };
}

export function makeBatchDynamic(bytes: Uint8Array): DynamicBatchResult {
  const model: OnnxModel = cloneModel(decodeModel(bytes));
  const graph = model.graph;
  const index = indexGraph(graph);
  graph.inputs = graph.inputs.map((input) => (index.graphInputs.has(input.name) ? withBatchDim(input, 'input') : input));
  graph.outputs = graph.outputs.map((output) => withBatchDim(output, 'output'));
  graph.valueInfo = [];

  const unique = nameAllocator(graph);
  const added: OnnxTensor[] = [];
  const reshapes: string[] = [];
  graph.nodes.forEach((node, i) => {
    if (node.opType !== 'Reshape' || node.domain !== '' || node.inputs.length < 2) return;
    const shapeName = node.inputs[1];
    const initializer = index.initializers.get(shapeName);
    const producer = index.producer.get(shapeName);
    const constant = initializer ?? (producer?.opType === 'Constant' ? attribute(producer, 'value')?.t : undefined);
    if (!constant) return;
    const shape = tensorInts(constant);
    if (shape[0] !== 1) return;
    const label = node.name || `#${i}`;
    if ((attribute(node, 'allowzero')?.i ?? 0) === 1) {
      throw new Int8DetectError('ERR_MODEL', `Cannot make the batch dynamic: Reshape ${label} has allowzero = 1, so its fixed batch of 1 cannot be turned into "copy from the input"`);
    }
    // A new constant per node: the original may be shared with nodes that must keep it.
    const replacement = int64Tensor(unique(`${shapeName}_dynamic_batch`), [shape.length], [0, ...shape.slice(1)]);
    added.push(replacement);
    node.inputs[1] = replacement.name;
    reshapes.push(label);
  });
  graph.initializers = [...graph.initializers, ...added];
  // Initializers nothing reads any more (the replaced shapes) are dropped.
  const read = new Set(graph.nodes.flatMap((n) => n.inputs));
  graph.initializers = graph.initializers.filter((t) => read.has(t.name) || graph.inputs.some((input) => input.name === t.name));
  return { bytes: encodeModel(model), reshapes };
}
