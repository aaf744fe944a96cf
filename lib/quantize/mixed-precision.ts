/**
 * Sensitivity ranking and automatic mixed precision, written once for every backend: rank the
 * quantized activations by how far each one alone moves the model's outputs from FP32 on
 * held-back frames, then keep in float the fewest of the most sensitive ones that the label-free
 * agreement check needs. NNCF's accuracy control does this with labels; this needs none.
 */
import type { RawTensor } from '../runtimes/session';
import { COCO_EVAL_DETECT_OPTIONS } from '../detect/coco-options';
import type { Detection } from '../detect/types';
import { Int8DetectError, invalidArgument, throwIfAborted } from '../util/errors';
import { validateRawFrame, type RawFrame } from '../image/frame';
import type { ArtefactEmitter } from './adapter';
import { agreementMetrics, type FrameSize } from './agreement';
import {
  candidateClassCount,
  candidateDetections,
  candidateOutputs,
  relativeOutputError,
  type CandidateModel,
  type HeldBackSet,
  type OpenCandidate,
} from './candidate';
import type { QuantizationPlan } from './plan';

export interface TensorSensitivity {
  name: string;
  /** Relative output error with this activation alone in INT8 (weights in INT8 too). */
  error: number;
}

export interface MixedPrecisionTrial {
  /** How many of the most sensitive activations stayed in float. */
  keptFloat: number;
  /** Agreement AP50 and mAP@[.5:.95] against FP32's detections. */
  agreement: number;
  agreementMap: number;
  estimatedDrop: number;
  /** 90 % bootstrap interval of the estimated drop over the held-back frames. */
  estimatedDropInterval?: [number, number];
  passed: boolean;
  /** The trial with every MAC-free activation (compute outputs) in float, when it did not pass. */
  macFree?: boolean;
}

/** The label-free check as summaries report it: INT8 scored against FP32's detections on held-back frames (AP50). */
export interface LabelFreeCheckSummary {
  heldBackFrames: number;
  /** The held-back frames were calibration frames too (too few frames): optimistic. */
  heldBackShared: boolean;
  floor: number;
  allInt8: number;
  chosen: number;
  estimatedDrop: number;
  /** 90 % bootstrap interval of `estimatedDrop` over the held-back frames: how far to trust it. */
  estimatedDropInterval?: [number, number];
  maxDrop: number | null;
  passed: boolean;
  trials: MixedPrecisionTrial[];
}

export interface MixedPrecisionResult {
  /** The activations to keep in float, most sensitive first: the emitter makes the artefact with them. */
  keepFloat: string[];
  /**
   * The ranked activations, most sensitive first: every one, or only the MAC-free ones (conv
   * outputs) when keeping those in float passes the check. Empty when all-INT8 passes.
   */
  sensitivity: TensorSensitivity[];
  trials: MixedPrecisionTrial[];
  /** Agreement AP50 (INT8 scored against FP32 detections) with everything in INT8, of the chosen model, and FP32's own one-pixel-shift floor. */
  agreement: { allInt8: number; chosen: number; floor: number };
  estimatedDrop: number;
  /**
   * The chosen model's estimated drop recomputed on 200 resamplings (with replacement) of the
   * held-back frames, its 5th and 95th percentiles: a few dozen frames make a noisy estimate, and
   * this says how noisy.
   */
  estimatedDropInterval: [number, number];
  /** How a trial passed: its estimated drop, or the upper end of its interval, within maxDrop. */
  decideBy: CheckDecision;
  /** The chosen model passed by that rule. */
  passed: boolean;
  macs: { int8: number; total: number };
  seconds: number;
}

/**
 * 'upper' (default): a candidate passes when the upper end of its 90 % bootstrap interval is
 * within maxDrop. On a few dozen held-back frames the point estimate is noisy both ways (32 frames
 * estimated 0.76 points for yolox_nano's Q/DQ model where unseen images lost about 1), so the
 * check asks for the drop to be small with some confidence. 'estimate': the point estimate alone.
 */
export type CheckDecision = 'upper' | 'estimate';

export interface MixedPrecisionOptions {
  plan: QuantizationPlan;
  heldBack: HeldBackSet;
  /** Makes the candidates (the float reference, the plan with some activations in float). */
  emitter: ArtefactEmitter;
  /** Opens a candidate with the float model's detector, on the artefact's runtime. */
  open: OpenCandidate;
  /** The largest mAP drop the label-free estimate may show (default 0.01). */
  maxDrop?: number;
  /** Frames of the held-back set used for the sensitivity ranking (default 8). */
  sensitivityFrames?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { phase: 'reference' | 'sensitivity' | 'search'; done: number; total: number }) => void;
  /** How a trial passes (default 'upper'). */
  decideBy?: CheckDecision;
}

/** Runs `use` on the candidate with `keepFloat` in float, then releases the candidate. */
async function withCandidate<T>(emitter: ArtefactEmitter, keepFloat: ReadonlySet<string>, use: (model: CandidateModel) => Promise<T>): Promise<T> {
  const candidate = await emitter.candidate(keepFloat);
  try {
    return await use(candidate);
  } finally {
    await emitter.release?.(candidate);
  }
}

/**
 * The label-free estimate of the mAP drop. Agreement is the candidate's AP50 scored against FP32's
 * own confident detections (1 when it finds exactly what FP32 finds). Even FP32 does not agree
 * with itself perfectly: shifting its input by one pixel, a change no accuracy measure would
 * notice, already costs some agreement. That floor is measured on the same frames, and only the
 * disagreement beyond it counts, relative to it: INT8 may move detections as much as a one-pixel
 * shift does, and every further loss of agreement is taken as the same relative loss of mAP.
 * Without labels the FP32 mAP is unknown; REFERENCE_MAP, high for COCO-style detectors, turns
 * the relative loss into mAP points on the cautious side.
 */
export const REFERENCE_MAP = 0.5;

export function estimatedDrop(agreementAp50: number, floorAp50: number, referenceMap = REFERENCE_MAP): number {
  return (referenceMap * Math.max(0, floorAp50 - agreementAp50)) / Math.max(floorAp50, 1e-9);
}

/** FP32's detections on the frames shifted by one pixel (zero-copy crops), boxes shifted back: the floor's candidate. */
async function shiftedDetections(emitter: ArtefactEmitter, open: OpenCandidate, heldBack: HeldBackSet): Promise<Detection[][]> {
  const shifted = heldBack.frames.map((frame) => shiftFrame(frame));
  const detections = await candidateDetections(open, emitter.reference, { frames: shifted }, COCO_EVAL_DETECT_OPTIONS);
  return detections.map((list) => list.map((d) => ({ ...d, box: { x1: d.box.x1 + 1, y1: d.box.y1 + 1, x2: d.box.x2 + 1, y2: d.box.y2 + 1 } })));
}

/**
 * The estimated drop's 5th and 95th percentiles over `rounds` resamplings of the frames (with
 * replacement, seeded: the same frames give the same interval), floor and candidate rescored on
 * each resampling.
 */
export function bootstrapDropInterval(
  reference: readonly Detection[][],
  candidate: readonly Detection[][],
  floorCandidate: readonly Detection[][],
  frames: readonly FrameSize[],
  numClasses: number,
  rounds = 200,
): [number, number] {
  let state = 0x2545f491;
  const next = () => {
    // xorshift32: deterministic and good enough to pick frame indices.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const n = frames.length;
  const drops: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const pick = Array.from({ length: n }, () => Math.floor(next() * n));
    const take = <T>(list: readonly T[]) => pick.map((i) => list[i]);
    const agreement = agreementMetrics(take(reference), take(candidate), take(frames), numClasses).AP50;
    const floor = agreementMetrics(take(reference), take(floorCandidate), take(frames), numClasses).AP50;
    drops.push(estimatedDrop(agreement, floor));
  }
  drops.sort((a, b) => a - b);
  const at = (q: number) => drops[Math.min(drops.length - 1, Math.max(0, Math.round(q * (drops.length - 1))))];
  return [at(0.05), at(0.95)];
}

/** The frame without its first row and column: the same pixels, one to the left and one up. */
function shiftFrame(frame: RawFrame): RawFrame {
  const v = validateRawFrame(frame);
  if (v.format === 'nv12' || v.format === 'i420') {
    throw new Int8DetectError('ERR_ARGUMENT', 'Held-back frames for the mixed-precision search must be packed RGB/BGR/RGBA/BGRA/GRAY frames');
  }
  const bytesPerPixel = { rgb: 3, bgr: 3, rgba: 4, bgra: 4, gray: 1 }[v.format];
  return { data: v.data.subarray(v.stride + bytesPerPixel), width: v.width - 1, height: v.height - 1, format: v.format, stride: v.stride };
}

export async function searchMixedPrecision(options: MixedPrecisionOptions): Promise<MixedPrecisionResult> {
  const started = Date.now();
  const maxDrop = options.maxDrop ?? 0.01;
  const decideBy = options.decideBy ?? 'upper';
  if (decideBy !== 'upper' && decideBy !== 'estimate') throw invalidArgument("'upper' or 'estimate'", 'options.decideBy', decideBy);
  const { heldBack, plan, emitter, open } = options;
  const sensitivityFrames = Math.min(options.sensitivityFrames ?? 8, heldBack.frames.length);
  const sensitivitySet: HeldBackSet = { frames: heldBack.frames.slice(0, sensitivityFrames), tensors: heldBack.tensors.slice(0, sensitivityFrames) };
  const activations = plan.activations.map((a) => a.name);
  const numClasses = await candidateClassCount(open, emitter.reference);

  options.onProgress?.({ phase: 'reference', done: 0, total: 1 });
  const referenceOutputs: RawTensor[][] = await candidateOutputs(open, emitter.reference, sensitivitySet);
  const referenceDetections: Detection[][] = await candidateDetections(open, emitter.reference, heldBack, COCO_EVAL_DETECT_OPTIONS);
  const floorDetections = await shiftedDetections(emitter, open, heldBack);
  const floor = agreementMetrics(referenceDetections, floorDetections, heldBack.frames, numClasses).AP50;
  options.onProgress?.({ phase: 'reference', done: 1, total: 1 });

  const trials = new Map<number, MixedPrecisionTrial>();
  const trialDetections = new Map<number, Detection[][]>();
  let freeTrial: MixedPrecisionTrial | undefined;
  const sensitivity: TensorSensitivity[] = [];
  const keepSet = (k: number) => new Set(sensitivity.slice(0, k).map((s) => s.name));
  const trial = async (k: number, keep: ReadonlySet<string>): Promise<MixedPrecisionTrial> => {
    const known = trials.get(k);
    if (known) return known;
    throwIfAborted(options.signal, 'The mixed-precision search');
    const detections = await withCandidate(emitter, keep, (candidate) => candidateDetections(open, candidate, heldBack, COCO_EVAL_DETECT_OPTIONS));
    const metrics = agreementMetrics(referenceDetections, detections, heldBack.frames, numClasses);
    trialDetections.set(k, detections);
    const drop = estimatedDrop(metrics.AP50, floor);
    const interval = decideBy === 'upper' ? bootstrapDropInterval(referenceDetections, detections, floorDetections, heldBack.frames, numClasses) : undefined;
    const passed = interval ? interval[1] <= maxDrop : drop <= maxDrop;
    const result = { keptFloat: k, agreement: metrics.AP50, agreementMap: metrics.mAP, estimatedDrop: drop, ...(interval ? { estimatedDropInterval: interval } : {}), passed };
    trials.set(k, result);
    return result;
  };

  const allInt8 = await trial(0, new Set());
  let chosen = allInt8;
  let pool = activations;
  if (!allInt8.passed) {
    // Tensors that cost no INT8 multiply-accumulates in float (a conv's output: the conv still
    // runs INT8, with a float output) are tried first: when all of them in float pass, the
    // search keeps only from them, and every compute node stays INT8.
    const int8Macs = emitter.macs(new Set()).int8;
    const macFree = activations.filter((a) => emitter.macs(new Set([a])).int8 === int8Macs);
    if (macFree.length > 0 && macFree.length < activations.length) {
      const t = await trial(-1, new Set(macFree));
      freeTrial = { ...t, keptFloat: macFree.length, macFree: true };
      trials.delete(-1);
      if (t.passed) pool = macFree;
    }
  }
  if (!allInt8.passed) {
    // Rank: each activation alone in INT8 (with every weight in INT8), the rest in float.
    for (const [i, name] of pool.entries()) {
      throwIfAborted(options.signal, 'The mixed-precision search');
      const keep = new Set(activations.filter((a) => a !== name));
      const outputs = await withCandidate(emitter, keep, (candidate) => candidateOutputs(open, candidate, sensitivitySet));
      sensitivity.push({ name, error: relativeOutputError(referenceOutputs, outputs) });
      options.onProgress?.({ phase: 'sensitivity', done: i + 1, total: pool.length });
    }
    sensitivity.sort((a, b) => b.error - a.error);
    // The fewest most-sensitive activations in float that pass: binary search over the count,
    // taking agreement as non-increasing in the number of INT8 tensors.
    let lo = 1;
    let hi = pool.length;
    if (freeTrial && pool !== activations) {
      trials.set(hi, { ...freeTrial, macFree: undefined });
      trialDetections.set(hi, trialDetections.get(-1)!);
    }
    const last = await trial(hi, keepSet(hi));
    chosen = last;
    if (last.passed) {
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const t = await trial(mid, keepSet(mid));
        options.onProgress?.({ phase: 'search', done: trials.size, total: Math.ceil(Math.log2(pool.length)) + 2 });
        if (t.passed) hi = mid;
        else lo = mid + 1;
      }
      chosen = await trial(hi, keepSet(hi));
    }
  }
  const keepFloat = [...keepSet(chosen.keptFloat)];
  const keep = new Set(keepFloat);
  return {
    keepFloat,
    sensitivity,
    trials: [...trials.values(), ...(freeTrial && pool === activations ? [freeTrial] : [])].sort((a, b) => a.keptFloat - b.keptFloat),
    agreement: { allInt8: allInt8.agreement, chosen: chosen.agreement, floor },
    estimatedDrop: chosen.estimatedDrop,
    estimatedDropInterval: chosen.estimatedDropInterval ?? bootstrapDropInterval(referenceDetections, trialDetections.get(chosen.keptFloat) ?? [], floorDetections, heldBack.frames, numClasses),
    decideBy,
    passed: chosen.passed,
    macs: emitter.macs(keep),
    seconds: (Date.now() - started) / 1000,
  };
}
