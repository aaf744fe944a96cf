/**
 * ONNX Runtime lowering: `DequantizeLinear(x, s, zp) -> Mul(c)` with a constant per-channel `c`
 * becomes one per-channel `DequantizeLinear(x, s * c, zp, axis = 1)`.
 *
 * Channel equalization (lib/quantize/equalize.ts) leaves exactly this pattern after every
 * equalized conv output: the conv's INT8 output is read back in its equalized scale and a Mul
 * restores each channel's true value for the SiLU. ONNX Runtime runs the DQ and the Mul as two
 * passes over the tensor; a per-axis DQ is one. The portable model keeps the Mul, because
 * TensorRT's explicit quantization takes per-channel scales on weights only.
 */
import { indexGraph } from './graph-index';
import { DataType, floatTensor, intAttribute, tensorFloats, uint8Tensor, type OnnxModel, type OnnxNode, type OnnxTensor } from './model';

export function foldDequantizeScales(model: OnnxModel): { model: OnnxModel; folded: number } {
  const graph = model.graph;
  const index = indexGraph(graph);
  const taken = new Set([...graph.initializers.map((t) => t.name), ...graph.nodes.flatMap((n) => [...n.outputs, n.name])]);
  const unique = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const replaced = new Map<OnnxNode, OnnxNode | null>();
  const initializers: OnnxTensor[] = [];
  for (const dq of graph.nodes) {
    if (dq.opType !== 'DequantizeLinear' || dq.domain !== '') continue;
    const readers = index.consumers.get(dq.outputs[0]) ?? [];
    if (readers.length !== 1 || readers[0].opType !== 'Mul' || index.graphOutputs.has(dq.outputs[0])) continue;
    const mul = readers[0];
    const other = mul.inputs[0] === dq.outputs[0] ? mul.inputs[1] : mul.inputs[0];
    const factor = index.initializers.get(other);
    const scale = index.initializers.get(dq.inputs[1]);
    const zeroPoint = dq.inputs[2] ? index.initializers.get(dq.inputs[2]) : undefined;
    // Per-tensor UINT8 DQ times a [1, C, 1, ...] float constant only.
    if (!factor || factor.dataType !== DataType.FLOAT || !scale || scale.dataType !== DataType.FLOAT || tensorFloats(scale).length !== 1) continue;
    if (!zeroPoint || zeroPoint.dataType !== DataType.UINT8 || !zeroPoint.raw || zeroPoint.raw.length !== 1) continue;
    if (factor.dims.length < 2 || factor.dims[0] !== 1 || factor.dims.slice(2).some((d) => d !== 1)) continue;
    if (intAttribute(dq, 'axis', 1) !== 1 && dq.attributes.some((a) => a.name === 'axis')) continue;
    const channels = factor.dims[1];
    const s = tensorFloats(scale)[0];
    const perChannel = floatTensor(unique(`${dq.outputs[0]}_channel_scale`), [channels], Float32Array.from(tensorFloats(factor), (c) => c * s));
    const zeros = uint8Tensor(unique(`${dq.outputs[0]}_channel_zero_point`), [channels], new Uint8Array(channels).fill(zeroPoint.raw[0]));
    initializers.push(perChannel, zeros);
    replaced.set(dq, {
      ...dq,
      name: unique(`${dq.name || dq.outputs[0]}_per_channel`),
      inputs: [dq.inputs[0], perChannel.name, zeros.name],
      outputs: [mul.outputs[0]],
      attributes: [{ name: 'axis', type: 2, i: 1, extra: [] }],
    });
    replaced.set(mul, null);
  }
  if (initializers.length === 0) return { model, folded: 0 };
  const nodes = graph.nodes.flatMap((n) => {
    const r = replaced.get(n);
    return r === undefined ? [n] : r === null ? [] : [r];
  });
  // The Mul's factor and the DQ's scalar parameters go when nothing else reads them.
  const read = new Set(nodes.flatMap((n) => n.inputs));
  const dropped = new Set([...replaced.keys()].flatMap((n) => n.inputs).filter((name) => !read.has(name) && !index.graphOutputs.has(name)));
  const kept = graph.initializers.filter((t) => !dropped.has(t.name));
  return { model: { ...model, graph: { ...graph, nodes, initializers: [...kept, ...initializers] } }, folded: initializers.length / 2 };
}
