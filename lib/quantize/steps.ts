/**
 * Steps of the post-training pipeline (pipeline.ts) that are more than a call: checking the bias
 * correction setting, the equalization pre-pass, and the activations' half of fast bias
 * correction. Each runs the float model on the runtime session it is given.
 */
import { invalidArgument } from '../util/errors';
import type { OnnxModel } from '../onnx/model';
import { indexGraph } from '../onnx/graph-index';
import type { StatisticsSessionOpener } from './adapter';
import { activationBiasCorrections, activationBiasInputs, BIAS_CORRECTION_MODES, type ActivationGrid, type BiasCorrectionMode } from './bias-correction';
import { collectStatistics } from './collect';
import { equalizeChains, findSiluChains, type EqualizedChain, type EqualizeOptions } from './equalize';
import { placeQuantization, type IgnoredScope, type Placement } from './placement';
import type { ActivationPlan, QuantizationPlan } from './plan';
import type { Calibrator } from './types';

/** A bias-correction option checked, with the quantizer's default. */
export function checkBiasCorrection(value: unknown, fallback: BiasCorrectionMode): BiasCorrectionMode {
  if (value === undefined) return fallback;
  if (!BIAS_CORRECTION_MODES.includes(value as BiasCorrectionMode)) throw invalidArgument("'all', 'weights' or 'none'", 'options.biasCorrection', value);
  return value as BiasCorrectionMode;
}

/** Frames of the activations' bias pass: per-channel means settle within a few dozen frames. */
const ACTIVATION_BIAS_FRAMES = 32;

/**
 * The activations' half of fast bias correction (bias-correction.ts), added to
 * `plan.biasCorrections`: once the plan has fixed every grid, a short pass of the float model over
 * the first calibration frames measures, per channel, the mean rounding error E[fq(x) - clip(x)] of each
 * quantized conv input; `grid` says how the backend quantizes an activation.
 */
export async function correctActivationBias(
  model: OnnxModel,
  plan: QuantizationPlan,
  placement: Placement,
  calibrator: Calibrator,
  grid: (activation: ActivationPlan) => ActivationGrid,
  options: { openSession: StatisticsSessionOpener; signal?: AbortSignal; frames?: number },
): Promise<void> {
  const index = indexGraph(model.graph);
  const grids = activationBiasInputs(index, placement.compute, plan.activations, grid);
  if (grids.size === 0) return;
  const pass = await collectStatistics(model, calibrator, {
    tensors: [],
    channelRoundingBias: grids,
    maxFrames: options.frames ?? ACTIVATION_BIAS_FRAMES,
    openSession: options.openSession,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  plan.biasCorrections.push(...activationBiasCorrections(index, placement.compute, pass.channelRoundingBias, pass.shapes));
}

/** Frames of the equalization pre-pass: channel maxima settle within a few dozen frames. */
const EQUALIZE_FRAMES = 32;

export type EqualizeSetting = boolean | (EqualizeOptions & { frames?: number });

/**
 * The model with its Conv -> SiLU chains channel-equalized, from a pre-pass over the first
 * frames; the model itself when equalization is off or finds nothing to do.
 */
export async function equalizeForCalibration(
  model: OnnxModel,
  options: { calibrator: Calibrator; equalize?: EqualizeSetting; openSession: StatisticsSessionOpener; signal?: AbortSignal; onStart?: () => void },
  ignoredScope: IgnoredScope,
): Promise<{ model: OnnxModel; chains: EqualizedChain[] }> {
  if (options.equalize === false) return { model, chains: [] };
  const settings = typeof options.equalize === 'object' && options.equalize !== null ? options.equalize : {};
  // Only chains whose conv is quantized: the head and the ignored scope stay as they are.
  const quantizedConvs = new Set(placeQuantization(model, { ignoredScope }).compute.filter((c) => c.quantized).map((c) => c.node));
  const chains = findSiluChains(model, quantizedConvs);
  if (chains.length === 0) return { model, chains: [] };
  options.onStart?.();
  const pre = await collectStatistics(model, options.calibrator, {
    tensors: [],
    channelMaxima: chains.flatMap((c) => [c.tensor, c.product]),
    maxFrames: settings.frames ?? EQUALIZE_FRAMES,
    openSession: options.openSession,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return equalizeChains(model, chains, pre.channelMaxima, settings);
}
