/**
 * ONNX Runtime lowering of the channel-equalized SiLU (lib/quantize/equalize.ts) into INT8 kernels.
 *
 * Channel equalization divides a conv's output channels by s1[c] so one per-tensor INT8 scale fits
 * them all, and restores them with a float Mul before the SiLU; where the product is equalized too,
 * a second Mul divides it by s2[c]. In the Q/DQ model that is
 *
 *   x_eq_q -> DQ -> Mul(s1) -> x -> x * Sigmoid(x) -> [Mul(1/s2)] -> Q -> product_q
 *
 * which ONNX Runtime's CPU provider runs as five float passes; the per-channel Muls broadcast along
 * the innermost axis of its NHWC layout and were the costliest of them (yolox_nano, AVX2: `Mul`
 * was the second-largest operator after QLinearConv). Rewritten here into INT8 kernels:
 *
 *   u_q = QLinearConv_1x1_depthwise(x_eq_q; weight 127, scale s1[c] / 127)   the sigmoid's argument, on [-8, 8]
 *   g_q = QLinearSigmoid(u_q)                                              steps of 1/255
 *   product_q = QLinearMul(x_eq_q, g_q)                                    where r = s1 / s2 is 1
 *     or p_q = QLinearMul(x_eq_q, g_q) on x_eq's grid, then
 *        product_q = QLinearConv_1x1_depthwise(p_q; scale r[c] / 127)     otherwise (r = s1 without s2)
 *
 * Why these pieces: x_eq * sigmoid(s1 x_eq) * (s1 / s2) is the product, so the multiplicand never
 * leaves x_eq's equalized grid (the narrow channels keep their resolution, the point of
 * equalizing), and only the sigmoid needs the true x. The sigmoid saturates beyond |x| = 8 (within
 * 3.4e-4 of 0 or 1), so its argument is rounded on a fixed [-8, 8] grid of steps 16/255, whatever
 * x's range. A 1x1 depthwise QLinearConv with weights 127 and per-channel scales s/127 multiplies
 * each channel by an arbitrary float s exactly before its one rounding; QLinearMul with a
 * broadcast [1, C, 1, 1] constant would quantize the factors themselves and measured twice as slow
 * as the conv on AVX2.
 *
 * Only chains whose DQ and Q are per-tensor UINT8 with constant parameters, whose factors are
 * constant [1, C, 1, 1] tensors, and whose intermediate tensors have no other readers are lowered;
 * everything else is left to ONNX Runtime as it is.
 */
import { hasPerTensorUint8Grid, indexGraph, nameAllocator, soleReader, type GraphIndex } from './graph-index';
import { MICROSOFT_DOMAIN, withMicrosoftDomain } from './opset';
import { DataType, floatTensor, int8Tensor, tensorFloats, uint8Tensor, type OnnxModel, type OnnxNode, type OnnxTensor } from './model';

/** The sigmoid's argument grid: [-8, 8] in 255 steps, zero point 128. */
const ARGUMENT_SCALE = 16 / 255;
const ARGUMENT_ZERO = 128;

export interface EqualizedSiluLowering {
  model: OnnxModel;
  /** Keys (the restoring Mul's name) of the chains lowered, with whether a factor pass follows. */
  lowered: { chain: string; rescaled: boolean }[];
}

/** A constant per-channel factor [1, C, 1, 1] (or [C, 1, 1]) of float values, as a Float32Array. */
function channelFactors(index: GraphIndex, name: string): Float32Array | undefined {
  const t = index.initializers.get(name);
  if (!t || t.dataType !== DataType.FLOAT) return undefined;
  const dims = t.dims.length === 4 ? t.dims : t.dims.length === 3 ? [1, ...t.dims] : undefined;
  if (!dims || dims[0] !== 1 || dims[2] !== 1 || dims[3] !== 1) return undefined;
  const values = tensorFloats(t);
  return values.every((v) => Number.isFinite(v) && v > 0) ? values : undefined;
}

export function lowerEqualizedSilu(model: OnnxModel): EqualizedSiluLowering {
  const graph = model.graph;
  const index = indexGraph(graph);
  const unique = nameAllocator(graph);
  const replaced = new Map<OnnxNode, OnnxNode[]>();
  const removed = new Set<OnnxNode>();
  const initializers: OnnxTensor[] = [];
  const lowered: EqualizedSiluLowering['lowered'] = [];
  const rewires: { node: OnnxNode; from: string; to: string }[] = [];
  let shared: { inv255: string; zero: string; argScale: string; argZero: string } | undefined;
  const constants = () => {
    if (!shared) {
      const tensors = [
        floatTensor(unique('equalized_silu_sigmoid_scale'), [], [1 / 255]),
        uint8Tensor(unique('equalized_silu_zero_point'), [], Uint8Array.of(0)),
        floatTensor(unique('equalized_silu_argument_scale'), [], [ARGUMENT_SCALE]),
        uint8Tensor(unique('equalized_silu_argument_zero_point'), [], Uint8Array.of(ARGUMENT_ZERO)),
      ];
      initializers.push(...tensors);
      shared = { inv255: tensors[0].name, zero: tensors[1].name, argScale: tensors[2].name, argZero: tensors[3].name };
    }
    return shared;
  };
  /** A 1x1 depthwise QLinearConv multiplying channel c by factors[c]: weights 127, scales factors / 127. */
  const channelProduct = (key: string, input: [string, string, string], factors: Float32Array, output: [string, string], out: string): OnnxNode => {
    const channels = factors.length;
    const weight = int8Tensor(unique(`${key}_weight`), [channels, 1, 1, 1], new Int8Array(channels).fill(127));
    const scale = floatTensor(unique(`${key}_weight_scale`), [channels], factors.map((f) => f / 127));
    const zero = int8Tensor(unique(`${key}_weight_zero_point`), [channels], new Int8Array(channels));
    initializers.push(weight, scale, zero);
    return {
      name: unique(`${key}_QLinearConv`),
      opType: 'QLinearConv',
      domain: '',
      inputs: [...input, weight.name, scale.name, zero.name, ...output],
      outputs: [out],
      attributes: [
        { name: 'group', type: 2, i: channels, extra: [] },
        { name: 'kernel_shape', type: 7, ints: [1, 1], extra: [] },
      ],
      extra: [],
    };
  };

  for (const restore of graph.nodes) {
    if (restore.opType !== 'Mul' || restore.domain !== '') continue;
    const dq = index.producer.get(restore.inputs[0]);
    const s1 = channelFactors(index, restore.inputs[1]);
    if (!dq || !s1 || dq.opType !== 'DequantizeLinear' || !hasPerTensorUint8Grid(index, dq) || soleReader(index, dq.outputs[0]) !== restore) continue;
    const x = restore.outputs[0];
    const readers = index.consumers.get(x) ?? [];
    const sigmoid = readers.find((n) => n.opType === 'Sigmoid' && n.domain === '');
    const mul = readers.find((n) => n.opType === 'Mul' && n.domain === '' && sigmoid !== undefined && n.inputs.includes(x) && n.inputs.includes(sigmoid.outputs[0]));
    if (!sigmoid || !mul || readers.length !== 2 || index.graphOutputs.has(x) || soleReader(index, sigmoid.outputs[0]) !== mul) continue;
    // Either Mul(1/s2) -> Q, or a Q directly (a product not equalized: Concat or Add may read it too,
    // and will then read the quantized product back through a DequantizeLinear, as lower-int8-silu.ts does).
    const productReaders = index.graphOutputs.has(mul.outputs[0]) ? [] : index.consumers.get(mul.outputs[0]) ?? [];
    let next: OnnxNode | undefined;
    let r: Float32Array = s1;
    let productScale: OnnxNode | undefined;
    let floatReaders: OnnxNode[] = [];
    if (productReaders.length === 1 && productReaders[0].opType === 'Mul' && productReaders[0].domain === '' && productReaders[0].inputs[0] === mul.outputs[0]) {
      productScale = productReaders[0];
      const inverse = channelFactors(index, productScale.inputs[1]);
      if (!inverse || inverse.length !== s1.length) continue;
      r = s1.map((v, c) => v * inverse[c]);
      next = soleReader(index, productScale.outputs[0]);
    } else {
      next = productReaders.find((n) => n.opType === 'QuantizeLinear' && n.domain === '');
      floatReaders = productReaders.filter((n) => n !== next);
    }
    if (!next || next.opType !== 'QuantizeLinear' || next.domain !== '' || !hasPerTensorUint8Grid(index, next)) continue;
    const q = next;
    const key = restore.name || x;
    const c = constants();
    const xq: [string, string, string] = [dq.inputs[0], dq.inputs[1], dq.inputs[2]];
    const argument = unique(`${key}_sigmoid_argument`);
    const gate = unique(`${key}_sigmoid_quantized`);
    const nodes: OnnxNode[] = [
      channelProduct(`${key}_argument`, xq, s1, [c.argScale, c.argZero], argument),
      { name: unique(`${key}_QLinearSigmoid`), opType: 'QLinearSigmoid', domain: MICROSOFT_DOMAIN, inputs: [argument, c.argScale, c.argZero, c.inv255, c.zero], outputs: [gate], attributes: [], extra: [] },
    ];
    // r within float rounding of 1 everywhere: the product is x_eq * sigmoid(x) on the Q's grid directly.
    const rescaled = r.some((v) => Math.abs(v - 1) > 1e-5);
    const gateInputs = [gate, c.inv255, c.zero];
    if (!rescaled) {
      nodes.push({ name: unique(`${key}_QLinearMul`), opType: 'QLinearMul', domain: MICROSOFT_DOMAIN, inputs: [...xq, ...gateInputs, q.inputs[1], q.inputs[2]], outputs: [q.outputs[0]], attributes: [], extra: [] });
    } else {
      const partial = unique(`${key}_product_unscaled`);
      nodes.push(
        { name: unique(`${key}_QLinearMul`), opType: 'QLinearMul', domain: MICROSOFT_DOMAIN, inputs: [...xq, ...gateInputs, xq[1], xq[2]], outputs: [partial], attributes: [], extra: [] },
        channelProduct(`${key}_product`, [partial, xq[1], xq[2]], r, [q.inputs[1], q.inputs[2]], q.outputs[0]),
      );
    }
    if (floatReaders.length > 0) {
      let dequantized = (index.consumers.get(q.outputs[0]) ?? []).find((n) => n.opType === 'DequantizeLinear' && n.inputs[1] === q.inputs[1] && n.inputs[2] === q.inputs[2]);
      if (!dequantized) {
        dequantized = { name: unique(`${mul.outputs[0]}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [q.outputs[0], q.inputs[1], q.inputs[2]], outputs: [unique(`${mul.outputs[0]}_dequantized`)], attributes: [], extra: [] };
        nodes.push(dequantized);
      }
      for (const reader of floatReaders) rewires.push({ node: reader, from: mul.outputs[0], to: dequantized.outputs[0] });
    }
    for (const n of [dq, restore, sigmoid, mul, ...(productScale ? [productScale] : [])]) removed.add(n);
    replaced.set(q, nodes);
    lowered.push({ chain: key, rescaled });
  }
  if (lowered.length === 0) return { model, lowered };
  // Copies of the rewired readers: the caller's model is not edited.
  const rewired = new Map<OnnxNode, OnnxNode>();
  for (const { node, from, to } of rewires) {
    const copy = rewired.get(node) ?? { ...node, inputs: node.inputs.slice() };
    copy.inputs = copy.inputs.map((i) => (i === from ? to : i));
    rewired.set(node, copy);
  }
  const nodes = graph.nodes.flatMap((n) => replaced.get(n) ?? (removed.has(n) ? [] : [rewired.get(n) ?? n]));
  // The restoring factors nothing reads any more go with the nodes.
  const read = new Set(nodes.flatMap((n) => n.inputs));
  const dropped = new Set([...removed].flatMap((n) => n.inputs));
  const kept = graph.initializers.filter((t) => !dropped.has(t.name) || read.has(t.name));
  return { model: withMicrosoftDomain({ ...model, graph: { ...graph, nodes, initializers: [...kept, ...initializers] } }), lowered };
}
