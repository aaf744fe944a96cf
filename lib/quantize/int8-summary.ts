/**
 * The summary every INT8 quantizer gives createEngine (engine.info.quantization), built in one
 * place from what each quantizer has in common: the plan, what the search kept in float, the
 * MAC counts and the label-free check.
 */
import type { Int8Summary } from '../engine/int8';
import type { LabelFreeCheckSummary } from './mixed-precision';
import type { QuantizationPlan } from './plan';

export function int8Summary(parts: {
  plan: QuantizationPlan;
  keptFloat: string[];
  macs: Int8Summary['macs'];
  agreement: LabelFreeCheckSummary;
  seconds: number;
  warnings: string[];
}): Int8Summary {
  const { plan } = parts;
  return {
    method: plan.method,
    activations: plan.activationMode,
    weightBits: plan.weightBits,
    calibrationFrames: plan.calibration.frames,
    quantizedActivations: plan.activations.length - parts.keptFloat.length,
    quantizedWeights: plan.weights.length,
    keptFloat: parts.keptFloat,
    floatNodes: plan.float.map((f) => ({ node: f.node, opType: f.opType, reason: f.reason })),
    macs: parts.macs,
    agreement: parts.agreement,
    seconds: parts.seconds,
    warnings: parts.warnings,
  };
}
