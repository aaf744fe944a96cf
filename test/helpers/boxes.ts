/** Box arithmetic for assertions. */
import type { Box } from '../../lib/detect/types';

export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** A COCO [x, y, w, h] box as x1y1x2y2. */
export function fromXywh([x, y, w, h]: readonly number[]): Box {
  return { x1: x, y1: y, x2: x + w, y2: y + h };
}
