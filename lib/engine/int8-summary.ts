/**
 * What createEngine's INT8 flow reports as engine.info.quantization, and stores in the INT8
 * cache's manifest: built in one place from the pipeline's outcome, whatever the runtime.
 */
import type { LabelFreeCheckSummary } from '../quantize/mixed-precision';
import type { MethodChoice } from '../quantize/plan';
import type { ActivationMode } from '../quantize/qparams';
import type { QuantizedModel } from '../runtimes/quantize-model';

/** What the quantization did, stored with a cached model and reported as engine.info.quantization. */
export interface Int8Summary {
  method: MethodChoice;
  activations: ActivationMode;
  weightBits: 7 | 8;
  calibrationFrames: number;
  quantizedActivations: number;
  quantizedWeights: number;
  /** Activations the mixed-precision search kept in float, most sensitive first. */
  keptFloat: string[];
  /** Nodes kept in float by the placement (detection head, ignored scope), with the reason. */
  floatNodes: { node: string; opType: string; reason: string }[];
  /** Multiply-accumulates per frame, and the share that runs in INT8. */
  macs: { int8: number; total: number; int8Fraction: number };
  /** The label-free check: INT8 scored against FP32's detections on held-back frames (AP50). */
  agreement: LabelFreeCheckSummary;
  /** Seconds the quantization took (when it was made). */
  seconds: number;
  warnings: string[];
}

export function int8Summary(outcome: QuantizedModel): Int8Summary {
  const { plan, search, heldBack } = outcome;
  const warnings = [...outcome.warnings];
  if (!search) warnings.push('nothing was quantized, so the label-free check had nothing to compare');
  return {
    method: plan.method,
    activations: plan.activationMode,
    weightBits: plan.weightBits,
    calibrationFrames: plan.calibration.frames,
    quantizedActivations: plan.activations.length - outcome.keepFloat.length,
    quantizedWeights: plan.weights.length,
    keptFloat: outcome.keepFloat,
    floatNodes: plan.float.map((f) => ({ node: f.node, opType: f.opType, reason: f.reason })),
    macs: outcome.macs,
    agreement: {
      heldBackFrames: heldBack?.frames.length ?? 0,
      heldBackShared: heldBack?.shared ?? false,
      floor: search?.agreement.floor ?? 1,
      allInt8: search?.agreement.allInt8 ?? 1,
      chosen: search?.agreement.chosen ?? 1,
      estimatedDrop: search?.estimatedDrop ?? 0,
      ...(search ? { estimatedDropInterval: search.estimatedDropInterval } : {}),
      maxDrop: outcome.maxDrop,
      passed: outcome.passed,
      trials: search?.trials ?? [],
    },
    seconds: outcome.seconds,
    warnings,
  };
}
