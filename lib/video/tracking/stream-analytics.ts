/**
 * One stream's analytics: detections -> tracks -> zone and line events -> counts per class.
 * Feed it every processed frame in order (`update`); it keeps no pixels.
 */
import type { Detection } from '../../detect/types';
import { invalidArgument } from '../../util/errors';
import { ByteTracker, type Track, type TrackerOptions } from './byte-tracker';
import type { Point } from './geometry';
import { CountingLine, type LineCrossEvent, type LineSpec } from './lines';
import { Zone, type ZoneEvent, type ZoneOccupant, type ZoneSpec } from './zones';

export type AnalyticsEvent = ZoneEvent | LineCrossEvent;

export interface StreamAnalyticsOptions {
  zones?: readonly ZoneSpec[];
  lines?: readonly LineSpec[];
  /** 'pixels' (default): zone and line coordinates are frame pixels; 'normalized': fractions (0..1) of the frame's width and height. */
  coordinates?: 'pixels' | 'normalized';
  tracker?: TrackerOptions;
}

/** Counts by class label. */
export type ClassCounts = Record<string, number>;

export interface ZoneCounts {
  /** Tracks inside now. */
  inside: ClassCounts;
  entered: ClassCounts;
  exited: ClassCounts;
  occupants: ZoneOccupant[];
}

export interface LineCounts {
  in: ClassCounts;
  out: ClassCounts;
}

export interface AnalyticsCounts {
  zones: Record<string, ZoneCounts>;
  lines: Record<string, LineCounts>;
}

export interface AnalyticsUpdate {
  frame: number;
  tracks: Track[];
  events: AnalyticsEvent[];
}

function add(counts: ClassCounts, label: string, n = 1): void {
  counts[label] = (counts[label] ?? 0) + n;
}

function checkPoint(value: unknown, name: string): Point {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw invalidArgument('a point [x, y] of two finite numbers', name, value);
  }
  return [value[0], value[1]];
}

/** Check zone and line specs: ids unique, polygons of three or more points, lines of two distinct points. */
export function validateGeometry(options: StreamAnalyticsOptions, where: string): void {
  const ids = new Set<string>();
  const checkId = (id: unknown, name: string) => {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw invalidArgument('an id of 1-64 letters, digits, _ . or -', name, id);
    if (ids.has(id)) throw invalidArgument('an id no other zone or line of this stream uses', name, id);
    ids.add(id);
  };
  const anchor = (value: unknown, name: string) => {
    if (value !== undefined && value !== 'bottom-center' && value !== 'center') throw invalidArgument("'bottom-center' or 'center'", name, value);
  };
  (options.zones ?? []).forEach((zone, i) => {
    const name = `${where}.zones[${i}]`;
    checkId(zone.id, `${name}.id`);
    if (!Array.isArray(zone.polygon) || zone.polygon.length < 3) throw invalidArgument('a polygon of 3 or more [x, y] points', `${name}.polygon`, zone.polygon);
    zone.polygon.forEach((p, j) => checkPoint(p, `${name}.polygon[${j}]`));
    anchor(zone.anchor, `${name}.anchor`);
    if (zone.inertia !== undefined && !(Number.isInteger(zone.inertia) && zone.inertia >= 1)) throw invalidArgument('an integer >= 1', `${name}.inertia`, zone.inertia);
  });
  (options.lines ?? []).forEach((line, i) => {
    const name = `${where}.lines[${i}]`;
    checkId(line.id, `${name}.id`);
    const from = checkPoint(line.from, `${name}.from`);
    const to = checkPoint(line.to, `${name}.to`);
    if (from[0] === to[0] && from[1] === to[1]) throw invalidArgument('two distinct end points', `${name}.to`, line.to);
    anchor(line.anchor, `${name}.anchor`);
    if (line.minDistance !== undefined && !(typeof line.minDistance === 'number' && line.minDistance >= 0)) throw invalidArgument('a number >= 0', `${name}.minDistance`, line.minDistance);
  });
  if (options.coordinates !== undefined && options.coordinates !== 'pixels' && options.coordinates !== 'normalized') {
    throw invalidArgument("'pixels' or 'normalized'", `${where}.coordinates`, options.coordinates);
  }
}

export class StreamAnalytics {
  private readonly tracker: ByteTracker;
  private readonly zones: Zone[];
  private readonly lines: CountingLine[];
  private readonly normalized: boolean;
  private readonly zoneCounts = new Map<string, { entered: ClassCounts; exited: ClassCounts }>();
  private readonly lineCounts = new Map<string, LineCounts>();
  private width = 0;
  private height = 0;
  private lastTime = 0;

  constructor(options: StreamAnalyticsOptions = {}) {
    validateGeometry(options, 'options');
    this.tracker = new ByteTracker(options.tracker);
    this.zones = (options.zones ?? []).map((z) => new Zone(z));
    this.lines = (options.lines ?? []).map((l) => new CountingLine(l));
    this.normalized = options.coordinates === 'normalized';
    for (const z of this.zones) this.zoneCounts.set(z.id, { entered: {}, exited: {} });
    for (const l of this.lines) this.lineCounts.set(l.id, { in: {}, out: {} });
  }

  /** One frame: its detections (frame pixels), its wall-clock time (ms) and size. */
  update(detections: readonly Detection[], time: number, width: number, height: number): AnalyticsUpdate {
    if (this.normalized && (width !== this.width || height !== this.height)) {
      for (const z of this.zones) z.scale(width, height);
      for (const l of this.lines) l.scale(width, height);
    }
    this.width = width;
    this.height = height;
    this.lastTime = time;
    const { frame, tracks, removed } = this.tracker.update(detections);
    const events: AnalyticsEvent[] = [];
    const gone = removed.map((t) => t.id);
    for (const zone of this.zones) events.push(...zone.observe(tracks, time), ...zone.forget(gone));
    for (const line of this.lines) {
      events.push(...line.observe(tracks, time));
      line.forget(gone);
    }
    for (const e of events) {
      if (e.type === 'line.cross') add(this.lineCounts.get(e.line)![e.direction], e.label);
      else add(this.zoneCounts.get(e.zone)![e.type === 'zone.enter' ? 'entered' : 'exited'], e.label);
    }
    return { frame, tracks, events };
  }

  /** Counts so far, per zone and line, by class label; zones also list who is inside now. */
  counts(now = this.lastTime): AnalyticsCounts {
    const zones: Record<string, ZoneCounts> = {};
    for (const zone of this.zones) {
      const occupants = zone.occupants(now);
      const inside: ClassCounts = {};
      for (const o of occupants) add(inside, o.label);
      const { entered, exited } = this.zoneCounts.get(zone.id)!;
      zones[zone.id] = { inside, entered: { ...entered }, exited: { ...exited }, occupants };
    }
    const lines: Record<string, LineCounts> = {};
    for (const [id, c] of this.lineCounts) lines[id] = { in: { ...c.in }, out: { ...c.out } };
    return { zones, lines };
  }
}
