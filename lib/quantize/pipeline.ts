/**
 * The one post-training pipeline, written once for every runtime that makes an INT8 artefact:
 *
 *   equalize -> collect -> plan -> bias -> check -> search -> emit
 *
 * What depends on the target runtime comes from its QuantizerAdapter (adapter.ts): placement,
 * the runtime computing the statistics, the activation grid, the candidates and the artefact.
 * The label-free check and the mixed-precision search run candidates through the caller's
 * `open` (the runtime's session plus the model's detector). Nothing is written here: callers
 * write the artefact (atomically) once everything has been computed.
 */
import type { PreprocessSpec } from '../detect/types';
import { decodeImage } from '../image/decode';
import { isRawFrame, type FrameInput, type RawFrame } from '../image/frame';
import { indexGraph } from '../onnx/graph-index';
import { decodeModel, encodeModel, type OnnxModel } from '../onnx/model';
import { Int8DetectError, invalidArgument, throwIfAborted } from '../util/errors';
import type { EmittedArtefact, QuantizerAdapter } from './adapter';
import { biasCorrectionInputs, type BiasCorrectionMode } from './bias-correction';
import { limitCalibrator } from './calibrator';
import { prepareHeldBack, type HeldBackSet, type OpenCandidate } from './candidate';
import { collectStatistics, type CollectedStatistics } from './collect';
import type { EqualizedChain } from './equalize';
import { DEFAULT_MAX_DROP, searchMixedPrecision, type CheckDecision, type MixedPrecisionResult } from './mixed-precision';
import { searchSpeed, type SpeedSearchResult, type SpeedSearchSettings } from './speed-search';
import type { IgnoredScope } from './placement';
import { buildPlan, checkPlanOptions, type MethodChoice, type QuantizationPlan } from './plan';
import type { ActivationMode } from './qparams';
import { checkBiasCorrection, correctActivationBias, equalizeForCalibration, type EqualizeSetting } from './steps';
import type { Calibrator } from './types';

export type QuantizePhase = 'equalize' | 'collect' | 'plan' | 'bias' | 'reference' | 'sensitivity' | 'search' | 'speed' | 'emit';

/** The one progress report of quantization: frames calibrated ('collect'), tensors ranked ('sensitivity'), trials run ('search'). */
export interface QuantizeProgress {
  phase: QuantizePhase;
  done?: number;
  total?: number;
}

/** How to quantize, whatever the runtime. */
export interface QuantizeSettings {
  /** How activation ranges are chosen (default 'auto': per tensor, the range of least error). */
  method?: MethodChoice;
  /** Activation encoding (default: UINT8 asymmetric on x86-64, INT8 symmetric elsewhere). */
  activations?: ActivationMode;
  weightBits?: 7 | 8;
  ignoredScope?: IgnoredScope;
  /** Fast bias correction: 'all', 'weights' or 'none' (default: the adapter's). */
  biasCorrection?: BiasCorrectionMode;
  /** Channel equalization around Conv -> SiLU -> Conv before calibration (on by default). */
  equalize?: EqualizeSetting;
  /** Calibrate on at most this many frames (default: the adapter's, else every frame). */
  subsetSize?: number;
  /** Also gather statistics for every other float tensor (a TensorRT calibration cache wants them). */
  allTensors?: boolean;
}

/** The label-free check and the mixed-precision search. */
export interface CheckOptions {
  /**
   * Frames calibration has not seen: raw frames, encoded images or image paths. A function is
   * called after calibration (a stream's held-back frames are known only once it has been read).
   */
  heldBack: readonly FrameInput[] | (() => readonly FrameInput[]);
  /** The held-back frames are calibration frames too (too few to set any aside): the check is optimistic. */
  shared?: boolean;
  /** How the model wants its input (the held-back frames are preprocessed with it). */
  preprocess: PreprocessSpec;
  /** Largest estimated mAP drop accepted (default 0.01). */
  maxDrop?: number;
  /** false: run the check but keep every activation in INT8. Default true. */
  search?: boolean;
  /**
   * After the accuracy search, try kernel families (depthwise, 1x1, k x k convolutions...) in float
   * and keep those that make the artefact measurably faster on this device (speed-search.ts).
   * Default: the adapter's (on for OpenVINO).
   */
  speed?: boolean | SpeedSearchSettings;
  /** Opens a candidate on the artefact's runtime with the float model's detector. */
  open: OpenCandidate;
  /** How a candidate passes: its estimated drop within maxDrop ('estimate', default), or the upper end of its 90 % interval ('upper'). */
  decideBy?: CheckDecision;
  /** The least share of multiply-accumulates the accuracy and speed searches leave in INT8 (default 0.9). */
  minInt8Fraction?: number;
}

export interface QuantizeRequest extends QuantizeSettings {
  /** The float ONNX model's bytes. */
  model: Uint8Array;
  calibrator: Calibrator;
  adapter: QuantizerAdapter;
  /** No check and no search without it. */
  check?: CheckOptions;
  /** CPU threads of the statistics runtime (0 or absent: its own choice). */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (progress: QuantizeProgress) => void;
}

export interface QuantizeOutcome {
  artefact: EmittedArtefact;
  plan: QuantizationPlan;
  statistics: CollectedStatistics;
  /** The float model the plan refers to: the input, or its channel-equalized rewrite (same outputs). */
  model: OnnxModel;
  /** `model` as bytes. */
  modelBytes: Uint8Array;
  /** The float model as given. */
  inputBytes: Uint8Array;
  equalized: EqualizedChain[];
  /** Tensors emitted in float: the accuracy search's activations (most sensitive first), then those the speed search added. */
  keepFloat: string[];
  /** The speed search, where it ran. */
  speed?: SpeedSearchResult;
  /** The check and the search; undefined when there was no check (no held-back frames, or nothing quantized). */
  search: MixedPrecisionResult | undefined;
  /** Multiply-accumulates per frame in INT8 on the target runtime, and in all. */
  macs: { int8: number; total: number; int8Fraction: number };
  heldBack: (HeldBackSet & { shared: boolean }) | undefined;
  /** null when the search was off or did not run. */
  maxDrop: number | null;
  /** The estimated drop of the emitted artefact is within maxDrop (true without a check). */
  passed: boolean;
  warnings: string[];
  seconds: number;
}

async function decodeHeldBack(frames: readonly FrameInput[]): Promise<RawFrame[]> {
  return Promise.all(frames.map((f) => (isRawFrame(f) ? f : decodeImage(f))));
}

async function heldBackSet(check: CheckOptions): Promise<HeldBackSet> {
  const frames = typeof check.heldBack === 'function' ? check.heldBack() : check.heldBack;
  if (!Array.isArray(frames) || frames.length === 0) {
    throw new Int8DetectError('ERR_CALIBRATION', 'No frames were held back for the label-free accuracy check: give at least one frame the calibrator does not');
  }
  return prepareHeldBack(await decodeHeldBack(frames), check.preprocess);
}

function checkMaxDrop(value: unknown): number {
  const maxDrop = value ?? DEFAULT_MAX_DROP;
  if (typeof maxDrop !== 'number' || !(maxDrop >= 0)) throw invalidArgument('a number >= 0', 'options.maxDrop', maxDrop);
  return maxDrop;
}

export async function quantizePostTraining(request: QuantizeRequest): Promise<QuantizeOutcome> {
  if (typeof request !== 'object' || request === null) throw invalidArgument('an options object', 'quantize(options)', request);
  if (!(request.model instanceof Uint8Array)) throw invalidArgument("the float model's bytes", 'options.model', request.model);
  const { adapter, signal, onProgress } = request;
  const started = Date.now();
  const threads = request.threads ?? 0;
  const biasCorrection = checkBiasCorrection(request.biasCorrection, adapter.defaults.biasCorrection);
  const planOptions = { ...checkPlanOptions(request), correctWeightBias: biasCorrection !== 'none' };
  const subsetSize = request.subsetSize ?? adapter.defaults.subsetSize;
  if (subsetSize !== undefined && (!Number.isInteger(subsetSize) || subsetSize < 1)) throw invalidArgument('a positive integer', 'options.subsetSize', subsetSize);
  const maxDrop = request.check ? checkMaxDrop(request.check.maxDrop) : 0;
  const search = request.check?.search ?? true;

  const given = decodeModel(request.model);
  // Refuse a model the adapter cannot quantize before spending minutes on calibration.
  adapter.checkModel?.(given);
  const decoded = adapter.prepare ? adapter.prepare(given) : given;

  // 1. equalize: exact channel equalization of the float model, from a pre-pass over a few frames.
  const { model, chains: equalized } = await equalizeForCalibration(
    decoded,
    {
      calibrator: request.calibrator,
      openSession: adapter.equalizationSession(threads),
      ...(request.equalize !== undefined
        ? { equalize: request.equalize === true && adapter.defaults.equalize ? adapter.defaults.equalize : typeof request.equalize === 'object' ? { ...adapter.defaults.equalize, ...request.equalize } : request.equalize }
        : adapter.defaults.equalize
          ? { equalize: adapter.defaults.equalize }
          : {}),
      ...(signal ? { signal } : {}),
      onStart: () => onProgress?.({ phase: 'equalize' }),
    },
    planOptions.ignoredScope,
  );
  const modelBytes = model === given ? request.model : encodeModel(model);

  // 2. collect: the statistics of every tensor the placement quantizes, on the target runtime.
  const placement = adapter.place(model, { ignoredScope: planOptions.ignoredScope });
  const calibrator = subsetSize === undefined ? request.calibrator : limitCalibrator(request.calibrator, subsetSize);
  const openSession = adapter.statisticsSession(threads);
  const produced = new Set(model.graph.nodes.flatMap((n) => n.outputs));
  const statistics = await collectStatistics(model, calibrator, {
    tensors: placement.activations.map((a) => a.tensor),
    optionalTensors: request.allTensors ? [...model.graph.inputs.map((i) => i.name), ...model.graph.nodes.flatMap((n) => n.outputs)].filter(Boolean) : [],
    shapeTensors: placement.compute.flatMap((c) => [c.input, c.output]).filter((t) => produced.has(t)),
    channelMeans: planOptions.correctWeightBias ? biasCorrectionInputs(indexGraph(model.graph), placement.compute) : [],
    openSession,
    ...(signal ? { signal } : {}),
    onProgress: (p) => onProgress?.({ phase: 'collect', done: p.frames, ...(p.total !== undefined ? { total: subsetSize === undefined ? p.total : Math.min(p.total, subsetSize) } : {}) }),
  });

  // 3. plan: ranges, scales and zero points, the weights' share of bias correction.
  onProgress?.({ phase: 'plan' });
  const plan = buildPlan(model, statistics, planOptions, placement);
  if (equalized.length > 0) plan.equalized = equalized;

  // 4. bias: the activations' rounding, measured on the grids the runtime will use.
  if (biasCorrection === 'all') {
    onProgress?.({ phase: 'bias' });
    await correctActivationBias(model, plan, placement, calibrator, (a) => adapter.grid(a, plan), { openSession, ...(signal ? { signal } : {}) });
  }
  throwIfAborted(signal, 'Quantization');

  const emitter = await adapter.emitter({ model, modelBytes, inputBytes: request.model, plan });
  try {
    // 5. check and search: INT8 against FP32 on held-back frames, the fewest sensitive activations in float.
    let result: MixedPrecisionResult | undefined;
    let heldBack: HeldBackSet | undefined;
    if (request.check && plan.activations.length > 0) {
      heldBack = await heldBackSet(request.check);
      result = await searchMixedPrecision({
        plan,
        heldBack,
        emitter,
        open: request.check.open,
        maxDrop: search ? maxDrop : Number.POSITIVE_INFINITY,
        ...(request.check.decideBy ? { decideBy: request.check.decideBy } : {}),
        ...(request.check.minInt8Fraction !== undefined ? { minInt8Fraction: request.check.minInt8Fraction } : {}),
        ...(signal ? { signal } : {}),
        onProgress: (p) => onProgress?.(p),
      });
    }
    throwIfAborted(signal, 'Quantization');

    // 5b. speed: kernel families whose INT8 runs slower on this device go back to float.
    let speed: SpeedSearchResult | undefined;
    const speedSetting = request.check?.speed ?? adapter.defaults.speedSearch ?? false;
    if (request.check && result && heldBack && speedSetting !== false) {
      onProgress?.({ phase: 'speed', done: 0 });
      speed = await searchSpeed({
        ...(request.check.minInt8Fraction !== undefined ? { minInt8Fraction: request.check.minInt8Fraction } : {}),
        ...(typeof speedSetting === 'object' ? speedSetting : {}),
        model,
        plan,
        emitter,
        open: request.check.open,
        input: heldBack.tensors[0],
        keepFloat: result.keepFloat,
        ...(signal ? { signal } : {}),
        onProgress: (done, total) => onProgress?.({ phase: 'speed', done, total }),
      });
    }
    throwIfAborted(signal, 'Quantization');

    // 6. emit: the artefact with what the search kept in float.
    onProgress?.({ phase: 'emit' });
    const keepFloat = speed?.keepFloat ?? result?.keepFloat ?? [];
    const keep = new Set(keepFloat);
    const artefact = await emitter.emit(keep);
    const macs = emitter.macs(keep);
    const warnings = [...plan.warnings, ...artefact.warnings];
    const shared = request.check?.shared ?? false;
    if (result && shared) warnings.push(`only ${heldBack!.frames.length} frames for the accuracy check, and they are calibration frames too: the check is optimistic`);
    return {
      artefact,
      plan,
      statistics,
      model,
      modelBytes,
      inputBytes: request.model,
      equalized,
      keepFloat,
      search: result,
      ...(speed ? { speed } : {}),
      macs: { ...macs, int8Fraction: macs.total > 0 ? macs.int8 / macs.total : 0 },
      heldBack: heldBack ? { ...heldBack, shared } : undefined,
      maxDrop: result && search ? maxDrop : null,
      passed: result ? (search ? result.passed : result.estimatedDrop <= maxDrop) : true,
      warnings,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await emitter.dispose();
  }
}
