/** Box overlap for association: IoU, and the IoU cost matrices ByteTrack matches on. */
import type { Box } from '../../detect/types';

export function boxArea(b: Box): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

/** Intersection over union of two boxes (0 when either is empty). */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * 1 - IoU for every (track, detection) pair, row-major. With `scores`, the IoU is first
 * multiplied by each detection's score (ByteTrack's `fuse_score`): between two equally overlapping
 * detections the surer one costs less.
 */
export function iouCost(tracks: readonly Box[], detections: readonly Box[], scores?: readonly number[]): Float64Array {
  const cost = new Float64Array(tracks.length * detections.length);
  for (let i = 0; i < tracks.length; i++) {
    for (let j = 0; j < detections.length; j++) {
      const similarity = iou(tracks[i], detections[j]) * (scores ? scores[j] : 1);
      cost[i * detections.length + j] = 1 - similarity;
    }
  }
  return cost;
}
