import test from 'ava';
import { boxIou, CandidateBuffer, nonMaxSuppression, type NmsOptions } from '../lib/detect/nms';

type C = [x1: number, y1: number, x2: number, y2: number, score: number, classId: number];

function candidates(rows: C[]): CandidateBuffer {
  const buffer = new CandidateBuffer(2);
  for (const r of rows) buffer.push(...r);
  return buffer;
}

const nms = (rows: C[], options: Partial<NmsOptions> = {}) =>
  Array.from(nonMaxSuppression(candidates(rows), { iouThreshold: 0.45, maxDetections: 300, ...options }));

test('an overlapping lower-scored box of the same class is suppressed', (t) => {
  // IoU of the first two: 81 / (100 + 100 - 81) = 0.68.
  const rows: C[] = [
    [0, 0, 10, 10, 0.9, 0],
    [1, 1, 11, 11, 0.8, 0],
    [20, 20, 30, 30, 0.7, 0],
  ];
  t.deepEqual(nms(rows), [0, 2]);
  t.deepEqual(nms(rows, { iouThreshold: 0.7 }), [0, 1, 2]);
});

test('IoU equal to the threshold does not suppress', (t) => {
  // IoU exactly 50 / 100 = 0.5.
  const rows: C[] = [
    [0, 0, 10, 10, 0.9, 0],
    [0, 0, 10, 5, 0.8, 0],
  ];
  t.is(boxIou({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 0, y1: 0, x2: 10, y2: 5 }), 0.5);
  t.deepEqual(nms(rows, { iouThreshold: 0.5 }), [0, 1]);
  t.deepEqual(nms(rows, { iouThreshold: 0.49 }), [0]);
});

test('boxes of different classes never suppress each other unless class-agnostic', (t) => {
  const rows: C[] = [
    [0, 0, 10, 10, 0.9, 0],
    [0, 0, 10, 10, 0.8, 1],
    [1, 0, 10, 10, 0.7, 0],
  ];
  t.deepEqual(nms(rows), [0, 1]);
  t.deepEqual(nms(rows, { classAgnostic: true }), [0]);
});

test('the result is ordered by score, not by input order', (t) => {
  const rows: C[] = [
    [0, 0, 10, 10, 0.3, 0],
    [20, 0, 30, 10, 0.9, 1],
    [40, 0, 50, 10, 0.6, 2],
  ];
  t.deepEqual(nms(rows), [1, 2, 0]);
});

test('maxDetections keeps the best boxes only', (t) => {
  const rows: C[] = [0.5, 0.9, 0.1, 0.7, 0.8].map((score, i) => [i * 20, 0, i * 20 + 10, 10, score, 0] as C);
  t.deepEqual(nms(rows, { maxDetections: 3 }), [1, 4, 3]);
  t.deepEqual(nms(rows, { maxDetections: 1 }), [1]);
});

test('equal scores keep their original order, and the earlier of two identical boxes wins', (t) => {
  const rows: C[] = [
    [40, 0, 50, 10, 0.5, 0],
    [0, 0, 10, 10, 0.5, 0],
    [0, 0, 10, 10, 0.5, 0],
    [20, 0, 30, 10, 0.5, 0],
  ];
  t.deepEqual(nms(rows), [0, 1, 3]);
});

test('maxCandidates bounds how many boxes enter NMS, best first', (t) => {
  const rows: C[] = [
    [0, 0, 10, 10, 0.2, 0],
    [20, 0, 30, 10, 0.9, 0],
    [40, 0, 50, 10, 0.5, 0],
  ];
  t.deepEqual(nms(rows, { maxCandidates: 2 }), [1, 2]);
});

test('no candidates give no detections; empty boxes suppress nothing', (t) => {
  t.deepEqual(nms([]), []);
  t.deepEqual(
    nms([
      [5, 5, 5, 5, 0.9, 0],
      [5, 5, 5, 5, 0.8, 0],
    ]),
    [0, 1],
  );
});

/** The textbook O(n^2) greedy NMS, as the reference for the fast one. */
function referenceNms(rows: C[], iou: number, max: number, agnostic: boolean): number[] {
  const order = rows.map((_, i) => i).sort((a, b) => rows[b][4] - rows[a][4] || a - b);
  const suppressed = new Array<boolean>(rows.length).fill(false);
  const keep: number[] = [];
  const box = (r: C) => ({ x1: r[0], y1: r[1], x2: r[2], y2: r[3] });
  for (let k = 0; k < order.length && keep.length < max; k++) {
    const i = order[k];
    if (suppressed[i]) continue;
    keep.push(i);
    for (let m = k + 1; m < order.length; m++) {
      const j = order[m];
      if ((agnostic || rows[i][5] === rows[j][5]) && boxIou(box(rows[i]), box(rows[j])) > iou) suppressed[j] = true;
    }
  }
  return keep;
}

test('thousands of random candidates give exactly the textbook greedy result', (t) => {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const rows: C[] = [];
  for (let i = 0; i < 4000; i++) {
    const x = random() * 600;
    const y = random() * 600;
    const w = 10 + random() * 80;
    const h = 10 + random() * 80;
    // Scores on a coarse grid so that ties happen.
    rows.push([x, y, x + w, y + h, Math.round(random() * 50) / 50, Math.floor(random() * 5)]);
  }
  // The candidate buffer stores float32: compare against the same rounded values.
  const rounded = rows.map((r) => r.map((v) => Math.fround(v)) as C);
  for (const agnostic of [false, true]) {
    const expected = referenceNms(rounded, 0.45, 300, agnostic);
    t.deepEqual(nms(rows, { classAgnostic: agnostic }), expected);
    t.is(expected.length, 300, 'the cap is reached, so the order of the tail matters too');
  }
  t.deepEqual(nms(rows, { iouThreshold: 0.3, maxDetections: 5000 }), referenceNms(rounded, 0.3, 5000, false));
});
