/**
 * Split on the quantized tensor: `DQ -> Split -> Q` (every output quantized on the input's grid)
 * becomes `Split` of the 8-bit tensor, whose outputs are what the Qs wrote.
 *
 * ONNX Runtime 1.30 drops such Q/DQ pairs around MaxPool, Resize and Slice itself, not around Split
 * (YOLOv8's C2f blocks split every bottleneck's input): it dequantized, split in float and
 * quantized each half again. Exact: the values are the same integers.
 */
import { indexGraph, type GraphIndex } from './graph-index';
import type { OnnxModel, OnnxNode } from './model';

export interface SplitLowering {
  model: OnnxModel;
  lowered: number;
}

function sameGrid(index: GraphIndex, a: OnnxNode, b: OnnxNode): boolean {
  for (const slot of [1, 2]) {
    if (a.inputs[slot] === b.inputs[slot]) continue;
    const x = index.initializers.get(a.inputs[slot]);
    const y = index.initializers.get(b.inputs[slot]);
    if (!x || !y || x.dataType !== y.dataType || !x.raw || !y.raw || x.raw.length !== y.raw.length || !x.raw.every((v, i) => v === y.raw![i])) return false;
  }
  return true;
}

export function lowerInt8Split(model: OnnxModel): SplitLowering {
  const graph = model.graph;
  const index = indexGraph(graph);
  const removed = new Set<OnnxNode>();
  const replaced = new Map<OnnxNode, OnnxNode>();
  for (const split of graph.nodes) {
    if (split.opType !== 'Split' || split.domain !== '') continue;
    const dq = index.producer.get(split.inputs[0]);
    if (!dq || dq.opType !== 'DequantizeLinear' || dq.domain !== '' || (index.consumers.get(dq.outputs[0]) ?? []).length !== 1) continue;
    if (dq.attributes.some((a) => a.name === 'axis') && (index.initializers.get(dq.inputs[1])?.dims.length ?? 0) > 0) continue;
    const qs = split.outputs.map((o) => {
      const readers = index.graphOutputs.has(o) ? [] : index.consumers.get(o) ?? [];
      return readers.length === 1 && readers[0].opType === 'QuantizeLinear' && readers[0].domain === '' && sameGrid(index, dq, readers[0]) ? readers[0] : undefined;
    });
    if (qs.some((q) => !q)) continue;
    replaced.set(split, { ...split, inputs: [dq.inputs[0], ...split.inputs.slice(1)], outputs: qs.map((q) => q!.outputs[0]) });
    removed.add(dq);
    for (const q of qs) removed.add(q!);
  }
  if (replaced.size === 0) return { model, lowered: 0 };
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { model: { ...model, graph: { ...graph, nodes } }, lowered: replaced.size };
}
