/**
 * COCOeval.accumulate and summarize: precision at 101 recall points and final recall for every
 * IoU threshold, category, area range and maxDets, then the 12 summary numbers as numpy means.
 */
import {
  AREA_RANGES,
  IOU_THRESHOLDS,
  MAX_DETS,
  OUTCOME_FALSE_POSITIVE,
  OUTCOME_TRUE_POSITIVE,
  RECALL_THRESHOLDS,
  type ImageCategoryResult,
} from './coco-match';
import { numpyMeanOrMinusOne, searchSortedLeft } from './numpy-compat';

/** np.spacing(1): keeps the precision defined where no detection has been counted yet. */
const SPACING_ONE = Number.EPSILON;

/**
 * precision[T][R][K][A][M] and recall[T][K][A][M] in numpy's C order, -1 where a category has no
 * counted ground truth (pycocotools' "absent" marker, left out of every mean).
 */
export class CocoAccumulator {
  readonly T = IOU_THRESHOLDS.length;
  readonly R = RECALL_THRESHOLDS.length;
  readonly A = AREA_RANGES.length;
  readonly M = MAX_DETS.length;
  readonly precision: Float64Array;
  readonly recall: Float64Array;
  /** Counted (non-ignored) ground truth per category and area range, [k * A + a]. */
  readonly countedGroundTruth: Int32Array;

  constructor(readonly K: number) {
    this.precision = new Float64Array(this.T * this.R * K * this.A * this.M).fill(-1);
    this.recall = new Float64Array(this.T * K * this.A * this.M).fill(-1);
    this.countedGroundTruth = new Int32Array(K * this.A);
  }

  precisionIndex(t: number, r: number, k: number, a: number, m: number): number {
    return (((t * this.R + r) * this.K + k) * this.A + a) * this.M + m;
  }

  recallIndex(t: number, k: number, a: number, m: number): number {
    return ((t * this.K + k) * this.A + a) * this.M + m;
  }

  /** Accumulate category k from its per-image results, given in image-id order. */
  addCategory(k: number, images: readonly ImageCategoryResult[]): void {
    // Concatenate every image's detections in image order, then order by score, stably.
    let total = 0;
    for (const image of images) total += image.scores.length;
    const imageOf = new Int32Array(total);
    const rankOf = new Int32Array(total);
    const scoreOf = new Float64Array(total);
    let n = 0;
    images.forEach((image, i) => {
      for (let rank = 0; rank < image.scores.length; rank++, n++) {
        imageOf[n] = i;
        rankOf[n] = rank;
        scoreOf[n] = image.scores[rank];
      }
    });
    // Sorting the full list once serves every maxDets: cutting each image to its best maxDet
    // detections keeps the survivors in the same relative order, stable ties included.
    const order = Array.from({ length: total }, (_, i) => i).sort((a, b) =>
      scoreOf[a] > scoreOf[b] ? -1 : scoreOf[a] < scoreOf[b] ? 1 : a - b,
    );
    const recallCurve = new Float64Array(total);
    const precisionCurve = new Float64Array(total);
    const selected = new Int32Array(total);

    for (let a = 0; a < this.A; a++) {
      let counted = 0;
      for (const image of images) counted += image.countedGroundTruth[a];
      this.countedGroundTruth[k * this.A + a] = counted;
      if (counted === 0) continue;
      for (let m = 0; m < this.M; m++) {
        const maxDet = MAX_DETS[m];
        let nd = 0;
        for (const e of order) if (rankOf[e] < maxDet) selected[nd++] = e;
        for (let t = 0; t < this.T; t++) {
          let tp = 0;
          let fp = 0;
          for (let i = 0; i < nd; i++) {
            const e = selected[i];
            const image = images[imageOf[e]];
            const outcome = image.outcomes[a][t * image.scores.length + rankOf[e]];
            if (outcome === OUTCOME_TRUE_POSITIVE) tp++;
            else if (outcome === OUTCOME_FALSE_POSITIVE) fp++;
            recallCurve[i] = tp / counted;
            precisionCurve[i] = tp / (fp + tp + SPACING_ONE);
          }
          this.recall[this.recallIndex(t, k, a, m)] = nd > 0 ? recallCurve[nd - 1] : 0;
          // The precision envelope: each point takes the best precision at any higher recall.
          for (let i = nd - 1; i > 0; i--) {
            if (precisionCurve[i] > precisionCurve[i - 1]) precisionCurve[i - 1] = precisionCurve[i];
          }
          for (let r = 0; r < this.R; r++) {
            const at = searchSortedLeft(recallCurve, nd, RECALL_THRESHOLDS[r]);
            // Recall points beyond the last detection's recall keep precision 0.
            this.precision[this.precisionIndex(t, r, k, a, m)] = at < nd ? precisionCurve[at] : 0;
          }
        }
      }
    }
  }

  /**
   * COCOeval.summarize's _summarize: the numpy mean of the entries > -1 of precision (or recall)
   * at one area range and maxDets, over all thresholds or the one equal to `iouThreshold`, and
   * over the given categories; -1 when there are none.
   */
  summarize(kind: 'precision' | 'recall', a: number, m: number, iouThreshold?: number, categories?: readonly number[]): number {
    const thresholds: number[] = [];
    for (let t = 0; t < this.T; t++) if (iouThreshold === undefined || IOU_THRESHOLDS[t] === iouThreshold) thresholds.push(t);
    const ks = categories ?? Array.from({ length: this.K }, (_, k) => k);
    // Gathered in the C order of the sliced array, as numpy's boolean mask flattens it.
    const values = new Float64Array(thresholds.length * (kind === 'precision' ? this.R : 1) * ks.length);
    let n = 0;
    for (const t of thresholds) {
      if (kind === 'precision') {
        for (let r = 0; r < this.R; r++) {
          for (const k of ks) {
            const v = this.precision[this.precisionIndex(t, r, k, a, m)];
            if (v > -1) values[n++] = v;
          }
        }
      } else {
        for (const k of ks) {
          const v = this.recall[this.recallIndex(t, k, a, m)];
          if (v > -1) values[n++] = v;
        }
      }
    }
    return numpyMeanOrMinusOne(values, n);
  }
}
