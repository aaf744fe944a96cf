/**
 * The quantization plan: every tensor the placement names, with its range method, range, scale
 * and zero point, or the reason it stays in float. Building it is cheap (no inference): the
 * statistics are collected once, and a plan for other options is a second call.
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import { indexGraph, nodesByKey } from '../onnx/graph-index';
import { defaultOpset, tensorFloats, type OnnxModel } from '../onnx/model';
import type { CollectedStatistics } from './collect';
import type { EqualizedChain } from './equalize';
import { placeQuantization, type ComputeSite, type IgnoredScope, type Placement } from './placement';
import { scaleAndZeroPoint, type ActivationMode } from './qparams';
import type { ActivationStatistics, Range, RangeMethod } from './statistics';
import { computeBiasCorrections, type BiasCorrection } from './bias-correction';
import { perChannelScales } from './weights';
import { shareGrids } from './shared-grids';

export type MethodChoice = 'auto' | RangeMethod;

export interface PlanOptions {
  /** How activation ranges are chosen; 'auto' (default) picks per tensor the method of least error. */
  method?: MethodChoice;
  /** Activation encoding; default: defaultActivationMode() for this CPU. */
  activations?: ActivationMode;
  ignoredScope?: IgnoredScope;
  /**
   * 8 (default) or 7: 7-bit weights (-64..63) keep x86 CPUs without VNNI from saturating the
   * 16-bit intermediate sums of their U8S8 kernel (VPMADDUBSW); see docs/quantization.md.
   */
  weightBits?: 7 | 8;
  /**
   * The weights' half of fast bias correction (bias-correction.ts): on by default, applied where
   * the statistics hold the compute inputs' channel means (collectStatistics' `channelMeans`).
   */
  correctWeightBias?: boolean;
}

export interface ActivationPlan {
  name: string;
  kind: 'activation';
  producer: string;
  /** Nodes that read the quantized value. */
  consumers: string[];
  /** Why the tensor is quantized (its place in the graph). */
  reason: string;
  method: RangeMethod;
  range: Range;
  /** Observed min and max over the calibration set. */
  observed: Range;
  /** The statistics module's error estimate for the chosen range. */
  error: number;
  scale: number;
  zeroPoint: number;
  /** The tensor whose grid this one shares (see ActivationSite.alignWith, and shared-grids.ts). */
  alignedWith?: string;
  /** The tensors on one grid with this one, itself included, merged for a Concat (shared-grids.ts): the Concat output's grid. */
  sharedGrid?: string[];
}

export interface WeightPlan {
  name: string;
  kind: 'weight';
  consumers: string[];
  axis: number;
  dims: number[];
  /** One scale per output channel (symmetric, zero point 0). */
  scales: number[];
  bits: 7 | 8;
}

export interface FloatTensorPlan {
  name: string;
  kind: 'float';
  /** Node that keeps it in float, and why. */
  node: string;
  opType: string;
  reason: string;
}

export interface ComputePlan extends ComputeSite {
  /** Multiply-accumulates per frame, when the shapes are known. */
  macs: number | undefined;
}

export interface QuantizationPlan {
  version: 1;
  activationMode: ActivationMode;
  method: MethodChoice;
  weightBits: 7 | 8;
  opset: { from: number; to: number };
  activations: ActivationPlan[];
  weights: WeightPlan[];
  /** Compute nodes and head nodes kept in float, with the reason. */
  float: FloatTensorPlan[];
  compute: ComputePlan[];
  calibration: { frames: number; batches: number; seconds: number };
  warnings: string[];
  /** What each emitter adds to the float biases of the quantized convs (fast bias correction). */
  biasCorrections: BiasCorrection[];
  /** Conv -> SiLU chains channel-equalized before calibration (the plan's tensors are the rewritten model's). */
  equalized?: EqualizedChain[];
}

const METHODS: readonly MethodChoice[] = ['auto', 'minmax', 'entropy', 'percentile'];

/**
 * UINT8 activations with INT8 weights (U8S8) on x86-64, INT8 both (S8S8) elsewhere. ONNX Runtime's
 * x86 INT8 kernels (MLAS) multiply unsigned activations by signed weights (VPMADDUBSW on AVX2,
 * VPDPBUSD on VNNI); signed activations are shifted to unsigned by an extra pass first. ARM's
 * SDOT/SMMLA take signed operands, so symmetric INT8 suits it (and TensorRT) best.
 */
export function defaultActivationMode(arch: string = process.arch): ActivationMode {
  return arch === 'x64' || arch === 'ia32' ? 'uint8-asymmetric' : 'int8-symmetric';
}

export function checkPlanOptions(options: PlanOptions): Required<Omit<PlanOptions, 'ignoredScope'>> & { ignoredScope: IgnoredScope } {
  const method = options.method ?? 'auto';
  if (!METHODS.includes(method)) throw invalidArgument("'auto', 'minmax', 'entropy' or 'percentile'", 'options.method', method);
  const activations = options.activations ?? defaultActivationMode();
  if (activations !== 'int8-symmetric' && activations !== 'uint8-asymmetric') {
    throw invalidArgument("'int8-symmetric' or 'uint8-asymmetric'", 'options.activations', activations);
  }
  const weightBits = options.weightBits ?? 8;
  if (weightBits !== 7 && weightBits !== 8) throw invalidArgument('7 or 8', 'options.weightBits', weightBits);
  const correctWeightBias = options.correctWeightBias ?? true;
  if (typeof correctWeightBias !== 'boolean') throw invalidArgument('true or false', 'options.correctWeightBias', correctWeightBias);
  return { method, activations, weightBits, correctWeightBias, ignoredScope: options.ignoredScope ?? {} };
}

/** Multiply-accumulates of one compute node per frame, from the weight's and the output's shapes. */
function countMacs(opType: string, weightDims: number[] | undefined, outputDims: number[] | undefined, inputDims: number[] | undefined): number | undefined {
  const product = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
  if (!outputDims) return undefined;
  switch (opType) {
    case 'Conv':
      // Each output element sums Cin/group x kernel products: the weight's dims after the first.
      return weightDims ? product(outputDims) * product(weightDims.slice(1)) : undefined;
    case 'ConvTranspose':
      return weightDims && inputDims ? product(inputDims) * product(weightDims.slice(1)) : undefined;
    case 'Gemm':
    case 'MatMul': {
      const k = inputDims ? inputDims[inputDims.length - 1] : weightDims ? weightDims[weightDims.length - 2] : undefined;
      return k === undefined ? undefined : product(outputDims) * k;
    }
    default:
      return undefined;
  }
}

function activationPlan(stats: ActivationStatistics, method: MethodChoice, mode: ActivationMode): Pick<ActivationPlan, 'method' | 'range' | 'error' | 'observed' | 'scale' | 'zeroPoint'> {
  const symmetric = mode === 'int8-symmetric';
  let chosen: { method: RangeMethod; range: Range; error: number };
  if (method === 'auto') {
    chosen = stats.chooseRange(symmetric);
  } else {
    const range = stats.range(method, symmetric);
    chosen = { method, range, error: stats.quantizationError(range, symmetric) };
  }
  const { scale, zeroPoint } = scaleAndZeroPoint(chosen.range, mode);
  return { method: chosen.method, range: chosen.range, error: chosen.error, observed: { min: stats.min, max: stats.max }, scale, zeroPoint };
}

/** Ops that only move, slice or join data: the image passes through them unchanged in value. */
const DATA_MOVEMENT_OPS = new Set(['Slice', 'Concat', 'Reshape', 'Transpose', 'Split', 'Pad', 'Identity', 'Squeeze', 'Unsqueeze', 'Flatten', 'SpaceToDepth', 'DepthToSpace']);

/** Keys of the nodes that read a graph input directly or through data-movement ops only (YOLOX's Focus slices, for one). */
function nodesReadingModelInput(model: OnnxModel, index: ReturnType<typeof indexGraph>): Set<string> {
  const imageLike = new Set(index.graphInputs);
  const readers = new Set<string>();
  for (const node of model.graph.nodes) {
    if (!node.inputs.some((i) => imageLike.has(i))) continue;
    readers.add(index.nodeKey.get(node)!);
    if (DATA_MOVEMENT_OPS.has(node.opType) && node.domain === '') for (const o of node.outputs) imageLike.add(o);
  }
  return readers;
}

/** The placement's tensors with their parameters. `statistics` must cover every activation the placement names. */
export function buildPlan(
  model: OnnxModel,
  collected: CollectedStatistics,
  options: PlanOptions = {},
  placement: Placement = placeQuantization(model, { ignoredScope: options.ignoredScope }),
): QuantizationPlan {
  const { method, activations: mode, weightBits, correctWeightBias } = checkPlanOptions(options);
  const index = indexGraph(model.graph);
  const activations: ActivationPlan[] = placement.activations.map((site) => {
    const stats = collected.statistics.get(site.tensor);
    if (!stats) throw new Int8DetectError('ERR_ARGUMENT', `No statistics were collected for tensor '${site.tensor}'; collect them with the same placement`);
    return { name: site.tensor, kind: 'activation', producer: site.producer, consumers: site.consumers, reason: site.reason, ...activationPlan(stats, method, mode) };
  });
  // Aligned tensors take their partner's grid (chains of them follow it to its start).
  const byName = new Map(activations.map((a) => [a.name, a]));
  const byKey = nodesByKey(index);
  const joins = new Set(placement.sharedGrids?.map((group) => group[0]));
  /** Whether the node `key` passes `tensor`'s values on without new rounding: a shared-grid Concat, or an op whose outputs share its grid. */
  const keepsGrid = (key: string, tensor: string) => {
    const node = byKey.get(key);
    if (!node) return false;
    if (node.opType === 'Concat' && joins.has(node.outputs[0])) return true;
    const root = byName.get(tensor)?.alignedWith ?? tensor;
    return node.outputs.every((o) => {
      const out = byName.get(o);
      return out !== undefined && (out.alignedWith ?? out.name) === root;
    });
  };
  for (const [i, site] of placement.activations.entries()) {
    let partner = site.alignWith === undefined ? undefined : byName.get(site.alignWith);
    for (let hops = 0; partner && hops < 64; hops++) {
      const next = placement.activations.find((s) => s.tensor === partner!.name)?.alignWith;
      if (next === undefined || !byName.has(next)) break;
      partner = byName.get(next);
    }
    if (!partner) continue;
    const own = activations[i];
    activations[i] = { ...own, method: partner.method, range: partner.range, error: partner.error, scale: partner.scale, zeroPoint: partner.zeroPoint, alignedWith: partner.name };
    byName.set(own.name, activations[i]);
  }
  const shared = placement.sharedGrids?.length
    ? shareGrids(activations, placement.sharedGrids, mode, {
        // Two Concats reading one tensor may end on different grids: the second would requantize a clipped copy.
        readBeyondJoins: (name) => {
          const readers = byName.get(name)!.consumers;
          return readers.some((c) => !keepsGrid(c, name)) || readers.filter((c) => byKey.get(c)?.opType === 'Concat').length > 1;
        },
        error: (name, range) => collected.statistics.get(name)!.quantizationError(range, mode === 'int8-symmetric'),
      })
    : activations;
  const imageReaders = nodesReadingModelInput(model, index);
  const weights: WeightPlan[] = placement.weights.map((site) => {
    const tensor = index.initializers.get(site.tensor)!;
    const values = tensorFloats(tensor);
    // The convs that read the image itself get 7-bit weights whatever the setting: raw pixels
    // fill the UINT8 range, and x86 CPUs without VNNI sum pairs of UINT8 x INT8 products in 16
    // bits (VPMADDUBSW: 255 x 127 x 2 > 32767), which saturates on bright frames. Measured on
    // yolox_nano's stem (AVX2): agreement with FP32 0.85 with 8-bit, the damage gone with the
    // input in float. Half a bit on the first layer costs nothing measurable elsewhere.
    const bits: 7 | 8 = weightBits === 7 || site.consumers.some((c) => imageReaders.has(c)) ? 7 : 8;
    const scales = Array.from(perChannelScales(values, site.dims, site.axis), (s) => {
      // An all-zero channel quantizes to zeros whatever its scale; a zero scale is not valid ONNX.
      const fitted = bits === 7 ? (s * 127) / 63 : s;
      return fitted > 0 && Number.isFinite(fitted) ? fitted : 1;
    });
    return { name: site.tensor, kind: 'weight', consumers: site.consumers, axis: site.axis, dims: site.dims, scales, bits };
  });
  const float: FloatTensorPlan[] = placement.floatNodes.map((n) => {
    const node = model.graph.nodes.find((x) => index.nodeKey.get(x) === n.node)!;
    return { name: node.outputs[0] ?? '', kind: 'float', node: n.node, opType: n.opType, reason: n.reason };
  });
  const compute: ComputePlan[] = placement.compute.map((site) => {
    const weightDims = site.weight ? index.initializers.get(site.weight)?.dims : undefined;
    return { ...site, macs: countMacs(site.opType, weightDims, collected.shapes.get(site.output), collected.shapes.get(site.input)) };
  });
  const biasCorrections = correctWeightBias ? computeBiasCorrections(index, placement.compute, weights, collected.channelMeans, collected.shapes) : [];
  const warnings: string[] = [];
  if (activations.length === 0 && weights.length === 0) warnings.push('nothing to quantize: the model has no Conv, ConvTranspose, MatMul or Gemm outside the head and the ignored scope');
  const from = defaultOpset(model);
  return {
    version: 1,
    activationMode: mode,
    method,
    weightBits,
    opset: { from, to: Math.max(from, 13) },
    activations: shared,
    weights,
    float,
    compute,
    biasCorrections,
    calibration: { frames: collected.frames, batches: collected.batches, seconds: collected.seconds },
    warnings,
  };
}

/**
 * Which compute nodes run in INT8 once `keepFloat` tensors stay float: those whose input and
 * weight are quantized. Its output may stay float: TensorRT and OpenVINO run such a node as an
 * INT8 kernel with a float output, and ONNX Runtime, which fuses only DQ -> Conv -> Q, gets it as
 * ConvInteger from the backend's lowering (lib/onnx/lower-integer-conv.ts; MatMul and Gemm it
 * fuses itself). ConvTranspose has no such path, so it counts only with its output quantized.
 */
export function int8ComputeNodes(plan: QuantizationPlan, keepFloat: ReadonlySet<string> = new Set()): Set<string> {
  const quantized = new Set([...plan.activations.map((a) => a.name), ...plan.weights.map((w) => w.name)].filter((t) => !keepFloat.has(t)));
  const result = new Set<string>();
  for (const c of plan.compute) {
    if (!c.quantized) continue;
    const weightOk = c.weight === '' || quantized.has(c.weight);
    // ONNX Runtime has no integer ConvTranspose with a float output: that one needs its Q.
    const outputOk = c.opType !== 'ConvTranspose' || quantized.has(c.output);
    if (quantized.has(c.input) && weightOk && outputOk) result.add(c.node);
  }
  return result;
}

/** Multiply-accumulates per frame in INT8 and in total. */
export function macCounts(plan: QuantizationPlan, keepFloat?: ReadonlySet<string>): { int8: number; total: number } {
  const int8Nodes = int8ComputeNodes(plan, keepFloat);
  let int8 = 0;
  let total = 0;
  for (const c of plan.compute) {
    const macs = c.macs ?? 0;
    total += macs;
    if (int8Nodes.has(c.node)) int8 += macs;
  }
  return { int8, total };
}

/** The plan as JSON: every tensor's parameters, including the ones kept in float. */
export function emitPlanJson(plan: QuantizationPlan, extra: { keepFloat?: ReadonlySet<string> } = {}): string {
  const keepFloat = extra.keepFloat ?? new Set<string>();
  const macs = macCounts(plan, keepFloat);
  return `${JSON.stringify(
    {
      ...plan,
      keptFloat: [...keepFloat],
      macs: { ...macs, int8Fraction: macs.total > 0 ? macs.int8 / macs.total : 0 },
    },
    null,
    2,
  )}\n`;
}
