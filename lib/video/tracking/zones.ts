/**
 * Polygon zones: which tracks are inside, when each entered and left, and for how long it stayed.
 *
 * A track is inside when its anchor point (bottom centre by default: where a person or car stands)
 * lies in the polygon. A change of side counts only after it has held for `inertia` frames in a row
 * (Frigate's habit), so a box jittering on the border does not flood enter/exit events; the enter
 * or exit time is that of the first frame of the run.
 */
import { anchorPoint, pointInPolygon, type Anchor, type Point } from './geometry';
import type { Track } from './byte-tracker';

export interface ZoneSpec {
  id: string;
  /** At least three vertices, in frame pixels. */
  polygon: readonly Point[];
  anchor?: Anchor;
  /** Frames in a row a change of side must hold before it counts (default 3). */
  inertia?: number;
}

export interface ZoneEnterEvent {
  type: 'zone.enter';
  zone: string;
  trackId: number;
  classId: number;
  label: string;
  /** Wall-clock time (ms since the epoch) of the frame where the track was first seen inside. */
  time: number;
}

export interface ZoneExitEvent {
  type: 'zone.exit';
  zone: string;
  trackId: number;
  classId: number;
  label: string;
  time: number;
  /** Time inside, ms. */
  dwellMs: number;
  /** 'left': seen outside; 'lost': the track ended while inside. */
  reason: 'left' | 'lost';
}

export type ZoneEvent = ZoneEnterEvent | ZoneExitEvent;

interface Membership {
  inside: boolean;
  since: number;
  /** Consecutive frames disagreeing with `inside`, and the time of the first of them. */
  streak: number;
  streakSince: number;
  lastSeen: number;
}

export interface ZoneOccupant {
  trackId: number;
  label: string;
  dwellMs: number;
}

export class Zone {
  readonly anchor: Anchor;
  readonly inertia: number;
  private readonly members = new Map<number, Membership & { label: string; classId: number }>();
  private polygon: readonly Point[];

  constructor(readonly spec: ZoneSpec) {
    this.anchor = spec.anchor ?? 'bottom-center';
    this.inertia = spec.inertia ?? 3;
    this.polygon = spec.polygon;
  }

  /** Scale the spec's vertices to the frame (normalised coordinates: sx = width, sy = height). */
  scale(sx: number, sy: number): void {
    this.polygon = this.spec.polygon.map(([x, y]) => [x * sx, y * sy] as const);
  }

  get id(): string {
    return this.spec.id;
  }

  /** Tracks matched in this frame; returns the zone's enter/exit events. */
  observe(tracks: readonly Track[], time: number): ZoneEvent[] {
    const events: ZoneEvent[] = [];
    for (const track of tracks) {
      const inside = pointInPolygon(anchorPoint(track.box, this.anchor), this.polygon);
      let m = this.members.get(track.id);
      if (!m) {
        m = { inside: false, since: time, streak: 0, streakSince: time, lastSeen: time, label: track.label, classId: track.classId };
        this.members.set(track.id, m);
      }
      m.label = track.label;
      m.classId = track.classId;
      m.lastSeen = time;
      if (inside === m.inside) {
        m.streak = 0;
        continue;
      }
      if (m.streak === 0) m.streakSince = time;
      m.streak++;
      if (m.streak < this.inertia) continue;
      m.inside = inside;
      m.streak = 0;
      const base = { zone: this.spec.id, trackId: track.id, classId: track.classId, label: track.label, time: m.streakSince };
      if (inside) {
        m.since = m.streakSince;
        events.push({ type: 'zone.enter', ...base });
      } else {
        events.push({ type: 'zone.exit', ...base, dwellMs: m.streakSince - m.since, reason: 'left' });
      }
    }
    return events;
  }

  /** Tracks that ended: those inside leave, at the time they were last seen. */
  forget(trackIds: readonly number[]): ZoneEvent[] {
    const events: ZoneEvent[] = [];
    for (const id of trackIds) {
      const m = this.members.get(id);
      if (!m) continue;
      this.members.delete(id);
      if (m.inside) {
        events.push({ type: 'zone.exit', zone: this.spec.id, trackId: id, classId: m.classId, label: m.label, time: m.lastSeen, dwellMs: m.lastSeen - m.since, reason: 'lost' });
      }
    }
    return events;
  }

  /** Tracks inside now, with their time inside so far. */
  occupants(now: number): ZoneOccupant[] {
    const out: ZoneOccupant[] = [];
    for (const [trackId, m] of this.members) if (m.inside) out.push({ trackId, label: m.label, dwellMs: Math.max(0, now - m.since) });
    return out;
  }
}
