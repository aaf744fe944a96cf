/**
 * The tracker's parts against published behaviour: the Kalman filter's noise model (DeepSORT /
 * ByteTrack), worked out by hand and against a plain textbook implementation; the cost-limited
 * assignment against brute force; ByteTrack's two-stage association, lost-track recovery and
 * removal; zones (inertia, dwell, lost exits) and counting lines (direction, extent, hysteresis).
 */
import test from 'ava';
import type { Box, Detection } from '../lib/detect/types';
import { assignWithLimit, solveSquareAssignment } from '../lib/video/tracking/assignment';
import { ByteTracker } from '../lib/video/tracking/byte-tracker';
import { pointInPolygon, segmentsIntersect, signedDistance } from '../lib/video/tracking/geometry';
import { iou, iouCost } from '../lib/video/tracking/iou';
import { boxToMeasurement, initiate, measurementToBox, predict, project, update, type KalmanState } from '../lib/video/tracking/kalman-box';
import { CountingLine } from '../lib/video/tracking/lines';
import { StreamAnalytics } from '../lib/video/tracking/stream-analytics';
import { Zone } from '../lib/video/tracking/zones';
import type { Track } from '../lib/video/tracking/byte-tracker';

const box = (x1: number, y1: number, x2: number, y2: number): Box => ({ x1, y1, x2, y2 });
const det = (b: Box, score = 0.9, classId = 0, label = 'person'): Detection => ({ box: b, score, classId, label });
const moved = (b: Box, dx: number, dy = 0): Box => box(b.x1 + dx, b.y1 + dy, b.x2 + dx, b.y2 + dy);

// ---------------------------------------------------------------- Kalman filter

test('Kalman initiate: zero velocity and the height-scaled variances of the published model', (t) => {
  const s = initiate([50, 60, 0.5, 100]);
  t.deepEqual(s.mean, [50, 60, 0.5, 100, 0, 0, 0, 0]);
  const diag = Array.from({ length: 8 }, (_, i) => s.covariance[i * 8 + i]);
  // std: 2·h/20 = 10 for x, y, h; 1e-2 for a; 10·h/160 = 6.25 for the velocities; 1e-5 for va.
  const expected = [100, 100, 1e-4, 100, 39.0625, 39.0625, 1e-10, 39.0625];
  diag.forEach((v, i) => t.true(Math.abs(v - expected[i]) < 1e-9 * Math.max(1, expected[i]), `P[${i}][${i}] = ${v}, expected ${expected[i]}`));
  t.is(s.covariance.filter((v, i) => i % 9 !== 0 && v !== 0).length, 0, 'off-diagonal terms start at zero');
});

test('Kalman predict and update: one step worked out by hand (h = 100)', (t) => {
  const p = predict(initiate([50, 60, 0.5, 100]));
  // P_xx = 100 + 39.0625 + (100/20)^2 = 164.0625; P_x,vx = 39.0625; P_vx = 39.0625 + (100/160)^2.
  t.true(Math.abs(p.covariance[0] - 164.0625) < 1e-9);
  t.true(Math.abs(p.covariance[4] - 39.0625) < 1e-9);
  t.true(Math.abs(p.covariance[4 * 8 + 4] - 39.453125) < 1e-9);
  t.deepEqual(p.mean, [50, 60, 0.5, 100, 0, 0, 0, 0], 'no velocity yet: the box stays');
  // S_xx = 164.0625 + (100/20)^2 = 189.0625; gains 164.0625/189.0625 (position) and 39.0625/189.0625 (velocity).
  const u = update(p, [60, 60, 0.5, 100]);
  t.true(Math.abs(u.mean[0] - (50 + (10 * 164.0625) / 189.0625)) < 1e-9, `x = ${u.mean[0]}`);
  t.true(Math.abs(u.mean[4] - (10 * 39.0625) / 189.0625) < 1e-9, `vx = ${u.mean[4]}`);
  t.true(Math.abs(u.mean[1] - 60) < 1e-12 && Math.abs(u.mean[5]) < 1e-12, 'y untouched: the coordinates are decoupled');
  t.true(Math.abs(u.covariance[0] - (164.0625 - (164.0625 * 164.0625) / 189.0625)) < 1e-9, 'P_xx shrinks by K S K^T');
});

/** The textbook update with explicit matrices and a Gauss-Jordan inverse, to check the Cholesky one. */
function textbookUpdate(s: KalmanState, z: number[]): KalmanState {
  const proj = project(s);
  const S = proj.covariance.slice();
  const inv = Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0));
  for (let c = 0; c < 4; c++) {
    const pivot = S[c * 4 + c];
    for (let k = 0; k < 4; k++) {
      S[c * 4 + k] /= pivot;
      inv[c * 4 + k] /= pivot;
    }
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const f = S[r * 4 + c];
      for (let k = 0; k < 4; k++) {
        S[r * 4 + k] -= f * S[c * 4 + k];
        inv[r * 4 + k] -= f * inv[c * 4 + k];
      }
    }
  }
  // K = P H^T S^-1: P H^T is the first four columns of P.
  const K = Array.from({ length: 32 }, (_, idx) => {
    const i = Math.floor(idx / 4);
    const j = idx % 4;
    let sum = 0;
    for (let k = 0; k < 4; k++) sum += s.covariance[i * 8 + k] * inv[k * 4 + j];
    return sum;
  });
  const y = z.map((v, i) => v - proj.mean[i]);
  const mean = s.mean.map((m, i) => m + [0, 1, 2, 3].reduce((a, k) => a + K[i * 4 + k] * y[k], 0));
  const covariance = s.covariance.map((v, idx) => {
    const i = Math.floor(idx / 8);
    const j = idx % 8;
    let sum = 0;
    for (let k = 0; k < 4; k++) sum += K[i * 4 + k] * s.covariance[k * 8 + j];
    return v - sum;
  });
  return { mean, covariance };
}

test('Kalman update agrees with the textbook formula after several coupled steps', (t) => {
  let s = initiate([100, 80, 0.6, 120]);
  const zs = [
    [104, 83, 0.62, 121],
    [109, 85, 0.59, 124],
    [113, 90, 0.61, 122],
    [118, 92, 0.6, 126],
  ];
  for (const z of zs) {
    const predicted = predict(s);
    const ours = update(predicted, z);
    const theirs = textbookUpdate(predicted, z);
    ours.mean.forEach((v, i) => t.true(Math.abs(v - theirs.mean[i]) < 1e-8, `mean[${i}] ${v} vs ${theirs.mean[i]}`));
    ours.covariance.forEach((v, i) => t.true(Math.abs(v - theirs.covariance[i]) < 1e-7, `P[${i}] ${v} vs ${theirs.covariance[i]}`));
    s = ours;
  }
});

test('Kalman: a box moving 5 px a frame is followed, and its velocity learnt', (t) => {
  let b = box(0, 0, 50, 100);
  let s = initiate(boxToMeasurement(b));
  for (let i = 0; i < 40; i++) {
    b = moved(b, 5, 2);
    s = update(predict(s), boxToMeasurement(b));
  }
  t.true(Math.abs(s.mean[4] - 5) < 0.05, `vx ${s.mean[4]}`);
  t.true(Math.abs(s.mean[5] - 2) < 0.05, `vy ${s.mean[5]}`);
  const next = measurementToBox(predict(s).mean);
  t.true(iou(next, moved(b, 5, 2)) > 0.98, 'the prediction lands on the next box');
});

// ---------------------------------------------------------------- assignment

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** A small seeded generator, so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test('square assignment finds the least total cost (against every permutation)', (t) => {
  const rnd = random(7);
  for (let trial = 0; trial < 60; trial++) {
    const n = 1 + (trial % 6);
    const cost = Array.from({ length: n * n }, () => Math.round(rnd() * 100) / 10);
    const p = solveSquareAssignment(cost, n);
    t.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), 'a permutation');
    const total = p.reduce((a, j, i) => a + cost[i * n + j], 0);
    const best = Math.min(...permutations(n).map((q) => q.reduce((a, j, i) => a + cost[i * n + j], 0)));
    t.true(Math.abs(total - best) < 1e-9, `n=${n}: ${total} vs best ${best}`);
  }
});

test('assignment with a limit: the optimum, not the greedy choice, and nothing above the limit', (t) => {
  // Greedy takes (0,0) at 0.1 and is left with (1,1) at 0.9; the optimum is (0,1) + (1,0) = 0.35.
  t.deepEqual(assignWithLimit([0.1, 0.2, 0.15, 0.9], 2, 2, 1).matches, [
    [0, 1],
    [1, 0],
  ]);
  const r = assignWithLimit([0.9, 0.85, 0.3, 0.95], 2, 2, 0.8);
  t.deepEqual(r.matches, [[1, 0]]);
  t.deepEqual(r.unmatchedRows, [0]);
  t.deepEqual(r.unmatchedColumns, [1]);
  t.deepEqual(assignWithLimit([], 0, 3, 0.8), { matches: [], unmatchedRows: [], unmatchedColumns: [0, 1, 2] });
});

test('assignment with a limit equals brute force over partial matchings (lapjv extend_cost semantics)', (t) => {
  const rnd = random(11);
  for (let trial = 0; trial < 80; trial++) {
    const rows = 1 + (trial % 3);
    const cols = 1 + ((trial >> 2) % 4);
    const limit = 0.5 + rnd() * 0.5;
    const cost = Array.from({ length: rows * cols }, () => rnd());
    const ours = assignWithLimit(cost, rows, cols, limit);
    const value = (matches: Array<[number, number]>) => matches.reduce((a, [i, j]) => a + cost[i * cols + j], 0) + ((rows - matches.length) + (cols - matches.length)) * (limit / 2);
    // Every partial matching: each row picks a distinct column or none.
    let best = Infinity;
    const search = (i: number, used: Set<number>, acc: Array<[number, number]>) => {
      if (i === rows) {
        best = Math.min(best, value(acc));
        return;
      }
      search(i + 1, used, acc);
      for (let j = 0; j < cols; j++) {
        if (used.has(j)) continue;
        used.add(j);
        search(i + 1, used, [...acc, [i, j]]);
        used.delete(j);
      }
    };
    search(0, new Set(), []);
    t.true(Math.abs(value(ours.matches) - best) < 1e-9, `trial ${trial}`);
    t.true(ours.matches.every(([i, j]) => cost[i * cols + j] <= limit));
  }
});

test('IoU and its cost matrix, with the score fused in', (t) => {
  t.is(iou(box(0, 0, 10, 10), box(5, 0, 15, 10)), 50 / 150);
  t.is(iou(box(0, 0, 10, 10), box(10, 0, 20, 10)), 0);
  const c = iouCost([box(0, 0, 10, 10)], [box(0, 0, 10, 10), box(5, 0, 15, 10)], [0.5, 1]);
  t.is(c[0], 0.5);
  t.true(Math.abs(c[1] - (1 - 1 / 3)) < 1e-12);
});

// ---------------------------------------------------------------- ByteTrack

test('ByteTrack: an object moving across the frame keeps one ID', (t) => {
  const tracker = new ByteTracker();
  let b = box(0, 100, 60, 220);
  const ids = new Set<number>();
  for (let i = 0; i < 80; i++) {
    const { tracks } = tracker.update([det(b, 0.8)]);
    t.is(tracks.length, 1, `frame ${i + 1}`);
    ids.add(tracks[0].id);
    b = moved(b, 8);
  }
  t.deepEqual([...ids], [1]);
});

test('ByteTrack: two objects passing each other keep their IDs (motion carries them through the overlap)', (t) => {
  const tracker = new ByteTracker();
  const history = new Map<number, number[]>();
  for (let i = 0; i < 60; i++) {
    const a = box(20 + 10 * i, 100, 80 + 10 * i, 220);
    const b = box(620 - 10 * i, 110, 680 - 10 * i, 230);
    const { tracks } = tracker.update([det(a, 0.9), det(b, 0.85)]);
    for (const tr of tracks) {
      const xs = history.get(tr.id) ?? [];
      xs.push((tr.detectionBox.x1 + tr.detectionBox.x2) / 2);
      history.set(tr.id, xs);
    }
  }
  t.is(history.size, 2, `IDs seen: ${[...history.keys()]}`);
  const directions = [...history.values()].map((xs) => xs.slice(1).every((x, i) => x > xs[i]) ? 'right' : xs.slice(1).every((x, i) => x < xs[i]) ? 'left' : 'mixed');
  t.deepEqual(directions.sort(), ['left', 'right'], 'each ID follows one object all the way');
});

test('ByteTrack: a low-score stretch (occlusion) keeps the track through the second association', (t) => {
  const run = (lowThreshold: number) => {
    const tracker = new ByteTracker({ lowThreshold });
    const out: Array<number | undefined> = [];
    let b = box(0, 0, 50, 100);
    for (let i = 0; i < 30; i++) {
      const score = i >= 10 && i < 15 ? 0.3 : 0.9;
      out.push(tracker.update([det(b, score)]).tracks[0]?.id);
      b = moved(b, 4);
    }
    return out;
  };
  const withLow = run(0.1);
  t.deepEqual(withLow, new Array(30).fill(1), 'reported in every frame, low-score ones included');
  // Without the second stage (scores of 0.3 are below the low threshold) the track is lost during
  // the occlusion, then found again by stage 1 with the same ID.
  const withoutLow = run(0.35);
  t.deepEqual(withoutLow.slice(10, 15), [undefined, undefined, undefined, undefined, undefined]);
  t.deepEqual(withoutLow.slice(15), new Array(15).fill(1));
});

test('ByteTrack: a lost track is removed after maxAge frames; the object coming back later gets a new ID', (t) => {
  const tracker = new ByteTracker({ maxAge: 5 });
  const b = box(100, 100, 150, 200);
  for (let i = 0; i < 3; i++) t.is(tracker.update([det(b)]).tracks[0]?.id, 1);
  const removedAt: number[] = [];
  for (let i = 0; i < 8; i++) {
    const u = tracker.update([]);
    if (u.removed.length > 0) {
      removedAt.push(u.frame);
      t.is(u.removed[0].id, 1);
      t.is(u.removed[0].state, 'removed');
    }
  }
  // Last matched at frame 3; lost while frame - 3 <= 5; removed at frame 9.
  t.deepEqual(removedAt, [9]);
  t.is(tracker.update([det(b)]).tracks.length, 0, 'a new track is unconfirmed on its first frame (not frame 1)');
  t.is(tracker.update([det(b)]).tracks[0]?.id, 2);
});

test('ByteTrack: a one-frame false positive never gets an ID in the output; low scores start no track', (t) => {
  const tracker = new ByteTracker();
  tracker.update([det(box(0, 0, 50, 50))]); // frame 1: confirmed at once
  const second = tracker.update([det(box(0, 0, 50, 50)), det(box(300, 300, 350, 350), 0.7)]);
  t.deepEqual(second.tracks.map((tr) => tr.id), [1], 'the newcomer is unconfirmed');
  const third = tracker.update([det(box(0, 0, 50, 50)), det(box(400, 0, 450, 50), 0.45)]);
  t.deepEqual(third.tracks.map((tr) => tr.id), [1], 'the one-frame object is dropped; a 0.45 detection (below 0.6) starts nothing');
  t.deepEqual(third.removed, [], 'unconfirmed tracks are not reported as removed');
  const fourth = tracker.update([det(box(0, 0, 50, 50)), det(box(400, 0, 450, 50), 0.45)]);
  t.deepEqual(fourth.tracks.map((tr) => tr.id), [1]);
});

test('ByteTrack: the class is the one with the most summed score', (t) => {
  const tracker = new ByteTracker();
  let last: Track | undefined;
  for (let i = 0; i < 10; i++) {
    const d = i % 3 === 2 ? det(box(i, 0, i + 50, 50), 0.6, 7, 'truck') : det(box(i, 0, i + 50, 50), 0.8, 2, 'car');
    last = tracker.update([d]).tracks[0];
  }
  t.is(last?.classId, 2);
  t.is(last?.label, 'car');
});

// ---------------------------------------------------------------- geometry, zones, lines

test('geometry: point in polygon, signed distance sides, segment intersection', (t) => {
  const square = [[0, 0], [10, 0], [10, 10], [0, 10]] as const;
  t.true(pointInPolygon([5, 5], square));
  t.false(pointInPolygon([15, 5], square));
  const concave = [[0, 0], [10, 0], [10, 10], [5, 4], [0, 10]] as const;
  t.false(pointInPolygon([5, 8], concave), 'the notch of a concave polygon is outside');
  // Line drawn left to right: below it (y larger, image coordinates) is its right side.
  t.true(signedDistance([5, 8], [0, 5], [10, 5]) > 0);
  t.is(signedDistance([5, 2], [0, 5], [10, 5]), -3);
  t.true(segmentsIntersect([5, 0], [5, 10], [0, 5], [10, 5]));
  t.false(segmentsIntersect([15, 0], [15, 10], [0, 5], [10, 5]), 'beyond the end of the segment');
});

const track = (id: number, b: Box, label = 'person', classId = 0): Track => ({
  id,
  box: b,
  detectionBox: b,
  score: 0.9,
  classId,
  label,
  state: 'tracked',
  hits: 1,
  firstFrame: 1,
  lastFrame: 1,
});

test('zone: enter and exit after the inertia frames, dwell time from the first frame inside', (t) => {
  const zone = new Zone({ id: 'A', polygon: [[100, 0], [200, 0], [200, 300], [100, 300]], inertia: 2 });
  const events = [];
  // The bottom centre x goes 50, 70, ..., 290: inside from 110 to 190.
  for (let i = 0; i < 13; i++) {
    const x = 50 + 20 * i;
    events.push(...zone.observe([track(1, box(x - 10, 100, x + 10, 150))], 1000 + 100 * i));
  }
  t.deepEqual(
    events.map((e) => [e.type, e.time]),
    [
      ['zone.enter', 1300],
      ['zone.exit', 1800],
    ],
  );
  const exit = events[1];
  t.is(exit.type === 'zone.exit' ? exit.dwellMs : -1, 500);
});

test('zone: a single-frame blip across the border is no event; bottom-centre and centre anchors differ', (t) => {
  const zone = new Zone({ id: 'A', polygon: [[0, 100], [300, 100], [300, 300], [0, 300]] });
  const events = [];
  for (let i = 0; i < 10; i++) {
    const y2 = i === 5 ? 120 : 90; // one frame with the feet inside
    events.push(...zone.observe([track(1, box(10, y2 - 80, 50, y2))], i));
  }
  t.deepEqual(events, []);
  const centre = new Zone({ id: 'C', polygon: [[0, 100], [300, 100], [300, 300], [0, 300]], anchor: 'center', inertia: 1 });
  const feet = new Zone({ id: 'F', polygon: [[0, 100], [300, 100], [300, 300], [0, 300]], inertia: 1 });
  const b = box(10, 40, 50, 140); // centre y 90 (outside), bottom 140 (inside)
  t.deepEqual(centre.observe([track(1, b)], 0), []);
  t.is(feet.observe([track(1, b)], 0)[0]?.type, 'zone.enter');
});

test('zone: a track that ends inside exits with reason lost, at the time it was last seen', (t) => {
  const zone = new Zone({ id: 'A', polygon: [[0, 0], [100, 0], [100, 100], [0, 100]], inertia: 1 });
  zone.observe([track(4, box(10, 10, 30, 50))], 500);
  zone.observe([track(4, box(12, 10, 32, 50))], 600);
  t.deepEqual(zone.occupants(900), [{ trackId: 4, label: 'person', dwellMs: 400 }]);
  const [exit] = zone.forget([4]);
  t.like(exit, { type: 'zone.exit', trackId: 4, time: 600, dwellMs: 100, reason: 'lost' });
  t.deepEqual(zone.occupants(900), []);
});

test('line: crossings with their direction; passing beyond the end or hovering on the line does not count', (t) => {
  const line = new CountingLine({ id: 'L', from: [0, 100], to: [200, 100], anchor: 'center', minDistance: 3 });
  const down = [];
  for (let y = 50; y <= 150; y += 10) down.push(...line.observe([track(1, box(90, y - 10, 110, y + 10))], y));
  t.deepEqual(down.map((e) => [e.direction, e.time]), [['in', 110]], 'downward across a left-to-right line is "in"');
  const up = [];
  for (let y = 150; y >= 50; y -= 10) up.push(...line.observe([track(2, box(90, y - 10, 110, y + 10))], y));
  t.deepEqual(up.map((e) => e.direction), ['out']);
  const beyond = [];
  for (let y = 50; y <= 150; y += 10) beyond.push(...line.observe([track(3, box(290, y - 10, 310, y + 10))], y));
  t.deepEqual(beyond, [], 'x = 300 passes beyond the segment end at x = 200');
  const hover = [];
  for (const y of [90, 99, 101, 99, 102, 98, 90]) hover.push(...line.observe([track(4, box(90, y - 10, 110, y + 10))], y));
  t.deepEqual(hover, [], 'within 3 px of the line the side does not change');
});

test('stream analytics: counts per class for zones and lines, normalised coordinates scaled to the frame', (t) => {
  const analytics = new StreamAnalytics({
    coordinates: 'normalized',
    zones: [{ id: 'right-half', polygon: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]], anchor: 'center', inertia: 1 }],
    lines: [{ id: 'middle', from: [0.5, 0], to: [0.5, 1], anchor: 'center' }],
  });
  let person = box(20, 100, 80, 220);
  let car = box(500, 300, 600, 380);
  for (let i = 0; i < 60; i++) {
    analytics.update([det(person, 0.9, 0, 'person'), det(car, 0.8, 2, 'car')], i * 100, 640, 480);
    person = moved(person, 8);
    car = moved(car, -8);
  }
  const counts = analytics.counts();
  // The person (centre x from 50 to 522) goes right across x = 320: "in" for a line drawn downward is leftward, so this is "out".
  t.deepEqual(counts.lines.middle, { in: { car: 1 }, out: { person: 1 } });
  t.deepEqual(counts.zones['right-half'].entered, { person: 1, car: 1 }, 'the car starts inside: entered at its first frame');
  t.deepEqual(counts.zones['right-half'].exited, { car: 1 });
  t.deepEqual(counts.zones['right-half'].inside, { person: 1 });
});
