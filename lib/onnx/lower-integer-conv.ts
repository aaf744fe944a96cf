/**
 * ONNX Runtime lowering of INT8 convolutions whose output stays float.
 *
 * A Q/DQ model may quantize a convolution's input and weight but leave its output in float (the
 * mixed-precision search keeps a sensitive conv output float; the first conv of a detector often
 * is one). TensorRT and OpenVINO run such a conv as an INT8 kernel with a float output. ONNX
 * Runtime's CPU provider fuses only the full DQ -> Conv -> Q pattern (QLinearConv); without the Q
 * it dequantizes the input and the weight and runs the conv in float. This rewrite gives it the
 * same INT8 arithmetic explicitly:
 *
 *   ConvInteger(x_q, w_q + 128, x_zero_point, 128) -> int32 -> Cast(float) -> Mul(x_scale * w_scale[c]) -> Add(bias[c])
 *
 * which is exact: the int32 accumulator times the two scales is what the dequantized conv
 * computes, up to float rounding. The weights go in as UINT8 with zero point 128: ONNX Runtime's
 * UINT8 x INT8 ConvInteger path on x86 without VNNI sums pairs of products in 16 bits
 * (VPMADDUBSW), which saturates on raw 0..255 pixels times large weights, and is also about 4x
 * slower than its UINT8 x UINT8 path (measured on the stem conv of YOLOX-Nano, AVX2). Only convs whose input DQ and weight DQ have constant,
 * per-tensor (input) and per-output-channel (weight) parameters, zero weight zero points and a
 * constant bias are rewritten; anything else is left to ONNX Runtime as it is.
 */
import { indexGraph, nameAllocator } from './graph-index';
import { DataType, floatTensor, intAttribute, tensorFloats, uint8Tensor, type OnnxModel, type OnnxNode, type OnnxTensor } from './model';

export interface IntegerConvLowering {
  model: OnnxModel;
  /** Names (or keys) of the convs rewritten. */
  lowered: string[];
}

function isZeroPointZero(t: OnnxTensor | undefined): boolean {
  if (!t) return true;
  return t.raw !== undefined && t.raw.every((b) => b === 0);
}

function scalarFloat(t: OnnxTensor | undefined): number | undefined {
  if (!t || t.dataType !== DataType.FLOAT) return undefined;
  const v = tensorFloats(t);
  return v.length === 1 ? v[0] : undefined;
}

/** Whether any conv of the model has a dequantized input and weight but no Q on its output. */
export function lowerIntegerConvs(model: OnnxModel): IntegerConvLowering {
  const graph = model.graph;
  const index = indexGraph(graph);
  const constant = (name: string) => index.initializers.get(name);
  const lowered: string[] = [];
  const replacement = new Map<OnnxNode, OnnxNode[]>();
  const newInitializers: OnnxTensor[] = [];
  const unique = nameAllocator(graph);

  for (const conv of graph.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '') continue;
    const output = conv.outputs[0];
    const readers = index.consumers.get(output) ?? [];
    // ONNX Runtime fuses DQ -> Conv -> Q itself when the Q is the output's only reader.
    if (readers.length === 1 && readers[0].opType === 'QuantizeLinear') continue;
    const xDq = index.producer.get(conv.inputs[0]);
    const wDq = index.producer.get(conv.inputs[1]);
    if (xDq?.opType !== 'DequantizeLinear' || wDq?.opType !== 'DequantizeLinear') continue;
    const [xq, xsName, xzpName] = xDq.inputs;
    const [wqName, wsName, wzpName] = wDq.inputs;
    const xScale = scalarFloat(constant(xsName));
    const wq = constant(wqName);
    const ws = constant(wsName);
    const xzp = xzpName ? constant(xzpName) : undefined;
    if (xScale === undefined || !wq || wq.dataType !== DataType.INT8 || !wq.raw || !ws || ws.dataType !== DataType.FLOAT) continue;
    // UINT8 activations only (x86's default); the zero point's type is the only constant witness of it.
    if (!xzp || xzp.dataType !== DataType.UINT8) continue;
    if (!isZeroPointZero(wzpName ? constant(wzpName) : undefined)) continue;
    const channels = wq.dims[0];
    const wScales = tensorFloats(ws);
    if (wScales.length !== 1 && wScales.length !== channels) continue;
    if (wScales.length > 1 && intAttribute(wDq, 'axis', 1) !== 0) continue;
    const biasName = conv.inputs[2];
    const bias = biasName ? constant(biasName) : undefined;
    if (biasName && (!bias || bias.dataType !== DataType.FLOAT)) continue;

    const key = conv.name || output;
    const rescale = new Float32Array(channels);
    for (let c = 0; c < channels; c++) rescale[c] = xScale * (wScales.length === 1 ? wScales[0] : wScales[c]);
    const scaleTensor = floatTensor(unique(`${key}_integer_rescale`), [1, channels, 1, 1], rescale);
    newInitializers.push(scaleTensor);
    const shifted = new Uint8Array(wq.raw.length);
    for (let i = 0; i < shifted.length; i++) shifted[i] = ((wq.raw[i] << 24) >> 24) + 128;
    const weightTensor = uint8Tensor(unique(`${key}_weight_uint8`), wq.dims, shifted);
    const weightZero = uint8Tensor(unique(`${key}_weight_zero_point`), [], Uint8Array.of(128));
    newInitializers.push(weightTensor, weightZero);
    const accumulator = unique(`${key}_int32`);
    const asFloat = unique(`${key}_int32_float`);
    const scaled = biasName ? unique(`${key}_rescaled`) : output;
    const nodes: OnnxNode[] = [
      {
        name: unique(`${key}_ConvInteger`),
        opType: 'ConvInteger',
        domain: '',
        inputs: [xq, weightTensor.name, xzpName, weightZero.name],
        outputs: [accumulator],
        attributes: conv.attributes,
        extra: [],
      },
      { name: unique(`${key}_Cast`), opType: 'Cast', domain: '', inputs: [accumulator], outputs: [asFloat], attributes: [{ name: 'to', type: 2, i: DataType.FLOAT, extra: [] }], extra: [] },
      { name: unique(`${key}_Rescale`), opType: 'Mul', domain: '', inputs: [asFloat, scaleTensor.name], outputs: [scaled], attributes: [], extra: [] },
    ];
    if (biasName && bias) {
      const biasTensor = floatTensor(unique(`${key}_bias_nchw`), [1, channels, 1, 1], tensorFloats(bias));
      newInitializers.push(biasTensor);
      nodes.push({ name: unique(`${key}_Bias`), opType: 'Add', domain: '', inputs: [scaled, biasTensor.name], outputs: [output], attributes: [], extra: [] });
    }
    replacement.set(conv, nodes);
    lowered.push(key);
  }
  if (lowered.length === 0) return { model, lowered };
  const nodes = graph.nodes.flatMap((n) => replacement.get(n) ?? [n]);
  // Drop the DQ nodes and float weights nothing reads any more.
  const read = new Set(nodes.flatMap((n) => n.inputs));
  for (const o of graph.outputs) read.add(o.name);
  const kept = nodes.filter((n) => n.opType !== 'DequantizeLinear' || n.outputs.some((o) => read.has(o)));
  const stillRead = new Set(kept.flatMap((n) => n.inputs));
  for (const o of graph.outputs) stillRead.add(o.name);
  // Only what the removed nodes read may go: other initializers are left as they were.
  const keptSet = new Set(kept);
  const removed = new Set(graph.nodes.filter((n) => !keptSet.has(n)).flatMap((n) => n.inputs));
  const initializers = [...graph.initializers.filter((t) => !removed.has(t.name) || stillRead.has(t.name)), ...newInitializers];
  return { model: { ...model, graph: { ...graph, nodes: kept, initializers } }, lowered };
}
