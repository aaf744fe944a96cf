/**
 * Removes the nodes whose outputs nothing reads (and the initializers only they read), repeatedly,
 * so a chain of dead nodes goes as a whole.
 *
 * Why: ONNX Runtime 1.30 runs such nodes. A lowering that replaces a SiLU with QLinearSigmoid +
 * QLinearMul on the quantized tensor leaves the DequantizeLinear that fed the float SiLU without
 * a reader; its profile (yolox_nano INT8, AVX2) showed all 46 of them executing, each behind a
 * Transpose the layout pass inserted to feed it NCHW: about 10 % of the model's time for nothing.
 */
import type { OnnxModel, OnnxNode } from './model';

export interface PruneResult {
  model: OnnxModel;
  /** How many nodes were removed. */
  removed: number;
}

export function pruneDeadNodes(model: OnnxModel): PruneResult {
  const graph = model.graph;
  const outputs = new Set(graph.outputs.map((o) => o.name));
  let nodes: OnnxNode[] = graph.nodes;
  for (;;) {
    const read = new Set<string>(outputs);
    for (const node of nodes) for (const input of node.inputs) if (input) read.add(input);
    const live = nodes.filter((node) => node.outputs.some((o) => o !== '' && read.has(o)));
    if (live.length === nodes.length) break;
    nodes = live;
  }
  const removed = graph.nodes.length - nodes.length;
  if (removed === 0) return { model, removed };
  // Initializers only the removed nodes read go with them; others (and graph inputs' defaults) stay.
  const readBefore = new Set(graph.nodes.flatMap((n) => n.inputs));
  const readAfter = new Set(nodes.flatMap((n) => n.inputs));
  for (const o of outputs) readAfter.add(o);
  // Old exporters list initializers among the graph inputs: those stay, or the input would lose its default.
  for (const i of graph.inputs) readAfter.add(i.name);
  const initializers = graph.initializers.filter((t) => !readBefore.has(t.name) || readAfter.has(t.name));
  return { model: { ...model, graph: { ...graph, nodes, initializers } }, removed };
}
