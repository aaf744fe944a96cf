/**
 * How many nodes of each operator type a model's main graph holds, read straight from the
 * protobuf (weights are skipped, not copied). The engine uses it to tell a quantized (Q/DQ)
 * model from a float one.
 */
import { ProtoReader } from './protobuf';

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const NODE_OP_TYPE = 4;
const NODE_DOMAIN = 7;

export function countGraphOps(bytes: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>();
  const model = new ProtoReader(bytes);
  while (model.next()) {
    if (model.field !== MODEL_GRAPH) {
      model.skip();
      continue;
    }
    const graph = model.message();
    while (graph.next()) {
      if (graph.field !== GRAPH_NODE) {
        graph.skip();
        continue;
      }
      const node = graph.message();
      let opType = '';
      let domain = '';
      while (node.next()) {
        if (node.field === NODE_OP_TYPE) opType = node.string();
        else if (node.field === NODE_DOMAIN) domain = node.string();
        else node.skip();
      }
      const key = domain && domain !== 'ai.onnx' ? `${domain}.${opType}` : opType;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** QuantizeLinear/DequantizeLinear pairs (or QLinear*, MatMulInteger...) make a model INT8. */
export function isQuantizedModel(ops: ReadonlyMap<string, number>): boolean {
  for (const op of ops.keys()) {
    if (/^(QuantizeLinear|DequantizeLinear|QLinear\w+|ConvInteger|MatMulInteger|DynamicQuantizeLinear)$/.test(op) || /\.(QuantizeLinear|DequantizeLinear|QLinear\w+)$/.test(op)) {
      return true;
    }
  }
  return false;
}
