/**
 * ONNX Runtime lowering of the SiLU between two INT8 convolutions.
 *
 * The portable Q/DQ model runs x * sigmoid(x) in float between the DequantizeLinear of a conv's
 * INT8 output and the QuantizeLinear of the next conv's input: TensorRT and OpenVINO fuse that
 * SiLU into the convolution. ONNX Runtime's CPU provider does not: it runs DequantizeLinear,
 * Sigmoid, Mul and QuantizeLinear as four float passes, which cost more than its INT8
 * convolutions save (measured on yolox_nano, AVX2: DequantizeLinear alone took longer than all
 * of QLinearConv). Rewritten here into ONNX Runtime's own INT8 element-wise kernels:
 *
 *   QLinearSigmoid(x_q) -> s_q (scale 1/255, a lookup table)   QLinearMul(x_q, s_q) -> y_q
 *
 * where y_q is what the QuantizeLinear after the Mul produced. The one new rounding is the
 * sigmoid's 8-bit output (steps of 1/255). Other readers of the product (a residual Add, a
 * Concat) then read y_q dequantized. Only a SiLU whose input comes from a per-tensor UINT8
 * DequantizeLinear and whose product is quantized by a per-tensor UINT8 QuantizeLinear is
 * rewritten; the channel-equalized SiLUs (a Mul restores each channel first) stay in float.
 */
import { hasPerTensorUint8Grid, indexGraph, nameAllocator } from './graph-index';
import { MICROSOFT_DOMAIN, withMicrosoftDomain } from './opset';
import { floatTensor, uint8Tensor, type OnnxModel, type OnnxNode, type OnnxTensor } from './model';

export function lowerInt8Silu(model: OnnxModel): { model: OnnxModel; lowered: number } {
  const graph = model.graph;
  const index = indexGraph(graph);
  const unique = nameAllocator(graph);
  const removed = new Set<OnnxNode>();
  const insertAfter = new Map<OnnxNode, OnnxNode[]>();
  const initializers: OnnxTensor[] = [];
  const rewires: { node: OnnxNode; from: string; to: string }[] = [];
  let lowered = 0;

  for (const sigmoid of graph.nodes) {
    if (sigmoid.opType !== 'Sigmoid' || sigmoid.domain !== '') continue;
    const dq = index.producer.get(sigmoid.inputs[0]);
    if (!dq || dq.opType !== 'DequantizeLinear' || !hasPerTensorUint8Grid(index, dq) || dq.attributes.some((a) => a.name === 'axis' && a.i !== 1)) continue;
    const sigReaders = index.consumers.get(sigmoid.outputs[0]) ?? [];
    if (sigReaders.length !== 1) continue;
    const mul = sigReaders[0];
    if (mul.opType !== 'Mul' || mul.domain !== '' || !mul.inputs.includes(dq.outputs[0]) || index.graphOutputs.has(mul.outputs[0])) continue;
    const productReaders = index.consumers.get(mul.outputs[0]) ?? [];
    const q = productReaders.find((n) => n.opType === 'QuantizeLinear' && n.domain === '' && hasPerTensorUint8Grid(index, n) && !index.graphOutputs.has(n.outputs[0]));
    if (!q) continue;
    // The float readers of the product will read the quantized product back through a DQ.
    const others = productReaders.filter((n) => n !== q);
    let dequantized = (index.consumers.get(q.outputs[0]) ?? []).find((n) => n.opType === 'DequantizeLinear' && n.inputs[1] === q.inputs[1] && n.inputs[2] === q.inputs[2]);
    const newNodes: OnnxNode[] = [];
    const key = sigmoid.name || sigmoid.outputs[0];
    const sigScale = floatTensor(unique(`${key}_int8_scale`), [], [1 / 255]);
    const sigZero = uint8Tensor(unique(`${key}_int8_zero_point`), [], Uint8Array.of(0));
    initializers.push(sigScale, sigZero);
    const sigQ = unique(`${sigmoid.outputs[0]}_quantized`);
    const [xq, xs, xz] = dq.inputs;
    newNodes.push(
      { name: unique(`${key}_QLinearSigmoid`), opType: 'QLinearSigmoid', domain: MICROSOFT_DOMAIN, inputs: [xq, xs, xz, sigScale.name, sigZero.name], outputs: [sigQ], attributes: [], extra: [] },
      {
        name: unique(`${mul.name || mul.outputs[0]}_QLinearMul`),
        opType: 'QLinearMul',
        domain: MICROSOFT_DOMAIN,
        inputs: [xq, xs, xz, sigQ, sigScale.name, sigZero.name, q.inputs[1], q.inputs[2]],
        outputs: [q.outputs[0]],
        attributes: [],
        extra: [],
      },
    );
    if (others.length > 0 && !dequantized) {
      dequantized = { name: unique(`${mul.outputs[0]}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [q.outputs[0], q.inputs[1], q.inputs[2]], outputs: [unique(`${mul.outputs[0]}_dequantized`)], attributes: [], extra: [] };
      newNodes.push(dequantized);
    }
    for (const reader of others) rewires.push({ node: reader, from: mul.outputs[0], to: dequantized!.outputs[0] });
    removed.add(sigmoid).add(mul).add(q);
    // The new nodes go where the Q was: after everything that produced their inputs.
    insertAfter.set(q, newNodes);
    lowered++;
  }
  if (lowered === 0) return { model, lowered };
  // Copies of the rewired readers: the caller's model is not edited.
  const rewired = new Map<OnnxNode, OnnxNode>();
  for (const { node, from, to } of rewires) {
    const copy = rewired.get(node) ?? { ...node, inputs: node.inputs.slice() };
    copy.inputs = copy.inputs.map((i) => (i === from ? to : i));
    rewired.set(node, copy);
  }
  const nodes = graph.nodes.flatMap((n) => (removed.has(n) ? insertAfter.get(n) ?? [] : [rewired.get(n) ?? n]));
  return { model: withMicrosoftDomain({ ...model, graph: { ...graph, nodes, initializers: [...graph.initializers, ...initializers] } }), lowered };
}
