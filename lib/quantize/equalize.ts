/**
 * Channel equalization around Conv -> SiLU -> Conv, an exact rewrite of the float model made
 * before calibration, so that per-tensor activation scales fit every channel.
 *
 * Why: a per-tensor INT8 scale is set by the widest channel. In a detector's stem, which sees raw
 * 0..255 pixels, the first conv's output channels span from +-0.4 to +-117 (YOLOX-Nano): the
 * narrow channels fall within one or two quantization steps and their information is lost. The
 * same holds, less extremely, deeper in the backbone. Weights are quantized per output channel,
 * so scaling a conv's output channels costs its weights nothing:
 *
 * - s1 (the conv's output): conv A's weights and bias of channel c are divided by s1[c] so every
 *   channel spans the widest one's range; an explicit Mul by s1 restores the true value for the
 *   SiLU (SiLU is not scale-invariant, so the factor cannot pass through it).
 * - s2 (the SiLU product, when only convs read it): the product is divided by s2[c] (a Mul) and
 *   the readers' weights of input channel c are multiplied by s2[c]. For a depthwise reader that
 *   input channel is an output channel, so s2 equalizes fully at no cost; for a dense reader the
 *   factor moves range into its weights, balanced as SmoothQuant does (alpha 0.5).
 *
 * Both are exact in float arithmetic: the FP32 model's outputs do not change. A chain is
 * equalized only where its channel ranges differ by more than `minRangeRatio`.
 */
import { indexGraph, nameAllocator, nodesByKey, type GraphIndex } from '../onnx/graph-index';
import { channelCount, forEachChannelSpan } from './channel-spans';
import { cloneModel, DataType, floatTensor, intAttribute, tensorFloats, type OnnxModel, type OnnxNode, type OnnxTensor } from '../onnx/model';

export interface SiluChain {
  /** Node key of the conv whose output feeds the SiLU. */
  conv: string;
  /** The conv's output (the SiLU's input). */
  tensor: string;
  /** The SiLU product x * sigmoid(x). */
  product: string;
  /** Node keys of the convs that read the product, when only convs read it (else empty). */
  readers: string[];
}

export interface EqualizedChain extends SiluChain {
  channels: number;
  /** Widest over narrowest channel range of the conv's output, before equalization. */
  rangeRatio: number;
  /** Whether the product was equalized too, and how (1: depthwise readers only, 0.5: dense readers). */
  productAlpha: number | null;
  /** The tensor that now holds the conv's equalized output, and the product's, in the rewritten model. */
  equalizedTensor: string;
  equalizedProduct: string | null;
}

export interface EqualizeOptions {
  /** Chains whose channel ranges differ less than this stay as they are (default 8). */
  minRangeRatio?: number;
  /** SmoothQuant's migration strength for dense readers of the product (default 0.5). */
  alpha?: number;
  /**
   * How a product read only by depthwise convs is equalized: 'own-range' (default: by its own
   * channel ranges) or 'input-factors' (by the conv output's factors s1, so x * sigmoid(x) / s2 is
   * x_eq * sigmoid(x) and ONNX Runtime's INT8 SiLU needs no rescaling pass: lower-equalized-silu.ts).
   */
  depthwiseProduct?: 'own-range' | 'input-factors';
}

const groupOf = (node: OnnxNode) => intAttribute(node, 'group', 1);

function floatInitializer(index: GraphIndex, name: string | undefined): OnnxTensor | undefined {
  const t = name ? index.initializers.get(name) : undefined;
  return t && t.dataType === DataType.FLOAT ? t : undefined;
}

/** Read only by this node (so rescaling it changes nothing else). */
function ownedBy(index: GraphIndex, tensor: string, node: OnnxNode): boolean {
  const readers = index.consumers.get(tensor) ?? [];
  return readers.length === 1 && readers[0] === node;
}

/**
 * Conv -> x -> {Sigmoid(x), Mul(x, sigmoid)} chains among `convs` (node keys; every conv when
 * absent). The conv's weight and bias must be float initializers of its own.
 */
export function findSiluChains(model: OnnxModel, convs?: ReadonlySet<string>): SiluChain[] {
  const index = indexGraph(model.graph);
  const chains: SiluChain[] = [];
  for (const conv of model.graph.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '') continue;
    const key = index.nodeKey.get(conv)!;
    if (convs && !convs.has(key)) continue;
    const [, weightName, biasName] = conv.inputs;
    if (!floatInitializer(index, weightName) || !ownedBy(index, weightName, conv)) continue;
    if (biasName && (!floatInitializer(index, biasName) || !ownedBy(index, biasName, conv))) continue;
    const x = conv.outputs[0];
    if (index.graphOutputs.has(x)) continue;
    const readers = index.consumers.get(x) ?? [];
    const sigmoid = readers.find((n) => n.opType === 'Sigmoid' && n.domain === '');
    const mul = readers.find((n) => n.opType === 'Mul' && n.domain === '' && n.inputs.includes(x) && sigmoid !== undefined && n.inputs.includes(sigmoid.outputs[0]));
    if (!sigmoid || !mul || readers.length !== 2 || (index.consumers.get(sigmoid.outputs[0]) ?? []).length !== 1) continue;
    const product = mul.outputs[0];
    const productReaders = index.consumers.get(product) ?? [];
    const channels = index.initializers.get(weightName)!.dims[0];
    const convReaders = productReaders.filter((n) => {
      if (n.opType !== 'Conv' || n.domain !== '' || n.inputs[0] !== product || index.graphOutputs.has(product)) return false;
      const w = floatInitializer(index, n.inputs[1]);
      if (!w || !ownedBy(index, n.inputs[1], n)) return false;
      // Dense, or depthwise (one input channel per group): other groupings mix channels unevenly.
      return (groupOf(n) === 1 && w.dims[1] === channels) || (groupOf(n) === channels && w.dims[1] === 1);
    });
    chains.push({ conv: key, tensor: x, product, readers: convReaders.length === productReaders.length ? convReaders.map((n) => index.nodeKey.get(n)!) : [] });
  }
  return chains;
}

/** The largest |value| of each channel (axis 1) of an NCHW-like tensor, folded into `into`. */
export function foldChannelMaxima(data: Float32Array, dims: readonly number[], into?: Float32Array): Float32Array {
  const result = into ?? new Float32Array(channelCount(dims));
  forEachChannelSpan(data, dims, (c, start, end) => {
    let max = result[c];
    for (let i = start; i < end; i++) {
      const v = Math.abs(data[i]);
      if (v > max) max = v;
    }
    result[c] = max;
  });
  return result;
}

/** A scaled copy of a float initializer (the original model's tensor objects stay untouched). */
function scaledInitializer(tensor: OnnxTensor, factor: (elementIndex: number) => number): OnnxTensor {
  const values = tensorFloats(tensor);
  const scaled = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) scaled[i] = values[i] * factor(i);
  return floatTensor(tensor.name, tensor.dims, scaled);
}

/**
 * The rewritten model (a copy) and what was equalized. `maxima` holds, per chain tensor and
 * product, the largest |value| of each channel over the calibration frames.
 */
export function equalizeChains(
  model: OnnxModel,
  chains: readonly SiluChain[],
  maxima: ReadonlyMap<string, Float32Array>,
  options: EqualizeOptions = {},
): { model: OnnxModel; chains: EqualizedChain[] } {
  const minRatio = options.minRangeRatio ?? 8;
  const alpha = options.alpha ?? 0.5;
  const out = cloneModel(model);
  const graph = out.graph;
  const index = indexGraph(graph);
  const byKey = nodesByKey(index);
  const unique = nameAllocator(graph);
  const after = new Map<OnnxNode, OnnxNode[]>();
  const done: EqualizedChain[] = [];
  // cloneModel shares tensor objects with the original: rescaled weights replace them by name.
  const replaced = new Map<string, OnnxTensor>();
  const current = (name: string) => replaced.get(name) ?? index.initializers.get(name)!;
  const scaleInitializer = (name: string, factor: (elementIndex: number) => number) => replaced.set(name, scaledInitializer(current(name), factor));

  for (const chain of chains) {
    const ranges = maxima.get(chain.tensor);
    const conv = byKey.get(chain.conv);
    if (!ranges || !conv) continue;
    const channels = ranges.length;
    const widest = Math.max(...ranges);
    if (!(widest > 0) || !Number.isFinite(widest)) continue;
    // A dead channel (all zeros) is not stretched by more than 1024x: its values are noise.
    const floor = widest / 1024;
    const narrowest = Math.max(Math.min(...ranges), floor);
    const ratio = widest / narrowest;
    if (ratio < minRatio) continue;
    const weight = current(conv.inputs[1]);
    if (weight.dims[0] !== channels) continue;
    const s1 = Float32Array.from(ranges, (r) => Math.max(r, floor) / widest);
    const perOutput = tensorFloats(weight).length / channels;
    scaleInitializer(weight.name, (i) => 1 / s1[Math.floor(i / perOutput)]);
    if (conv.inputs[2]) scaleInitializer(conv.inputs[2], (c) => 1 / s1[c]);
    const equalizedTensor = unique(`${chain.tensor}_equalized`);
    conv.outputs[0] = equalizedTensor;
    const s1Tensor = floatTensor(unique(`${chain.tensor}_channel_scale`), [1, channels, 1, 1], s1);
    graph.initializers.push(s1Tensor);
    after.set(conv, [{ name: unique(`${chain.conv}_restore_scale`), opType: 'Mul', domain: '', inputs: [equalizedTensor, s1Tensor.name], outputs: [chain.tensor], attributes: [], extra: [] }]);

    let productAlpha: number | null = null;
    let equalizedProduct: string | null = null;
    const productRanges = maxima.get(chain.product);
    const readers = chain.readers.map((k) => byKey.get(k)!).filter(Boolean);
    if (productRanges && productRanges.length === channels && readers.length > 0 && readers.length === chain.readers.length) {
      const dense = readers.filter((n) => groupOf(n) === 1);
      const widestProduct = Math.max(...productRanges);
      let s2: Float32Array;
      if (dense.length === 0) {
        productAlpha = 1;
        s2 = options.depthwiseProduct === 'input-factors' ? Float32Array.from(s1) : Float32Array.from(productRanges, (r) => Math.max(r, widestProduct / 1024) / widestProduct);
      } else {
        productAlpha = alpha;
        const weightMax = new Float32Array(channels);
        for (const reader of dense) {
          const w = current(reader.inputs[1]);
          const values = tensorFloats(w);
          const inner = values.length / (w.dims[0] * w.dims[1]);
          for (let i = 0; i < values.length; i++) {
            const c = Math.floor(i / inner) % w.dims[1];
            weightMax[c] = Math.max(weightMax[c], Math.abs(values[i]));
          }
        }
        s2 = Float32Array.from(productRanges, (r, c) => Math.pow(Math.max(r, widestProduct / 1024), alpha) / Math.pow(Math.max(weightMax[c], 1e-12), 1 - alpha));
        // Only ratios matter; centre the factors on 1 so the product keeps its magnitude.
        const mean = s2.reduce((a, b) => a + b, 0) / channels;
        for (let c = 0; c < channels; c++) s2[c] /= mean;
      }
      for (const reader of readers) {
        const w = current(reader.inputs[1]);
        const inner = tensorFloats(w).length / (w.dims[0] * w.dims[1]);
        if (groupOf(reader) === 1) {
          scaleInitializer(w.name, (i) => s2[Math.floor(i / inner) % w.dims[1]]);
        } else {
          // Depthwise: output channel o reads input channel floor(o / multiplier).
          const multiplier = w.dims[0] / channels;
          scaleInitializer(w.name, (i) => s2[Math.floor(Math.floor(i / inner) / multiplier)]);
        }
      }
      equalizedProduct = unique(`${chain.product}_equalized`);
      const inverse = floatTensor(unique(`${chain.product}_channel_scale`), [1, channels, 1, 1], s2.map((v) => 1 / v));
      graph.initializers.push(inverse);
      const mul = index.producer.get(chain.product)!;
      after.set(mul, [{ name: unique(`${chain.conv}_product_scale`), opType: 'Mul', domain: '', inputs: [chain.product, inverse.name], outputs: [equalizedProduct], attributes: [], extra: [] }]);
      for (const reader of readers) reader.inputs = reader.inputs.map((i) => (i === chain.product ? equalizedProduct! : i));
    }
    done.push({ ...chain, channels, rangeRatio: ratio, productAlpha, equalizedTensor, equalizedProduct });
  }
  graph.nodes = graph.nodes.flatMap((n) => [n, ...(after.get(n) ?? [])]);
  graph.initializers = graph.initializers.map((t) => replaced.get(t.name) ?? t);
  return { model: done.length > 0 ? out : model, chains: done };
}
