/**
 * A multi-object tracker after ByteTrack (Zhang et al., "ByteTrack: Multi-Object Tracking by
 * Associating Every Detection Box", ECCV 2022): every track carries a constant-velocity Kalman
 * filter on its box, and each frame is associated in two stages by IoU:
 *
 *  1. confirmed and lost tracks (predicted one frame ahead) against the confident detections
 *     (score >= highThreshold), IoU weighted by the score;
 *  2. the tracks still unmatched that were tracked last frame against the low-score detections
 *     (lowThreshold < score < highThreshold): an occluded or blurred object keeps its track
 *     instead of being dropped as background;
 *  3. tracks born last frame (unconfirmed) against the confident detections left over; those that
 *     find none are dropped (one-frame false positives never get an ID in the output);
 *  4. confident detections left over (score >= newTrackThreshold) start new tracks.
 *
 * A track that finds no detection is `lost`, is still predicted each frame and can be picked up
 * again in stage 1 with the same ID, for up to `maxAge` frames; then it is removed. Detections are
 * associated whatever their class (as ByteTrack does: detectors flicker between near classes); a
 * track's class is the one with the most summed score over its detections, so counts per class
 * stay steady.
 */
import type { Box, Detection } from '../../detect/types';
import { invalidArgument } from '../../util/errors';
import { assignWithLimit } from './assignment';
import { iou, iouCost } from './iou';
import { boxToMeasurement, initiate, measurementToBox, predict, update, type KalmanState } from './kalman-box';

export interface TrackerOptions {
  /** Detections at or above this score take part in the first association and may start tracks (default 0.5). */
  highThreshold?: number;
  /** Detections above this score and below highThreshold take part in the second association only (default 0.1). */
  lowThreshold?: number;
  /** A detection left unmatched starts a track only at or above this score (default highThreshold + 0.1, as ByteTrack). */
  newTrackThreshold?: number;
  /** Largest 1 - IoU·score cost matched in the first association (default 0.8). */
  matchThreshold?: number;
  /** Largest 1 - IoU cost matched in the second, low-score association (default 0.5). */
  lowMatchThreshold?: number;
  /** Largest cost matched between unconfirmed tracks and the detections left over (default 0.7). */
  unconfirmedMatchThreshold?: number;
  /** Frames a lost track is kept, to be picked up again with the same ID (default 30). */
  maxAge?: number;
  /** Weight IoU by detection score in the first and third associations (default true, as ByteTrack on MOT17). */
  fuseScore?: boolean;
}

export type TrackState = 'tracked' | 'lost' | 'removed';

/** A track as the tracker reports it (a copy: later frames do not change it). */
export interface Track {
  id: number;
  /** The filtered box (Kalman state after this frame's update, or prediction while lost). */
  box: Box;
  /** The box of the last detection matched to it. */
  detectionBox: Box;
  /** The score of the last detection matched to it. */
  score: number;
  /** The class with the most summed score over the track's detections, and its label. */
  classId: number;
  label: string;
  state: TrackState;
  /** Frames with a detection matched to this track. */
  hits: number;
  /** Frame number (from 1) at which the track started, and at which a detection last matched it. */
  firstFrame: number;
  lastFrame: number;
}

export interface TrackerUpdate {
  /** This frame's number, from 1. */
  frame: number;
  /** Confirmed tracks matched to a detection in this frame: ByteTrack's output. */
  tracks: Track[];
  /** Tracks that stopped in this frame (lost for longer than maxAge, or a duplicate of an older one). */
  removed: Track[];
}

interface Resolved {
  highThreshold: number;
  lowThreshold: number;
  newTrackThreshold: number;
  matchThreshold: number;
  lowMatchThreshold: number;
  unconfirmedMatchThreshold: number;
  maxAge: number;
  fuseScore: boolean;
}

function resolveOptions(options: TrackerOptions): Resolved {
  const unit = (value: number | undefined, name: string, fallback: number) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw invalidArgument('a number in [0, 1]', `tracker.${name}`, value);
    return value;
  };
  const highThreshold = unit(options.highThreshold, 'highThreshold', 0.5);
  const lowThreshold = unit(options.lowThreshold, 'lowThreshold', 0.1);
  if (lowThreshold > highThreshold) throw invalidArgument(`a number <= highThreshold (${highThreshold})`, 'tracker.lowThreshold', lowThreshold);
  const maxAge = options.maxAge ?? 30;
  if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0) throw invalidArgument('an integer >= 0', 'tracker.maxAge', maxAge);
  if (options.fuseScore !== undefined && typeof options.fuseScore !== 'boolean') throw invalidArgument('a boolean', 'tracker.fuseScore', options.fuseScore);
  return {
    highThreshold,
    lowThreshold,
    newTrackThreshold: unit(options.newTrackThreshold, 'newTrackThreshold', Math.min(1, highThreshold + 0.1)),
    matchThreshold: unit(options.matchThreshold, 'matchThreshold', 0.8),
    lowMatchThreshold: unit(options.lowMatchThreshold, 'lowMatchThreshold', 0.5),
    unconfirmedMatchThreshold: unit(options.unconfirmedMatchThreshold, 'unconfirmedMatchThreshold', 0.7),
    maxAge,
    fuseScore: options.fuseScore ?? true,
  };
}

class TrackRecord {
  state: TrackState = 'tracked';
  confirmed: boolean;
  kalman: KalmanState;
  detectionBox: Box;
  score: number;
  hits = 1;
  lastFrame: number;
  private readonly classScores = new Map<number, number>();
  private readonly labels = new Map<number, string>();

  constructor(
    readonly id: number,
    detection: Detection,
    readonly firstFrame: number,
    confirmed: boolean,
  ) {
    this.kalman = initiate(boxToMeasurement(detection.box));
    this.detectionBox = detection.box;
    this.score = detection.score;
    this.lastFrame = firstFrame;
    this.confirmed = confirmed;
    this.vote(detection);
  }

  get box(): Box {
    return measurementToBox(this.kalman.mean);
  }

  predict(): void {
    // A track not seen last frame keeps moving but stops growing or shrinking (ByteTrack zeroes vh).
    if (this.state !== 'tracked') this.kalman.mean[7] = 0;
    this.kalman = predict(this.kalman);
  }

  /** A detection matched: correct the filter; a lost track comes back with the same ID. */
  match(detection: Detection, frame: number): void {
    this.kalman = update(this.kalman, boxToMeasurement(detection.box));
    this.detectionBox = detection.box;
    this.score = detection.score;
    this.state = 'tracked';
    this.confirmed = true;
    this.hits++;
    this.lastFrame = frame;
    this.vote(detection);
  }

  private vote(detection: Detection): void {
    this.classScores.set(detection.classId, (this.classScores.get(detection.classId) ?? 0) + detection.score);
    this.labels.set(detection.classId, detection.label);
  }

  snapshot(): Track {
    let classId = -1;
    let best = -Infinity;
    for (const [id, sum] of this.classScores) {
      if (sum > best) {
        best = sum;
        classId = id;
      }
    }
    return {
      id: this.id,
      box: this.box,
      detectionBox: { ...this.detectionBox },
      score: this.score,
      classId,
      label: this.labels.get(classId) ?? `class ${classId}`,
      state: this.state,
      hits: this.hits,
      firstFrame: this.firstFrame,
      lastFrame: this.lastFrame,
    };
  }
}

export class ByteTracker {
  private readonly options: Resolved;
  private tracked: TrackRecord[] = [];
  private lost: TrackRecord[] = [];
  private frame = 0;
  private nextId = 1;

  constructor(options: TrackerOptions = {}) {
    this.options = resolveOptions(options);
  }

  /** The frames seen so far. */
  get frameCount(): number {
    return this.frame;
  }

  /** Tracks now held, confirmed ones only: tracked and lost (not removed). */
  activeTracks(): Track[] {
    return [...this.tracked.filter((t) => t.confirmed), ...this.lost].map((t) => t.snapshot());
  }

  /** Associate one frame's detections (in the frame's pixel coordinates) and advance every track. */
  update(detections: readonly Detection[]): TrackerUpdate {
    const o = this.options;
    const frame = ++this.frame;
    const high = detections.filter((d) => d.score >= o.highThreshold);
    const low = detections.filter((d) => d.score > o.lowThreshold && d.score < o.highThreshold);
    const unconfirmed = this.tracked.filter((t) => !t.confirmed);
    const pool = [...this.tracked.filter((t) => t.confirmed), ...this.lost];
    for (const track of pool) track.predict();
    const removed: TrackRecord[] = [];

    // Stage 1: confident detections against every confirmed or lost track.
    const first = assignWithLimit(
      iouCost(pool.map((t) => t.box), high.map((d) => d.box), o.fuseScore ? high.map((d) => d.score) : undefined),
      pool.length,
      high.length,
      o.matchThreshold,
    );
    for (const [ti, di] of first.matches) pool[ti].match(high[di], frame);

    // Stage 2: low-score detections against the tracks that were tracked last frame and found nothing.
    const waiting = first.unmatchedRows.map((i) => pool[i]).filter((t) => t.state === 'tracked');
    const second = assignWithLimit(iouCost(waiting.map((t) => t.box), low.map((d) => d.box)), waiting.length, low.length, o.lowMatchThreshold);
    for (const [ti, di] of second.matches) waiting[ti].match(low[di], frame);
    for (const ti of second.unmatchedRows) waiting[ti].state = 'lost';

    // Stage 3: tracks born last frame against the confident detections still free.
    const leftover = first.unmatchedColumns.map((j) => high[j]);
    const third = assignWithLimit(
      iouCost(unconfirmed.map((t) => t.box), leftover.map((d) => d.box), o.fuseScore ? leftover.map((d) => d.score) : undefined),
      unconfirmed.length,
      leftover.length,
      o.unconfirmedMatchThreshold,
    );
    for (const [ti, di] of third.matches) unconfirmed[ti].match(leftover[di], frame);
    for (const ti of third.unmatchedRows) {
      unconfirmed[ti].state = 'removed';
    }

    // Stage 4: new tracks. On the very first frame they are confirmed at once (nothing to confirm against).
    const born: TrackRecord[] = [];
    for (const j of third.unmatchedColumns) {
      const detection = leftover[j];
      if (detection.score >= o.newTrackThreshold) born.push(new TrackRecord(this.nextId++, detection, frame, frame === 1));
    }

    const all = [...pool, ...unconfirmed];
    for (const track of all) {
      if (track.state === 'lost' && frame - track.lastFrame > o.maxAge) {
        track.state = 'removed';
        removed.push(track);
      }
    }
    this.tracked = [...all.filter((t) => t.state === 'tracked'), ...born];
    this.lost = all.filter((t) => t.state === 'lost');
    removed.push(...this.removeDuplicates());

    return { frame, tracks: this.tracked.filter((t) => t.confirmed && t.lastFrame === frame).map((t) => t.snapshot()), removed: removed.map((t) => t.snapshot()) };
  }

  /**
   * A lost track that overlaps a tracked one almost entirely (IoU > 0.85) is the same object
   * followed twice: keep whichever has been followed longer.
   */
  private removeDuplicates(): TrackRecord[] {
    const dropped = new Set<TrackRecord>();
    for (const a of this.tracked) {
      for (const b of this.lost) {
        if (dropped.has(a) || dropped.has(b) || iou(a.box, b.box) <= 0.85) continue;
        const loser = a.lastFrame - a.firstFrame > b.lastFrame - b.firstFrame ? b : a;
        loser.state = 'removed';
        dropped.add(loser);
      }
    }
    if (dropped.size === 0) return [];
    this.tracked = this.tracked.filter((t) => !dropped.has(t));
    this.lost = this.lost.filter((t) => !dropped.has(t));
    // Unconfirmed tracks never reach the output: only confirmed ones are reported as removed.
    return [...dropped].filter((t) => t.confirmed);
  }
}
