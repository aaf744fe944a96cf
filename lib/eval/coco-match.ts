/**
 * COCOeval's per image-and-category step (iouType 'bbox'): box IoUs as pycocotools' C code
 * computes them, then its greedy matching at every IoU threshold and area range, reduced to one
 * outcome per detection (true positive, false positive or ignored) for the accumulation step.
 */
import { linspace } from './numpy-compat';

/** pycocotools Params.setDetParams: areaRng, 'all', 'small', 'medium', 'large' (bounds inclusive). */
export const AREA_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0 ** 2, 1e5 ** 2],
  [0 ** 2, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e5 ** 2],
];
export const MAX_DETS: readonly number[] = [1, 10, 100];
/** np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1): the floats numpy gives, not 0.5 + 0.05 * i. */
export const IOU_THRESHOLDS: Float64Array = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
/** np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1): the 101 recall points. */
export const RECALL_THRESHOLDS: Float64Array = linspace(0, 1, Math.round((1 - 0) / 0.01) + 1);

/** A ground-truth box as COCOeval sees it. */
export interface EvalGroundTruth {
  id: number;
  bbox: readonly number[];
  area: number;
  crowd: boolean;
}

/** A detection as COCOeval's loadRes makes it: id = 1-based position in the results, area = w * h. */
export interface EvalDetection {
  id: number;
  bbox: readonly number[];
  area: number;
  score: number;
}

export const OUTCOME_FALSE_POSITIVE = 0;
export const OUTCOME_TRUE_POSITIVE = 1;
export const OUTCOME_IGNORED = 2;

/** What accumulation needs from one image and category. */
export interface ImageCategoryResult {
  /** Scores of the detections, best first, at most the largest maxDets. */
  scores: Float64Array;
  /** Per area range: the outcome of detection d at threshold t at [t * D + d]. */
  outcomes: Uint8Array[];
  /** Per area range: how many ground-truth boxes are not ignored. */
  countedGroundTruth: number[];
}

/**
 * pycocotools' stable order: np.argsort(-scores, kind='mergesort'), which keeps equal scores in
 * their input order; Array.prototype.sort is stable too.
 */
export function sortByScoreStable<T extends { score: number }>(items: readonly T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => (a.item.score > b.item.score ? -1 : a.item.score < b.item.score ? 1 : a.index - b.index))
    .map(({ item }) => item);
}

/**
 * maskApi.c bbIou: IoU of every detection with every ground truth, row-major [d * G + g]. For a
 * crowd ground truth the union is the detection's own area, so any detection inside a crowd
 * region overlaps it fully.
 */
export function boxIous(dts: readonly EvalDetection[], gts: readonly EvalGroundTruth[]): Float64Array {
  const G = gts.length;
  const out = new Float64Array(dts.length * G);
  for (let g = 0; g < G; g++) {
    const gb = gts[g].bbox;
    const ga = gb[2] * gb[3];
    const crowd = gts[g].crowd;
    for (let d = 0; d < dts.length; d++) {
      const db = dts[d].bbox;
      const da = db[2] * db[3];
      const w = Math.min(db[2] + db[0], gb[2] + gb[0]) - Math.max(db[0], gb[0]);
      if (w <= 0) continue;
      const h = Math.min(db[3] + db[1], gb[3] + gb[1]) - Math.max(db[1], gb[1]);
      if (h <= 0) continue;
      const inter = w * h;
      const union = crowd ? da : da + ga - inter;
      out[d * G + g] = inter / union;
    }
  }
  return out;
}

/**
 * COCOeval.evaluateImg for every area range at once. `dts` must already be in score order and
 * cut to the largest maxDets (as computeIoU does), and `ious` computed on exactly that list.
 */
export function evaluateImageCategory(
  gts: readonly EvalGroundTruth[],
  dts: readonly EvalDetection[],
  ious: Float64Array,
): ImageCategoryResult {
  const G = gts.length;
  const D = dts.length;
  const T = IOU_THRESHOLDS.length;
  const outcomes: Uint8Array[] = [];
  const countedGroundTruth: number[] = [];
  // Ground truth in evaluation order: not ignored first, each group in input order (a stable sort).
  const order = new Int32Array(G);
  const ignored = new Uint8Array(G);
  const matchedBy = new Float64Array(G);

  for (const [lo, hi] of AREA_RANGES) {
    // COCOeval's _prepare sets ignore = iscrowd (overwriting any 'ignore' field); out-of-range area is ignored too.
    let next = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (let g = 0; g < G; g++) {
        const isIgnored = gts[g].crowd || gts[g].area < lo || gts[g].area > hi ? 1 : 0;
        if (isIgnored === pass) {
          order[next] = g;
          ignored[next] = isIgnored;
          next++;
        }
      }
    }
    let counted = 0;
    for (let i = 0; i < G; i++) if (ignored[i] === 0) counted++;

    const result = new Uint8Array(T * D);
    for (let t = 0; t < T; t++) {
      matchedBy.fill(0);
      for (let d = 0; d < D; d++) {
        let best = Math.min(IOU_THRESHOLDS[t], 1 - 1e-10);
        let m = -1;
        for (let i = 0; i < G; i++) {
          const g = order[i];
          // A matched box is taken, unless it is a crowd region, which absorbs any number of detections.
          if (matchedBy[i] > 0 && !gts[g].crowd) continue;
          // Once a real box matched, ignored ones (sorted last) cannot take the detection away.
          if (m > -1 && ignored[m] === 0 && ignored[i] === 1) break;
          const iou = ious[d * G + g];
          if (iou < best) continue;
          best = iou;
          m = i;
        }
        // pycocotools records the matched ground truth's id and reads 0 as "unmatched".
        let matchedId = 0;
        let isIgnored = false;
        if (m !== -1) {
          isIgnored = ignored[m] === 1;
          matchedId = gts[order[m]].id;
          matchedBy[m] = dts[d].id;
        }
        if (matchedId === 0 && (dts[d].area < lo || dts[d].area > hi)) isIgnored = true;
        result[t * D + d] = isIgnored ? OUTCOME_IGNORED : matchedId !== 0 ? OUTCOME_TRUE_POSITIVE : OUTCOME_FALSE_POSITIVE;
      }
    }
    outcomes.push(result);
    countedGroundTruth.push(counted);
  }
  return { scores: Float64Array.from(dts, (d) => d.score), outcomes, countedGroundTruth };
}
