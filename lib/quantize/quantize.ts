/**
 * The portable post-training quantizer: placement -> statistics (one pass of the FP32 model on
 * ONNX Runtime over the calibrator) -> plan -> Q/DQ ONNX model. The result keeps the decoded
 * model and the statistics, so callers (the mixed-precision search, the report) can build other
 * plans and emit other Q/DQ models without running calibration again.
 */
import { promises as fs } from 'node:fs';
import { Int8DetectError, invalidArgument } from '../util/errors';
import { decodeModel, type OnnxModel } from '../onnx/model';
import { raiseOpset } from '../onnx/opset';
import { indexGraph } from '../onnx/graph-index';
import { activationBiasCorrections, activationBiasInputs, BIAS_CORRECTION_MODES, biasCorrectionInputs, type ActivationGrid, type BiasCorrectionMode } from './bias-correction';
import { collectStatistics, type CollectedStatistics, type StatisticsSession } from './collect';
import { emitQdqModel } from './emitters/qdq';
import { equalizeChains, findSiluChains, type EqualizedChain, type EqualizeOptions } from './equalize';
import { placeQuantization, type IgnoredScope, type Placement } from './placement';
import { buildPlan, checkPlanOptions, macCounts, type ActivationPlan, type MethodChoice, type QuantizationPlan } from './plan';
import type { ActivationMode } from './qparams';
import type { Calibrator } from './types';

export interface QuantizeProgress {
  /** 'equalize': the pre-pass over a few frames that measures channel ranges for equalization. */
  phase: 'equalize' | 'collect' | 'plan' | 'bias' | 'emit';
  frames?: number;
  total?: number;
}

export interface QuantizeModelOptions {
  /** The FP32 ONNX model: a file path or its bytes. */
  model: string | Uint8Array;
  calibrator: Calibrator;
  method?: MethodChoice;
  activations?: ActivationMode;
  weightBits?: 7 | 8;
  ignoredScope?: IgnoredScope;
  /**
   * Fast bias correction of the quantized convs' biases (bias-correction.ts): 'none' (default
   * here: no consistent gain measured on Q/DQ models), 'weights', or 'all' (the activations' too).
   */
  biasCorrection?: BiasCorrectionMode;
  /**
   * Also gather statistics for every other tensor of the network (not only the quantized ones),
   * as a TensorRT calibration cache for implicit INT8 wants.
   */
  allTensors?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: QuantizeProgress) => void;
  /** ONNX Runtime threads for calibration (default: all cores). */
  threads?: number;
  /**
   * Channel equalization around Conv -> SiLU -> Conv before calibration (equalize.ts): on by
   * default; false turns it off; an object sets its thresholds.
   */
  equalize?: boolean | (EqualizeOptions & { frames?: number });
}

/** Frames of the equalization pre-pass: channel maxima settle within a few dozen frames. */
const EQUALIZE_FRAMES = 32;

export interface QuantizeResult {
  /** The Q/DQ model; the float model's own bytes when there is nothing to quantize. */
  bytes: Uint8Array;
  plan: QuantizationPlan;
  /** The statistics, the tensor shapes and the calibration counts: reusable for other plans. */
  statistics: CollectedStatistics;
  /**
   * The float model the plan refers to, for buildPlan / emitQdqModel calls with other options:
   * the decoded input model, or its channel-equalized rewrite (same outputs, see `equalized`).
   */
  model: OnnxModel;
  /** The Conv -> SiLU chains that were equalized before calibration. */
  equalized: EqualizedChain[];
  /** Multiply-accumulates per frame of Conv/ConvTranspose/Gemm/MatMul: in INT8, and in all. */
  macs: { int8: number; total: number };
  warnings: string[];
}

async function readModelBytes(model: unknown): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (typeof model !== 'string' || model === '') throw invalidArgument('a model path or its bytes', 'options.model', model);
  try {
    return await fs.readFile(model);
  } catch (err) {
    throw new Int8DetectError('ERR_MODEL', `Cannot read the model ${model}: ${(err as Error).message}`, { cause: err });
  }
}

export async function quantizeModel(options: QuantizeModelOptions): Promise<QuantizeResult> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'quantizeModel(options)', options);
  const biasCorrection = checkBiasCorrection(options.biasCorrection, 'none');
  const planOptions = { ...checkPlanOptions(options), correctWeightBias: biasCorrection !== 'none' };
  const bytes = await readModelBytes(options.model);
  const decoded = decodeModel(bytes);
  // Refuse a model whose opset cannot be raised before spending minutes on calibration.
  raiseOpset(decoded, 13);
  const { model: working, chains: equalized } = await equalizeForCalibration(decoded, options, planOptions.ignoredScope);
  const model = working;
  const placement = placeQuantization(model, { ignoredScope: planOptions.ignoredScope });
  const computeTensors = placement.compute.flatMap((c) => [c.input, c.output]);
  const statistics = await collectStatistics(model, options.calibrator, {
    tensors: placement.activations.map((a) => a.tensor),
    optionalTensors: options.allTensors ? [...model.graph.inputs.map((i) => i.name), ...model.graph.nodes.flatMap((n) => n.outputs)].filter(Boolean) : [],
    shapeTensors: computeTensors.filter((t) => model.graph.nodes.some((n) => n.outputs.includes(t))),
    channelMeans: planOptions.correctWeightBias ? biasCorrectionInputs(indexGraph(model.graph), placement.compute) : [],
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    onProgress: (p) => options.onProgress?.({ phase: 'collect', frames: p.frames, ...(p.total !== undefined ? { total: p.total } : {}) }),
  });
  options.onProgress?.({ phase: 'plan' });
  const plan = buildPlan(model, statistics, planOptions, placement);
  if (biasCorrection === 'all') {
    options.onProgress?.({ phase: 'bias' });
    await correctActivationBias(model, plan, placement, options.calibrator, (a) => qdqGrid(a, plan.activationMode), options);
  }
  if (options.signal?.aborted) throw new Int8DetectError('ERR_ARGUMENT', 'Quantization was aborted');
  const warnings = [...plan.warnings];
  options.onProgress?.({ phase: 'emit' });
  const nothing = plan.activations.length === 0 && plan.weights.length === 0;
  if (equalized.length > 0) plan.equalized = equalized;
  return {
    bytes: nothing ? bytes : emitQdqModel(model, plan),
    plan,
    statistics,
    model,
    equalized,
    macs: macCounts(plan),
    warnings,
  };
}

/** A bias-correction option checked, with the quantizer's default. */
export function checkBiasCorrection(value: unknown, fallback: BiasCorrectionMode): BiasCorrectionMode {
  if (value === undefined) return fallback;
  if (!BIAS_CORRECTION_MODES.includes(value as BiasCorrectionMode)) throw invalidArgument("'all', 'weights' or 'none'", 'options.biasCorrection', value);
  return value as BiasCorrectionMode;
}

/** Frames of the activations' bias pass: per-channel means settle within a few dozen frames. */
const ACTIVATION_BIAS_FRAMES = 32;

/** The grid a Q/DQ pair puts an activation on. */
export function qdqGrid(a: Pick<ActivationPlan, 'scale' | 'zeroPoint'>, mode: ActivationMode): ActivationGrid {
  const [qmin, qmax] = mode === 'uint8-asymmetric' ? [0, 255] : [-128, 127];
  return { low: (qmin - a.zeroPoint) * a.scale, high: (qmax - a.zeroPoint) * a.scale, levels: qmax - qmin + 1 };
}

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
  options: { signal?: AbortSignal; threads?: number; openSession?: (model: OnnxModel, exposed: readonly string[]) => Promise<StatisticsSession>; frames?: number } = {},
): Promise<void> {
  const index = indexGraph(model.graph);
  const grids = activationBiasInputs(index, placement.compute, plan.activations, grid);
  if (grids.size === 0) return;
  const pass = await collectStatistics(model, calibrator, {
    tensors: [],
    channelRoundingBias: grids,
    maxFrames: options.frames ?? ACTIVATION_BIAS_FRAMES,
    ...(options.openSession ? { openSession: options.openSession } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  });
  plan.biasCorrections.push(...activationBiasCorrections(index, placement.compute, pass.channelRoundingBias, pass.shapes));
}

/**
 * The model with its Conv -> SiLU chains channel-equalized, from a pre-pass over the first
 * frames; the model itself when equalization is off or finds nothing to do.
 */
export async function equalizeForCalibration(
  model: OnnxModel,
  options: Pick<QuantizeModelOptions, 'calibrator' | 'equalize' | 'signal' | 'threads' | 'onProgress'>,
  ignoredScope: IgnoredScope,
): Promise<{ model: OnnxModel; chains: EqualizedChain[] }> {
  if (options.equalize === false) return { model, chains: [] };
  const settings = typeof options.equalize === 'object' && options.equalize !== null ? options.equalize : {};
  // Only chains whose conv is quantized: the head and the ignored scope stay as they are.
  const quantizedConvs = new Set(placeQuantization(model, { ignoredScope }).compute.filter((c) => c.quantized).map((c) => c.node));
  const chains = findSiluChains(model, quantizedConvs);
  if (chains.length === 0) return { model, chains: [] };
  options.onProgress?.({ phase: 'equalize' });
  const pre = await collectStatistics(model, options.calibrator, {
    tensors: [],
    channelMaxima: chains.flatMap((c) => [c.tensor, c.product]),
    maxFrames: settings.frames ?? EQUALIZE_FRAMES,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  });
  return equalizeChains(model, chains, pre.channelMaxima, settings);
}
