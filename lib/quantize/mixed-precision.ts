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
import { seededRandom } from '../util/random';

export interface TensorSensitivity {
  name: string;
  /** Relative output error with this activation alone in INT8 (weights in INT8 too). */
  error: number;
  /**
   * Multiply-accumulates per frame that leave the runtime's fast INT8 kernels when this activation
   * alone stays in float (`ArtefactEmitter.slowMacs`; 0 for a conv's output where the conv still
   * runs its INT8 kernel: OpenVINO, TensorRT).
   */
  floatMacs: number;
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
  agreement: { allInt8: number; chosen: number; floor: number; floorMap: number };
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
  /** The order in which ranked activations go to float (floatOrder): `keepFloat` is its head. */
  floatOrder: string[];
  /** The floor on the INT8 share of multiply-accumulates the search kept to. */
  minInt8Fraction: number;
  /** Activations ranked but never tried in float because the floor had no room for them. */
  excludedByFloor: string[];
  seconds: number;
}

/**
 * 'estimate' (default): a candidate passes when its estimated drop is within maxDrop. 'upper': when
 * the upper end of its 90 % bootstrap interval is. On a few dozen held-back frames the estimate is
 * noisy both ways, and the interval says how noisy; but on 32 frames its upper end stays above a
 * point whatever is kept in float: yolox_nano's Q/DQ model (ONNX Runtime, AVX-512 VNNI) failed it
 * with 179 activations in float at the 90 % INT8 floor, while every activation in INT8 lost 0.0
 * points of mAP on coco/eval (0.2694 against FP32's 0.2688), and models with 88 and 173
 * activations kept in float by that rule lost more (1.2 and 0.6 points) than they would have
 * without. 'upper' is for a caller who would rather keep float than trust a few dozen frames.
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
  /** How a trial passes (default 'estimate'). */
  decideBy?: CheckDecision;
  /**
   * Never keep so much in float that less than this share of the multiply-accumulates runs in
   * INT8 (default 0.9): a model mostly in float is not what INT8 was asked for. When the check
   * cannot pass above it, the most accurate candidate above it is chosen and `passed` is false.
   */
  minInt8Fraction?: number;
}

/** What a float set costs in multiply-accumulates outside the fast INT8 kernels (the emitter's own measure, else those not in INT8). */
function slowMacsOf(emitter: ArtefactEmitter): (keepFloat: ReadonlySet<string>) => number {
  if (emitter.slowMacs) return (keep) => emitter.slowMacs!(keep);
  return (keep) => {
    const m = emitter.macs(keep);
    return m.total - m.int8;
  };
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

/** The largest estimated mAP drop the check accepts unless told otherwise: one point. */
export const DEFAULT_MAX_DROP = 0.01;

/** The share of multiply-accumulates the search keeps in INT8 at least, unless told otherwise. */
export const DEFAULT_MIN_INT8_FRACTION = 0.9;

/** `value` as a share of multiply-accumulates to keep in INT8: a number from 0 to 1, else an ERR_ARGUMENT naming `name`. */
export function checkMinInt8Fraction(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw invalidArgument('a number from 0 to 1', name, value);
  return value;
}

export function estimatedDrop(agreementAp50: number, floorAp50: number, referenceMap = REFERENCE_MAP): number {
  return (referenceMap * Math.max(0, floorAp50 - agreementAp50)) / Math.max(floorAp50, 1e-9);
}

/** FP32's detections on the frames shifted by one pixel (zero-copy crops), boxes shifted back: the floor's candidate. */
async function shiftedDetections(emitter: ArtefactEmitter, open: OpenCandidate, heldBack: HeldBackSet): Promise<Detection[][]> {
  const shifted = heldBack.frames.map((frame) => shiftFrame(frame));
  const detections = await candidateDetections(open, emitter.reference, { frames: shifted }, COCO_EVAL_DETECT_OPTIONS);
  return detections.map(shiftedBack);
}

/** Detections made on a shiftFrame() crop, moved back into the whole frame's coordinates. */
export function shiftedBack(detections: readonly Detection[]): Detection[] {
  return detections.map((d) => ({ ...d, box: { x1: d.box.x1 + 1, y1: d.box.y1 + 1, x2: d.box.x2 + 1, y2: d.box.y2 + 1 } }));
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
  const next = seededRandom(0x2545f491);
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
export function shiftFrame(frame: RawFrame): RawFrame {
  const v = validateRawFrame(frame);
  if (v.format === 'nv12' || v.format === 'i420') {
    throw new Int8DetectError('ERR_ARGUMENT', 'Held-back frames for the mixed-precision search must be packed RGB/BGR/RGBA/BGRA/GRAY frames');
  }
  const bytesPerPixel = { rgb: 3, bgr: 3, rgba: 4, bgra: 4, gray: 1 }[v.format];
  return { data: v.data.subarray(v.stride + bytesPerPixel), width: v.width - 1, height: v.height - 1, format: v.format, stride: v.stride };
}

/**
 * The order in which activations go to float: most output error removed per multiply-accumulate
 * given up first (a greedy knapsack), so the float budget goes where it buys the most accuracy.
 * Ranked by error alone, yolox_nano's Q/DQ model kept 79 activations in float and 40 % of its
 * multiply-accumulates with them, most of it in a few wide convolutions of moderate error. A
 * conv's own output costs nothing (the conv still runs INT8); `costFloor` (0.1 % of the model's
 * multiply-accumulates) keeps an almost harmless free tensor from outranking a harmful cheap one.
 * An activation whose float would take the INT8 share below `minInt8` is left out, and the walk
 * goes on with cheaper ones.
 */
export function floatOrder(
  ranked: readonly TensorSensitivity[],
  totalMacs: number,
  int8Share: (keepFloat: ReadonlySet<string>) => number,
  minInt8: number,
): { order: string[]; excluded: string[] } {
  const costFloor = 0.001 * totalMacs;
  const byValue = [...ranked].sort((a, b) => b.error / (b.floatMacs + costFloor || 1) - a.error / (a.floatMacs + costFloor || 1));
  const order: string[] = [];
  const excluded: string[] = [];
  for (const s of byValue) {
    if (int8Share(new Set([...order, s.name])) + 1e-12 >= minInt8) order.push(s.name);
    else excluded.push(s.name);
  }
  return { order, excluded };
}

export async function searchMixedPrecision(options: MixedPrecisionOptions): Promise<MixedPrecisionResult> {
  const started = Date.now();
  const maxDrop = options.maxDrop ?? DEFAULT_MAX_DROP;
  const minInt8 = checkMinInt8Fraction(options.minInt8Fraction ?? DEFAULT_MIN_INT8_FRACTION, 'options.minInt8Fraction');
  const decideBy = options.decideBy ?? 'estimate';
  if (decideBy !== 'upper' && decideBy !== 'estimate') throw invalidArgument("'upper' or 'estimate'", 'options.decideBy', decideBy);
  const { heldBack, plan, emitter, open } = options;
  const sensitivityFrames = Math.min(options.sensitivityFrames ?? 8, heldBack.frames.length);
  const sensitivitySet: HeldBackSet = { frames: heldBack.frames.slice(0, sensitivityFrames), tensors: heldBack.tensors.slice(0, sensitivityFrames) };
  const activations = plan.activations.map((a) => a.name);
  const total = emitter.macs(new Set()).total;
  const numClasses = await candidateClassCount(open, emitter.reference);

  options.onProgress?.({ phase: 'reference', done: 0, total: 1 });
  const referenceOutputs: RawTensor[][] = await candidateOutputs(open, emitter.reference, sensitivitySet);
  const referenceDetections: Detection[][] = await candidateDetections(open, emitter.reference, heldBack, COCO_EVAL_DETECT_OPTIONS);
  const floorDetections = await shiftedDetections(emitter, open, heldBack);
  const floorMetrics = agreementMetrics(referenceDetections, floorDetections, heldBack.frames, numClasses);
  const floor = floorMetrics.AP50;
  options.onProgress?.({ phase: 'reference', done: 1, total: 1 });

  const trials = new Map<number, MixedPrecisionTrial>();
  const trialDetections = new Map<number, Detection[][]>();
  let freeTrial: MixedPrecisionTrial | undefined;
  const sensitivity: TensorSensitivity[] = [];
  // The order in which activations go to float (floatOrder), and those the INT8 floor leaves out.
  let order: string[] = [];
  let excludedByFloor: string[] = [];
  const keepSet = (k: number) => new Set(order.slice(0, k));
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
  const slow = slowMacsOf(emitter);
  const baseline = slow(new Set());
  if (!allInt8.passed) {
    // Tensors that cost nothing in the fast INT8 kernels in float (a conv's output where the
    // conv still runs its INT8 kernel with a float output: OpenVINO) are tried first: when all of
    // them in float pass, the search keeps only from them, and every compute node stays INT8.
    const macFree = activations.filter((a) => slow(new Set([a])) === baseline);
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
      sensitivity.push({ name, error: relativeOutputError(referenceOutputs, outputs), floatMacs: slow(new Set([name])) - baseline });
      options.onProgress?.({ phase: 'sensitivity', done: i + 1, total: pool.length });
    }
    sensitivity.sort((a, b) => b.error - a.error);
    const ordered = floatOrder(sensitivity, total, (set) => emitter.macs(set).int8 / Math.max(total, 1), minInt8);
    order = ordered.order;
    excludedByFloor = ordered.excluded;
    // The fewest activations of that order in float that pass: binary search over the count,
    // taking agreement as non-increasing in the number of INT8 tensors.
    let lo = 1;
    let hi = order.length;
    if (freeTrial && pool !== activations && hi === pool.length) {
      trials.set(hi, { ...freeTrial, macFree: undefined });
      trialDetections.set(hi, trialDetections.get(-1)!);
    }
    if (hi > 0) {
      const last = await trial(hi, keepSet(hi));
      chosen = last;
      if (last.passed) {
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          const t = await trial(mid, keepSet(mid));
          options.onProgress?.({ phase: 'search', done: trials.size, total: Math.ceil(Math.log2(order.length)) + 2 });
          if (t.passed) hi = mid;
          else lo = mid + 1;
        }
        chosen = await trial(hi, keepSet(hi));
      }
    }
  }
  const keepFloat = [...keepSet(chosen.keptFloat)];
  const keep = new Set(keepFloat);
  return {
    keepFloat,
    sensitivity,
    trials: [...trials.values(), ...(freeTrial && pool === activations ? [freeTrial] : [])].sort((a, b) => a.keptFloat - b.keptFloat),
    agreement: { allInt8: allInt8.agreement, chosen: chosen.agreement, floor, floorMap: floorMetrics.mAP },
    estimatedDrop: chosen.estimatedDrop,
    estimatedDropInterval: chosen.estimatedDropInterval ?? bootstrapDropInterval(referenceDetections, trialDetections.get(chosen.keptFloat) ?? [], floorDetections, heldBack.frames, numClasses),
    decideBy,
    passed: chosen.passed,
    macs: emitter.macs(keep),
    floatOrder: order,
    minInt8Fraction: minInt8,
    excludedByFloor,
    seconds: (Date.now() - started) / 1000,
  };
}
