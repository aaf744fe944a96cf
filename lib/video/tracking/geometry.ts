/** Points, polygons and segments for zones and counting lines, in frame pixels (y pointing down). */
import type { Box } from '../../detect/types';

export type Point = readonly [number, number];

/** Which point of a box stands for the object: its bottom centre (where it stands on the ground) or its centre. */
export type Anchor = 'bottom-center' | 'center';

export function anchorPoint(box: Box, anchor: Anchor): Point {
  const x = (box.x1 + box.x2) / 2;
  return anchor === 'center' ? [x, (box.y1 + box.y2) / 2] : [x, box.y2];
}

/** Even-odd rule: a ray from the point crosses the polygon's edges an odd number of times when inside. */
export function pointInPolygon(p: Point, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Signed distance of p from the line through a and b: positive on the right of a -> b as seen on
 * the image (y down), negative on its left.
 */
export function signedDistance(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length = Math.hypot(dx, dy);
  return length === 0 ? 0 : (dx * (p[1] - a[1]) - dy * (p[0] - a[0])) / length;
}

/** Whether segment p -> q meets segment a -> b (touching counts). */
export function segmentsIntersect(p: Point, q: Point, a: Point, b: Point): boolean {
  const cross = (o: Point, u: Point, v: Point) => (u[0] - o[0]) * (v[1] - o[1]) - (u[1] - o[1]) * (v[0] - o[0]);
  const d1 = cross(a, b, p);
  const d2 = cross(a, b, q);
  const d3 = cross(p, q, a);
  const d4 = cross(p, q, b);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  const onSegment = (o: Point, u: Point, v: Point) =>
    Math.min(o[0], u[0]) <= v[0] && v[0] <= Math.max(o[0], u[0]) && Math.min(o[1], u[1]) <= v[1] && v[1] <= Math.max(o[1], u[1]);
  return (d1 === 0 && onSegment(a, b, p)) || (d2 === 0 && onSegment(a, b, q)) || (d3 === 0 && onSegment(p, q, a)) || (d4 === 0 && onSegment(p, q, b));
}
