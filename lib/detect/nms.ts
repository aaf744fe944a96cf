/**
 * Candidate boxes as the decoders produce them, and greedy non-maximum suppression over them.
 *
 * Candidates live in typed arrays that grow and are reused from frame to frame, so a decoder
 * that keeps a few hundred boxes out of 8,400 anchors allocates nothing in the steady state.
 */
import type { Box } from './types';

/** Boxes (x1, y1, x2, y2 in model-input pixels), scores and class ids; entries [0, count) are valid. */
export interface Candidates {
  readonly count: number;
  /** 4 numbers per candidate: x1, y1, x2, y2. */
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  readonly classIds: Int32Array;
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A growable, reusable candidate list plus the scratch arrays the decoders need. One buffer per
 * engine: decoding and NMS are synchronous, so a frame's candidates are consumed before the next
 * frame's decode overwrites them.
 */
export class CandidateBuffer implements Candidates {
  count = 0;
  boxes: Float32Array;
  scores: Float32Array;
  classIds: Int32Array;
  private bestScores = new Float32Array(0);
  private bestClasses = new Int32Array(0);
  private mask = new Uint8Array(0);

  constructor(initialCapacity = 1024) {
    const capacity = Math.max(1, initialCapacity);
    this.boxes = new Float32Array(capacity * 4);
    this.scores = new Float32Array(capacity);
    this.classIds = new Int32Array(capacity);
  }

  reset(): this {
    this.count = 0;
    return this;
  }

  /**
   * Add a candidate. A row with a value that is not finite in float32 (Inf, NaN, or beyond
   * float32's range, which the typed arrays would turn into Inf) is dropped: a broken or
   * overflowing model output must not become a box with x1 = NaN or a score of Infinity.
   */
  push(x1: number, y1: number, x2: number, y2: number, score: number, classId: number): void {
    if (!(Math.abs(x1) <= FLOAT32_MAX && Math.abs(y1) <= FLOAT32_MAX && Math.abs(x2) <= FLOAT32_MAX && Math.abs(y2) <= FLOAT32_MAX && Math.abs(score) <= FLOAT32_MAX)) return;
    if (this.count === this.scores.length) this.grow();
    const i = this.count++;
    const b = i * 4;
    this.boxes[b] = x1;
    this.boxes[b + 1] = y1;
    this.boxes[b + 2] = x2;
    this.boxes[b + 3] = y2;
    this.scores[i] = score;
    this.classIds[i] = classId;
  }

  /** Per-anchor best score and class scratch for decoders that scan class-major data. */
  anchorScratch(anchors: number): { bestScores: Float32Array; bestClasses: Int32Array } {
    if (this.bestScores.length < anchors) {
      this.bestScores = new Float32Array(anchors);
      this.bestClasses = new Int32Array(anchors);
    }
    return { bestScores: this.bestScores, bestClasses: this.bestClasses };
  }

  /** A 0/1 table over class ids from a filter list, or null when every class is wanted. */
  classMask(classFilter: readonly number[] | null | undefined, numClasses: number): Uint8Array | null {
    if (!classFilter) return null;
    if (this.mask.length < numClasses) this.mask = new Uint8Array(numClasses);
    const mask = this.mask.subarray(0, numClasses);
    mask.fill(0);
    for (const id of classFilter) if (id >= 0 && id < numClasses) mask[id] = 1;
    return mask;
  }

  private grow(): void {
    const capacity = this.scores.length * 2;
    const boxes = new Float32Array(capacity * 4);
    boxes.set(this.boxes);
    const scores = new Float32Array(capacity);
    scores.set(this.scores);
    const classIds = new Int32Array(capacity);
    classIds.set(this.classIds);
    this.boxes = boxes;
    this.scores = scores;
    this.classIds = classIds;
  }
}

export interface NmsOptions {
  /** A box is suppressed when its IoU with a kept box is greater than this. */
  iouThreshold: number;
  /** Stop after keeping this many boxes. */
  maxDetections: number;
  /** Suppress across classes (default false: only boxes of the same class suppress each other). */
  classAgnostic?: boolean;
  /**
   * Only the best this many candidates enter NMS (Ultralytics' max_nms, 30,000), which bounds the
   * work at very low score thresholds.
   */
  maxCandidates?: number;
}

/**
 * Greedy NMS. Returns the indices of the kept candidates, best score first; equal scores keep
 * their original order, so results do not depend on the sort implementation.
 *
 * Each candidate is compared only with the boxes already kept (at most maxDetections), and in
 * class-aware mode only with those of its own class, found through a per-class chain: the cost is
 * O(n log n) for the sort plus O(n x kept-per-class) comparisons.
 */
export function nonMaxSuppression(candidates: Candidates, options: NmsOptions): Int32Array {
  const { iouThreshold, maxDetections } = options;
  const classAgnostic = options.classAgnostic ?? false;
  const order = orderByScore(candidates);
  const considered = Math.min(order.length, options.maxCandidates ?? 30000);
  const limit = Math.min(maxDetections, considered);
  const kept = new Int32Array(limit);
  const keptAreas = new Float64Array(limit);
  // Position in `kept` of the previous kept box of the same class (or of any class when agnostic).
  const previousKept = new Int32Array(limit);
  const lastKeptOfClass = new Map<number, number>();
  let lastKept = -1;
  let keptCount = 0;
  const { boxes, classIds } = candidates;

  for (let k = 0; k < considered && keptCount < limit; k++) {
    const i = order[k];
    const b = i * 4;
    const x1 = boxes[b];
    const y1 = boxes[b + 1];
    const x2 = boxes[b + 2];
    const y2 = boxes[b + 3];
    const area = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
    const classId = classIds[i];
    let p = classAgnostic ? lastKept : lastKeptOfClass.get(classId) ?? -1;
    let suppressed = false;
    while (p >= 0) {
      const jb = kept[p] * 4;
      const iw = Math.min(x2, boxes[jb + 2]) - Math.max(x1, boxes[jb]);
      if (iw > 0) {
        const ih = Math.min(y2, boxes[jb + 3]) - Math.max(y1, boxes[jb + 1]);
        if (ih > 0) {
          const inter = iw * ih;
          const union = area + keptAreas[p] - inter;
          if (union > 0 && inter / union > iouThreshold) {
            suppressed = true;
            break;
          }
        }
      }
      p = previousKept[p];
    }
    if (suppressed) continue;
    kept[keptCount] = i;
    keptAreas[keptCount] = area;
    if (classAgnostic) {
      previousKept[keptCount] = lastKept;
      lastKept = keptCount;
    } else {
      previousKept[keptCount] = lastKeptOfClass.get(classId) ?? -1;
      lastKeptOfClass.set(classId, keptCount);
    }
    keptCount++;
  }
  return kept.subarray(0, keptCount);
}

/** Candidate indices sorted by score, highest first, ties by index. */
function orderByScore(candidates: Candidates): Uint32Array {
  const { count, scores } = candidates;
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order;
}

/** Intersection over union of two boxes (0 when both are empty). */
export function boxIou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}
