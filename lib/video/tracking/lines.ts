/**
 * Counting lines: a track crosses when its anchor point moves from one side of the segment
 * `from -> to` to the other through the segment itself (passing beyond an end does not count).
 *
 * Direction: 'in' when the anchor goes from the left of from -> to to its right, as seen on the
 * image (for a line drawn left to right, 'in' is downward; drawn top to bottom, 'in' is leftward);
 * 'out' the other way. A side counts only once the anchor is more than `minDistance` pixels from the
 * line, so a box hovering on it does not count back and forth.
 */
import type { Track } from './byte-tracker';
import { anchorPoint, segmentsIntersect, signedDistance, type Anchor, type Point } from './geometry';

export interface LineSpec {
  id: string;
  from: Point;
  to: Point;
  anchor?: Anchor;
  /** Pixels from the line before a side counts (default 2). */
  minDistance?: number;
}

export type CrossingDirection = 'in' | 'out';

export interface LineCrossEvent {
  type: 'line.cross';
  line: string;
  trackId: number;
  classId: number;
  label: string;
  direction: CrossingDirection;
  /** Wall-clock time (ms since the epoch) of the frame on the far side. */
  time: number;
}

interface SideState {
  side: -1 | 1;
  point: Point;
}

export class CountingLine {
  readonly anchor: Anchor;
  readonly minDistance: number;
  private readonly sides = new Map<number, SideState>();
  private from: Point;
  private to: Point;

  constructor(readonly spec: LineSpec) {
    this.anchor = spec.anchor ?? 'bottom-center';
    this.minDistance = spec.minDistance ?? 2;
    this.from = spec.from;
    this.to = spec.to;
  }

  /** Scale the spec's end points to the frame (normalised coordinates: sx = width, sy = height). */
  scale(sx: number, sy: number): void {
    this.from = [this.spec.from[0] * sx, this.spec.from[1] * sy];
    this.to = [this.spec.to[0] * sx, this.spec.to[1] * sy];
  }

  get id(): string {
    return this.spec.id;
  }

  observe(tracks: readonly Track[], time: number): LineCrossEvent[] {
    const events: LineCrossEvent[] = [];
    for (const track of tracks) {
      const point = anchorPoint(track.box, this.anchor);
      const distance = signedDistance(point, this.from, this.to);
      if (Math.abs(distance) <= this.minDistance) continue;
      const side: -1 | 1 = distance > 0 ? 1 : -1;
      const last = this.sides.get(track.id);
      this.sides.set(track.id, { side, point });
      if (!last || last.side === side) continue;
      if (!segmentsIntersect(last.point, point, this.from, this.to)) continue;
      events.push({ type: 'line.cross', line: this.spec.id, trackId: track.id, classId: track.classId, label: track.label, direction: side > 0 ? 'in' : 'out', time });
    }
    return events;
  }

  forget(trackIds: readonly number[]): void {
    for (const id of trackIds) this.sides.delete(id);
  }
}
