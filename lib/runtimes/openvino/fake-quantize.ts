/**
 * A quantization plan (runtime-independent, lib/quantize/plan.ts) as OpenVINO FakeQuantize
 * parameters, with NNCF's presets:
 * - performance: symmetric activations; a tensor that is never negative (the image, a ReLU
 *   output) is unsigned, 0..t in 256 levels, as NNCF does, and others signed, -128/127*t..t;
 * - mixed: asymmetric activations, low..high in 256 levels with 0.0 exactly on the grid (the
 *   ONNX zero point's arithmetic, so both emitters quantize alike);
 * - weights: symmetric per output channel, -t..t in 255 levels (-127..127), NNCF's narrow range.
 * FakeQuantize(x, low, high, low, high, levels) is what OpenVINO's CPU plugin folds into its
 * INT8 kernels (see docs/openvino.md).
 */
import { scaleAndZeroPoint } from '../../quantize/qparams';
import type { ActivationPlan, QuantizationPlan, WeightPlan } from '../../quantize/plan';

export type OpenVinoPreset = 'performance' | 'mixed';
export const OPENVINO_PRESETS: readonly OpenVinoPreset[] = ['performance', 'mixed'];

export interface ActivationFakeQuantize {
  tensor: string;
  /** The compute nodes that read the quantized value, by their weight's tensor name. */
  consumers: string[];
  low: number;
  high: number;
  levels: number;
}

export interface WeightFakeQuantize {
  tensor: string;
  axis: number;
  low: Float32Array;
  high: Float32Array;
  levels: number;
}

/** The plan's activation encoding for a preset: symmetric or asymmetric ranges are searched. */
export function presetActivationMode(preset: OpenVinoPreset): 'int8-symmetric' | 'uint8-asymmetric' {
  return preset === 'performance' ? 'int8-symmetric' : 'uint8-asymmetric';
}

export function activationFakeQuantize(a: ActivationPlan, preset: OpenVinoPreset, weightOf: ReadonlyMap<string, string>): ActivationFakeQuantize {
  const consumers = a.consumers.map((node) => weightOf.get(node) ?? '').filter((w) => w !== '');
  if (preset === 'mixed') {
    const { scale, zeroPoint } = scaleAndZeroPoint(a.range, 'uint8-asymmetric');
    return { tensor: a.name, consumers, low: -zeroPoint * scale, high: (255 - zeroPoint) * scale, levels: 256 };
  }
  const t = Math.max(Math.abs(a.range.min), Math.abs(a.range.max), 2 ** -126);
  if (a.observed.min >= 0) return { tensor: a.name, consumers, low: 0, high: t, levels: 256 };
  return { tensor: a.name, consumers, low: (-128 / 127) * t, high: t, levels: 256 };
}

export function weightFakeQuantize(w: WeightPlan): WeightFakeQuantize {
  // The plan's scales are per-channel absmax / 127 (or fitted to 7 bits): t = 127 * scale.
  const high = Float32Array.from(w.scales, (s) => 127 * s);
  const low = Float32Array.from(high, (t) => -t);
  return { tensor: w.name, axis: w.axis, low, high, levels: 255 };
}

/** Compute node key -> its weight's tensor name (how the OpenVINO emitter finds the node). */
export function weightNamesByNode(plan: QuantizationPlan): Map<string, string> {
  return new Map(plan.compute.filter((c) => c.weight !== '').map((c) => [c.node, c.weight]));
}

/**
 * Which compute nodes run in INT8 on OpenVINO once `keepFloat` stays float: its activation input
 * and its weight are quantized. Unlike ONNX Runtime's QLinearConv, OpenVINO's INT8 convolution
 * needs no quantized output: it dequantizes into float (or into the next FakeQuantize) itself.
 */
export function openVinoInt8Nodes(plan: QuantizationPlan, keepFloat: ReadonlySet<string> = new Set()): Set<string> {
  const quantized = new Set([...plan.activations.map((a) => a.name), ...plan.weights.map((w) => w.name)].filter((t) => !keepFloat.has(t)));
  const result = new Set<string>();
  for (const c of plan.compute) {
    if (c.quantized && quantized.has(c.input) && (c.weight === '' || quantized.has(c.weight))) result.add(c.node);
  }
  return result;
}

export function openVinoMacCounts(plan: QuantizationPlan, keepFloat?: ReadonlySet<string>): { int8: number; total: number } {
  const int8Nodes = openVinoInt8Nodes(plan, keepFloat);
  let int8 = 0;
  let total = 0;
  for (const c of plan.compute) {
    total += c.macs ?? 0;
    if (int8Nodes.has(c.node)) int8 += c.macs ?? 0;
  }
  return { int8, total };
}
