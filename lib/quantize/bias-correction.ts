/**
 * Fast bias correction: rounding a layer's weights to the INT8 grid moves the mean of each of its
 * output channels, by sum over the taps of (W - Wq) x E[input], and the shift is not random: in a
 * depthwise conv with 9 weights per channel it is a visible, systematic offset that every later
 * layer inherits. Adding that shift to the layer's float bias puts each channel's mean back where
 * FP32 has it (Nagel et al., "Data-Free Quantization", 2019, section 4.2; NNCF's
 * FastBiasCorrection does the same from the same statistics).
 *
 * Here the expectation is exact for a conv fed with its per-channel input means, padding
 * included: a kernel tap that falls on the zero padding at the border of some output positions
 * contributes only over the fraction of positions where it lands inside the input. NNCF runs the
 * quantized layer on a blob filled with the means to get the same number; this computes it.
 *
 * The activations have the same problem one level up: one per-tensor grid for every channel, so a
 * narrow channel (values within a step or two) rounds with a bias of its own. A second, short pass
 * over calibration frames, once the grids are known, measures that rounding bias per input channel
 * (clipping left out: see foldChannelRoundingBias); the conv reading it gets -W x that bias.
 *
 * Runtime-independent, as NNCF keeps its algorithms apart from its backends: the corrections live
 * in the plan, and each emitter (Q/DQ ONNX, OpenVINO FakeQuantize IR) adds them to the biases,
 * each only while the weight or activation it compensates is quantized.
 */
import { Int8DetectError } from '../util/errors';
import { nodesByKey, type GraphIndex } from '../onnx/graph-index';
import { attribute, intAttribute, intsAttribute, tensorFloats, type OnnxNode, type OnnxTensor } from '../onnx/model';
import { forEachChannelSpan } from './channel-spans';
import type { ComputeSite } from './placement';
import { quantizePerChannel } from './weights';

export interface BiasCorrection {
  /** The compute node's key. */
  node: string;
  /** The float bias initializer the correction is added to. */
  bias: string;
  /** What it compensates: the rounding of a weight, or of an activation (the node's input). */
  source: 'weight' | 'activation';
  /** That tensor: the correction applies only while it is quantized (not kept float). */
  tensor: string;
  /** Per output channel, the amount added to the bias. */
  delta: number[];
}

/** An activation's quantization grid: `levels` steps from `low` to `high` (ONNX Q/DQ and FakeQuantize alike). */
export interface ActivationGrid {
  low: number;
  high: number;
  levels: number;
}

/** The part of a weight plan the correction needs (lib/quantize/plan.ts WeightPlan). */
interface QuantizedWeight {
  name: string;
  axis: number;
  dims: number[];
  scales: number[];
}

const CORRECTED_OPS = new Set(['Conv', 'Gemm']);

/**
 * Which roundings to correct: 'all' (weights and activations), 'weights', or 'none'. Measured on
 * yolox_nano and yolov8n (docs/quantization.md): 'all' lifts OpenVINO's agreement with FP32 on
 * both (a lot on yolox_nano), while on the Q/DQ model no mode gained on both, so the OpenVINO
 * quantizer defaults to 'all' and the portable one to 'none'.
 */
export type BiasCorrectionMode = 'all' | 'weights' | 'none';
export const BIAS_CORRECTION_MODES: readonly BiasCorrectionMode[] = ['all', 'weights', 'none'];

/** The bias initializer a site's correction would go to, or undefined when it has none of its own. */
function ownBias(index: GraphIndex, node: OnnxNode): string | undefined {
  const bias = node.opType === 'Conv' || node.opType === 'Gemm' ? node.inputs[2] : undefined;
  if (!bias || !index.initializers.has(bias)) return undefined;
  // A bias shared with another node would be corrected for both: leave it alone.
  if ((index.consumers.get(bias) ?? []).length !== 1) return undefined;
  return bias;
}

/** Output channels of a Conv (weight [Cout, Cin/g, k...]) or a Gemm (B [K, N], or [N, K] with transB). */
function outputChannels(node: OnnxNode, weightDims: readonly number[]): number {
  return node.opType === 'Gemm' && intAttribute(node, 'transB', 0) === 0 ? weightDims[1] : weightDims[0];
}

interface CorrectableSite {
  site: ComputeSite;
  node: OnnxNode;
  bias: string;
  weight: OnnxTensor;
}

/**
 * The sites whose bias can be corrected: a quantized Conv or Gemm (plain: no transA, alpha and
 * beta 1) with a weight initializer and a bias of its own holding one value per output channel.
 */
function correctableSites(index: GraphIndex, compute: readonly ComputeSite[]): CorrectableSite[] {
  const byKey = nodesByKey(index);
  const result: CorrectableSite[] = [];
  for (const site of compute) {
    if (!site.quantized || site.weight === '' || !CORRECTED_OPS.has(site.opType)) continue;
    const node = byKey.get(site.node);
    const weight = index.initializers.get(site.weight);
    if (!node || !weight) continue;
    if (node.opType === 'Gemm' && (intAttribute(node, 'transA', 0) !== 0 || (attribute(node, 'alpha')?.f ?? 1) !== 1 || (attribute(node, 'beta')?.f ?? 1) !== 1)) continue;
    const bias = ownBias(index, node);
    if (!bias || index.initializers.get(bias)!.dims.reduce((a, b) => a * b, 1) !== outputChannels(node, weight.dims)) continue;
    result.push({ site, node, bias, weight });
  }
  return result;
}

/** The output-mean change of a site whose weights change by `factor` at input means `perInput` (or the reverse). */
function siteDelta({ node, weight }: CorrectableSite, factor: ArrayLike<number>, perInput: ArrayLike<number>, inputShape: readonly number[]): number[] {
  return node.opType === 'Conv' ? convDelta(node, factor, weight.dims, perInput, inputShape) : gemmDelta(node, factor, weight.dims, perInput);
}

/** The activation tensors whose per-channel means the corrections need (collect them with collectStatistics' `channelMeans`). */
export function biasCorrectionInputs(index: GraphIndex, compute: readonly ComputeSite[]): string[] {
  return [...new Set(correctableSites(index, compute).map((s) => s.site.input))];
}

/**
 * For each spatial tap of a conv's kernel (row-major over the kernel's dims), the fraction of
 * output positions at which it reads inside the input rather than the zero padding.
 */
export function tapCoverage(node: OnnxNode, inputSpatial: readonly number[], kernel: readonly number[]): Float64Array {
  const rank = kernel.length;
  if (inputSpatial.length !== rank) throw new Int8DetectError('ERR_MODEL', `Conv '${node.name}': input has ${inputSpatial.length} spatial dims, kernel ${rank}`);
  const strides = intsAttribute(node, 'strides') ?? new Array<number>(rank).fill(1);
  const dilations = intsAttribute(node, 'dilations') ?? new Array<number>(rank).fill(1);
  const autoPad = attribute(node, 'auto_pad')?.s ?? 'NOTSET';
  const pads = intsAttribute(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
  const perDim: Float64Array[] = [];
  for (let d = 0; d < rank; d++) {
    const size = inputSpatial[d];
    const reach = (kernel[d] - 1) * dilations[d] + 1;
    let begin: number;
    let outputs: number;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      outputs = Math.ceil(size / strides[d]);
      const total = Math.max(0, (outputs - 1) * strides[d] + reach - size);
      begin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    } else {
      begin = autoPad === 'VALID' ? 0 : pads[d];
      const end = autoPad === 'VALID' ? 0 : pads[d + rank];
      outputs = Math.floor((size + begin + end - reach) / strides[d]) + 1;
    }
    const coverage = new Float64Array(kernel[d]);
    if (outputs < 1) throw new Int8DetectError('ERR_MODEL', `Conv '${node.name}': no output positions along spatial dim ${d}`);
    for (let k = 0; k < kernel[d]; k++) {
      let inside = 0;
      for (let o = 0; o < outputs; o++) {
        const i = o * strides[d] - begin + k * dilations[d];
        if (i >= 0 && i < size) inside++;
      }
      coverage[k] = inside / outputs;
    }
    perDim.push(coverage);
  }
  // The outer product over the spatial dims, in the kernel's row-major order.
  let result = Float64Array.of(1);
  for (const coverage of perDim) {
    const next = new Float64Array(result.length * coverage.length);
    for (let a = 0; a < result.length; a++) for (let b = 0; b < coverage.length; b++) next[a * coverage.length + b] = result[a] * coverage[b];
    result = next;
  }
  return result;
}

/** W - Wq for a per-channel symmetric weight, in the weight's layout. */
function roundingError(values: Float32Array, w: QuantizedWeight): Float64Array {
  const scales = Float32Array.from(w.scales);
  const codes = quantizePerChannel(values, w.dims, w.axis, scales);
  const inner = w.dims.slice(w.axis + 1).reduce((a, b) => a * b, 1);
  const channels = w.dims[w.axis];
  const error = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const channel = Math.floor(i / inner) % channels;
    error[i] = values[i] - codes[i] * scales[channel];
  }
  return error;
}

/**
 * Per output channel, sum over input channels k and taps t of factor[c, k, t] x coverage[t] x
 * perInput[k]: a conv's output-mean change when its weights change by `factor` at input means
 * `perInput`, or when its input means change by `perInput` under weights `factor`.
 */
function convDelta(node: OnnxNode, error: ArrayLike<number>, dims: readonly number[], means: ArrayLike<number>, inputShape: readonly number[]): number[] {
  const [outChannels, inPerGroup, ...kernel] = dims;
  const group = intAttribute(node, 'group', 1);
  if (means.length !== inPerGroup * group) {
    throw new Int8DetectError('ERR_MODEL', `Conv '${node.name}': ${means.length} input channel means for ${inPerGroup} x ${group} weight input channels`);
  }
  const coverage = tapCoverage(node, inputShape.slice(2), kernel);
  const taps = coverage.length;
  const outPerGroup = outChannels / group;
  const delta = new Array<number>(outChannels).fill(0);
  for (let c = 0; c < outChannels; c++) {
    const firstInput = Math.floor(c / outPerGroup) * inPerGroup;
    let sum = 0;
    for (let k = 0; k < inPerGroup; k++) {
      const mean = means[firstInput + k];
      const base = (c * inPerGroup + k) * taps;
      for (let t = 0; t < taps; t++) sum += error[base + t] * coverage[t] * mean;
    }
    delta[c] = sum;
  }
  return delta;
}

function gemmDelta(node: OnnxNode, error: ArrayLike<number>, dims: readonly number[], means: ArrayLike<number>): number[] {
  // Y = A x B (+ C); B is [K, N], or [N, K] with transB: the shift of column n is sum_k dB[k, n] E[A_k].
  const transB = intAttribute(node, 'transB', 0) !== 0;
  const [rows, cols] = dims;
  const k = transB ? cols : rows;
  const n = transB ? rows : cols;
  if (means.length !== k) throw new Int8DetectError('ERR_MODEL', `Gemm '${node.name}': ${means.length} input means for K = ${k}`);
  const delta = new Array<number>(n).fill(0);
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let i = 0; i < k; i++) sum += error[transB ? j * k + i : i * n + j] * means[i];
    delta[j] = sum;
  }
  return delta;
}

/**
 * The bias corrections for the quantized weights of `compute`, from the per-channel means of each
 * site's input (`channelMeans`, axis 1) and its per-frame shape (`shapes`). Sites whose input
 * means were not collected are skipped.
 */
export function computeBiasCorrections(
  index: GraphIndex,
  compute: readonly ComputeSite[],
  weights: readonly QuantizedWeight[],
  channelMeans: ReadonlyMap<string, Float64Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
): BiasCorrection[] {
  const weightPlans = new Map(weights.map((w) => [w.name, w]));
  const corrections: BiasCorrection[] = [];
  for (const correctable of correctableSites(index, compute)) {
    const { site, bias, weight } = correctable;
    const w = weightPlans.get(site.weight);
    const means = channelMeans.get(site.input);
    const inputShape = shapes.get(site.input);
    if (!w || !means || !inputShape) continue;
    // The plan's axis says which dim holds the per-channel scales (a Gemm's output column).
    const delta = siteDelta(correctable, roundingError(tensorFloats(weight), w), means, inputShape);
    if (delta.every((d) => d === 0)) continue;
    corrections.push({ node: site.node, bias, source: 'weight', tensor: site.weight, delta });
  }
  return corrections;
}

/** The activations read, quantized, by a correctable site: input tensor -> its quantized consumers' grid. */
export function activationBiasInputs<A extends { name: string; consumers: readonly string[] }>(
  index: GraphIndex,
  compute: readonly ComputeSite[],
  activations: readonly A[],
  grid: (activation: A) => ActivationGrid,
): Map<string, ActivationGrid> {
  const byName = new Map(activations.map((a) => [a.name, a]));
  const result = new Map<string, ActivationGrid>();
  for (const { site } of correctableSites(index, compute)) {
    const a = byName.get(site.input);
    if (a && a.consumers.includes(site.node) && !result.has(a.name)) result.set(a.name, grid(a));
  }
  return result;
}

/**
 * Corrections for the activations' rounding: `roundingBias` holds, per input tensor, the mean of
 * fq(x) - clip(x) per channel over calibration frames (collectStatistics' `channelRoundingBias`).
 */
export function activationBiasCorrections(
  index: GraphIndex,
  compute: readonly ComputeSite[],
  roundingBias: ReadonlyMap<string, Float64Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
): BiasCorrection[] {
  const corrections: BiasCorrection[] = [];
  for (const correctable of correctableSites(index, compute)) {
    const { site, bias, weight } = correctable;
    const perChannel = roundingBias.get(site.input);
    const inputShape = shapes.get(site.input);
    if (!perChannel || !inputShape) continue;
    // The input's mean is off by +bias per channel; the weights (float or rounded: a second-order
    // difference) carry that into each output channel, so the output takes it back out.
    const delta = siteDelta(correctable, tensorFloats(weight).map((v) => -v), perChannel, inputShape);
    if (delta.every((d) => d === 0)) continue;
    corrections.push({ node: site.node, bias, source: 'activation', tensor: site.input, delta });
  }
  return corrections;
}

/** The sum of the corrections that apply once `keepFloat` stays float, by bias name: a float tensor has no rounding to correct. */
export function activeBiasCorrections(corrections: readonly BiasCorrection[] | undefined, keepFloat: ReadonlySet<string>): Map<string, Float32Array> {
  const result = new Map<string, Float32Array>();
  for (const c of corrections ?? []) {
    if (keepFloat.has(c.tensor)) continue;
    const sum = result.get(c.bias) ?? new Float32Array(c.delta.length);
    for (let i = 0; i < sum.length; i++) sum[i] += c.delta[i];
    result.set(c.bias, sum);
  }
  return result;
}

/** Per-channel sums over axis 1 of an NCHW-like batch, folded into `sums`; returns the elements per channel added. */
export function foldChannelSums(data: Float32Array, dims: readonly number[], sums: Float64Array): number {
  return forEachChannelSpan(data, dims, (c, start, end) => {
    let sum = 0;
    for (let i = start; i < end; i++) sum += data[i];
    sums[c] += sum;
  });
}

/**
 * Per-channel sums over axis 1 of fq(x) - clip(x), the rounding error of x (an NCHW-like batch)
 * on `grid` (round half to even, as ONNX QuantizeLinear) without the clipping, folded into `sums`;
 * returns the elements per channel added.
 */
export function foldChannelRoundingBias(data: Float32Array, dims: readonly number[], grid: ActivationGrid, sums: Float64Array): number {
  const step = (grid.high - grid.low) / (grid.levels - 1);
  const top = grid.levels - 1;
  return forEachChannelSpan(data, dims, (c, start, end) => {
    let sum = 0;
    for (let i = start; i < end; i++) {
      const x = data[i];
      const u = (x - grid.low) / step;
      let q = Math.round(u);
      // Math.round rounds halves up; ties go to the even level, as QuantizeLinear does.
      if (q - u === 0.5 && q % 2 !== 0) q -= 1;
      q = q < 0 ? 0 : q > top ? top : q;
      // The rounding alone: a clipped tail moves a channel's mean too, but a shift of every
      // value cannot undo an error that only the few clipped values carry (measured: including
      // it lowered the agreement with FP32 on yolox_nano, 0.984 to 0.978).
      sum += grid.low + q * step - Math.min(Math.max(x, grid.low), grid.high);
    }
    sums[c] += sum;
  });
}
