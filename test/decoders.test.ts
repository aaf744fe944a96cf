import test from 'ava';
import { createDecoder, DETECTOR_FAMILIES, gridCellCount } from '../lib/detect/decoders/index';
import { CandidateBuffer, type Candidates } from '../lib/detect/nms';
import type { OutputTensor } from '../lib/detect/types';

// A 64x32 input: stride 8 gives 8x4 cells, stride 16 4x2, stride 32 2x1 -> 42 cells.
const W = 64;
const H = 32;
const CELLS = 42;

interface Row {
  index: number;
  values: number[];
}

/** A [1, rows, cols] tensor of zeros with the given rows filled in. */
function rowMajor(name: string, rows: number, cols: number, filled: Row[]): OutputTensor {
  const data = new Float32Array(rows * cols);
  for (const row of filled) data.set(row.values, row.index * cols);
  return { name, dims: [1, rows, cols], data };
}

/** The same tensor transposed to [1, cols, rows]. */
function transpose(t: OutputTensor): OutputTensor {
  const [, rows, cols] = t.dims;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = t.data[r * cols + c];
  return { name: t.name, dims: [1, cols, rows], data };
}

interface Cand {
  box: number[];
  score: number;
  classId: number;
}

function list(c: Candidates): Cand[] {
  const out: Cand[] = [];
  for (let i = 0; i < c.count; i++) {
    out.push({ box: Array.from(c.boxes.subarray(i * 4, i * 4 + 4)), score: c.scores[i], classId: c.classIds[i] });
  }
  return out;
}

function assertCandidates(t: import('ava').ExecutionContext, actual: Cand[], expected: Cand[]): void {
  const key = (c: Cand) => `${c.classId}:${c.box.map((v) => v.toFixed(2)).join(',')}`;
  const a = [...actual].sort((x, y) => key(x).localeCompare(key(y)));
  const e = [...expected].sort((x, y) => key(x).localeCompare(key(y)));
  t.is(a.length, e.length, `candidates: ${JSON.stringify(actual)}`);
  for (let i = 0; i < Math.min(a.length, e.length); i++) {
    t.is(a[i].classId, e[i].classId);
    for (let k = 0; k < 4; k++) t.true(Math.abs(a[i].box[k] - e[i].box[k]) < 1e-3, `box ${a[i].box} vs ${e[i].box}`);
    t.true(Math.abs(a[i].score - e[i].score) < 1e-5, `score ${a[i].score} vs ${e[i].score}`);
  }
}

test('grid cell counts match the fixture heads and round partial cells up', (t) => {
  t.is(gridCellCount(416, 416), 3549);
  t.is(gridCellCount(640, 640), 8400);
  t.is(gridCellCount(W, H), CELLS);
  // 100 px: ceil(100/8)=13, ceil(100/16)=7, ceil(100/32)=4.
  t.is(gridCellCount(100, 100), 13 * 13 + 7 * 7 + 4 * 4);
});

// YOLOX rows: [dx, dy, log w, log h, objectness, 3 class scores].
function yoloxTensor(): OutputTensor {
  return rowMajor('output', CELLS, 8, [
    // stride 8, gx 5, gy 2 -> row 2*8+5 = 21: cx (0.5+5)*8 = 44, cy (0.25+2)*8 = 18, w 2*8 = 16, h 8.
    { index: 21, values: [0.5, 0.25, Math.log(2), 0, 0.9, 0.1, 0.8, 0.3] },
    // stride 16, gx 3, gy 1 -> row 32 + 1*4+3 = 39: cx 48, cy (0.5+1)*16 = 24, w 16, h 3*16 = 48.
    { index: 39, values: [0, 0.5, 0, Math.log(3), 0.5, 0.6, 0.2, 0.55] },
    // stride 32, gx 1, gy 0 -> row 40 + 1 = 41: cx 1.5*32 = 48, cy 16, w 32, h 32.
    { index: 41, values: [0.5, 0.5, 0, 0, 0.6, 0, 0, 1] },
    // Objectness under the threshold: never a candidate, whatever its class score.
    { index: 0, values: [0, 0, 0, 0, 0.2, 1, 1, 1] },
  ]);
}

test('yolox decodes grid offsets at strides 8, 16 and 32, best class per cell', (t) => {
  const decoder = createDecoder('yolox');
  t.is(decoder.family, 'yolox');
  assertCandidates(t, list(decoder.decode(yoloxTensor(), W, H, 0.25)), [
    { box: [36, 14, 52, 22], score: 0.9 * 0.8, classId: 1 },
    { box: [40, 0, 56, 48], score: 0.5 * 0.6, classId: 0 },
    { box: [32, 0, 64, 32], score: 0.6, classId: 2 },
  ]);
});

test('yolox multiLabel keeps every class whose objectness x class score passes', (t) => {
  const c = list(createDecoder('yolox').decode(yoloxTensor(), W, H, 0.25, null, { multiLabel: true }));
  assertCandidates(t, c, [
    { box: [36, 14, 52, 22], score: 0.9 * 0.8, classId: 1 },
    { box: [36, 14, 52, 22], score: 0.9 * 0.3, classId: 2 },
    { box: [40, 0, 56, 48], score: 0.5 * 0.6, classId: 0 },
    { box: [40, 0, 56, 48], score: 0.5 * 0.55, classId: 2 },
    { box: [32, 0, 64, 32], score: 0.6, classId: 2 },
  ]);
});

test('yolox class filter drops cells whose best class is not wanted', (t) => {
  const c = list(createDecoder('yolox').decode(yoloxTensor(), W, H, 0.25, [2]));
  assertCandidates(t, c, [{ box: [32, 0, 64, 32], score: 0.6, classId: 2 }]);
});

test('scores must be strictly greater than the threshold', (t) => {
  // 1 x 0.5 is exact in float32: at threshold 0.5 it is out, just below it is in.
  const tensor = rowMajor('output', CELLS, 8, [{ index: 3, values: [0, 0, 0, 0, 1, 0.5, 0, 0] }]);
  const decoder = createDecoder('yolox');
  t.is(decoder.decode(tensor, W, H, 0.5).count, 0);
  t.is(decoder.decode(tensor, W, H, 0.4999).count, 1);
});

test('yolox rejects an output whose rows are not the grid cells of the input size', (t) => {
  const err = t.throws(() => createDecoder('yolox').decode(yoloxTensor(), 640, 640, 0.25));
  t.is((err as { code?: string }).code, 'ERR_DECODER');
  t.regex(err!.message, /\[1, 8400, 5 \+ classes\].*640x640.*\[1, 42, 8\]/);
});

// YOLOv5 rows: [cx, cy, w, h, objectness, 2 class probabilities], 3 anchors per cell.
function yolov5Tensor(): OutputTensor {
  return rowMajor('output0', 3 * CELLS, 7, [
    { index: 10, values: [20, 10, 8, 4, 0.8, 0.25, 0.75] },
    { index: 100, values: [50, 20, 10, 20, 0.5, 0.9, 0.6] },
    { index: 125, values: [30, 30, 4, 4, 0.3, 0.5, 0.5] },
  ]);
}

test('yolov5 multiplies objectness by the class probability and keeps boxes in input pixels', (t) => {
  const decoder = createDecoder('yolov5');
  t.is(decoder.family, 'yolov5');
  assertCandidates(t, list(decoder.decode(yolov5Tensor(), W, H, 0.25)), [
    { box: [16, 8, 24, 12], score: 0.8 * 0.75, classId: 1 },
    { box: [45, 10, 55, 30], score: 0.5 * 0.9, classId: 0 },
  ]);
  assertCandidates(t, list(decoder.decode(yolov5Tensor(), W, H, 0.25, null, { multiLabel: true })), [
    { box: [16, 8, 24, 12], score: 0.8 * 0.75, classId: 1 },
    { box: [45, 10, 55, 30], score: 0.5 * 0.9, classId: 0 },
    { box: [45, 10, 55, 30], score: 0.5 * 0.6, classId: 1 },
  ]);
  assertCandidates(t, list(decoder.decode(yolov5Tensor(), W, H, 0.1, [1])), [{ box: [16, 8, 24, 12], score: 0.8 * 0.75, classId: 1 }]);
});

// YOLOv8 anchors: [cx, cy, w, h, 3 class probabilities], no objectness.
function yolov8AnchorsFirst(): OutputTensor {
  return rowMajor('output0', CELLS, 7, [
    { index: 7, values: [30, 12, 10, 6, 0.2, 0.9, 0.4] },
    // A tie between classes 0 and 1 goes to the first, as argmax does.
    { index: 40, values: [60, 28, 8, 8, 0.3, 0.3, 0.1] },
    { index: 41, values: [10, 10, 4, 4, 0.25, 0.1, 0.2] },
  ]);
}

const yolov8Expected: Cand[] = [
  { box: [25, 9, 35, 15], score: 0.9, classId: 1 },
  { box: [56, 24, 64, 32], score: 0.3, classId: 0 },
];

test('yolov8 decodes the class-major [1, 4+C, N] layout', (t) => {
  const decoder = createDecoder('yolov8');
  t.is(decoder.family, 'yolov8');
  const tensor = transpose(yolov8AnchorsFirst());
  t.deepEqual(tensor.dims, [1, 7, CELLS]);
  assertCandidates(t, list(decoder.decode(tensor, W, H, 0.25)), yolov8Expected);
});

test('yolov8 decodes the transposed [1, N, 4+C] layout to the same candidates', (t) => {
  const decoder = createDecoder('yolov8', { layout: 'anchors-first' });
  assertCandidates(t, list(decoder.decode(yolov8AnchorsFirst(), W, H, 0.25)), yolov8Expected);
});

test('yolov8 multiLabel and class filters agree across both layouts', (t) => {
  const channelsFirst = createDecoder('yolov8');
  const anchorsFirst = createDecoder('yolov8', { layout: 'anchors-first' });
  const multi: Cand[] = [
    { box: [25, 9, 35, 15], score: 0.9, classId: 1 },
    { box: [25, 9, 35, 15], score: 0.4, classId: 2 },
    { box: [56, 24, 64, 32], score: 0.3, classId: 0 },
    { box: [56, 24, 64, 32], score: 0.3, classId: 1 },
  ];
  assertCandidates(t, list(channelsFirst.decode(transpose(yolov8AnchorsFirst()), W, H, 0.25, null, { multiLabel: true })), multi);
  assertCandidates(t, list(anchorsFirst.decode(yolov8AnchorsFirst(), W, H, 0.25, null, { multiLabel: true })), multi);
  // Class 2 is never an anchor's best class: filtering for it alone yields nothing in single-label mode...
  t.is(channelsFirst.decode(transpose(yolov8AnchorsFirst()), W, H, 0.25, [2]).count, 0);
  t.is(anchorsFirst.decode(yolov8AnchorsFirst(), W, H, 0.25, [2]).count, 0);
  // ...but its own score counts in multi-label mode.
  const only2: Cand[] = [{ box: [25, 9, 35, 15], score: 0.4, classId: 2 }];
  assertCandidates(t, list(channelsFirst.decode(transpose(yolov8AnchorsFirst()), W, H, 0.25, [2], { multiLabel: true })), only2);
  assertCandidates(t, list(anchorsFirst.decode(yolov8AnchorsFirst(), W, H, 0.25, [2], { multiLabel: true })), only2);
});

test('a reused candidate buffer is reset each frame and grows past its capacity', (t) => {
  const buffer = new CandidateBuffer(1);
  const decoder = createDecoder('yolov8');
  const many = transpose(
    rowMajor('output0', CELLS, 7, Array.from({ length: CELLS }, (_, i) => ({ index: i, values: [i, i, 2, 2, 0.5 + i / 100, 0, 0] }))),
  );
  const first = decoder.decode(many, W, H, 0.25, null, { into: buffer });
  t.is(first, buffer);
  t.is(first.count, CELLS);
  t.deepEqual(Array.from(first.boxes.subarray(41 * 4, 42 * 4)), [40, 40, 42, 42]);
  t.is(decoder.decode(transpose(yolov8AnchorsFirst()), W, H, 0.25, null, { into: buffer }).count, 2);
});

test('decoders reject batches and shapes they cannot read', (t) => {
  for (const family of DETECTOR_FAMILIES) {
    const err = t.throws(() => createDecoder(family).decode({ name: 'out', dims: [2, 42, 8], data: new Float32Array(2 * 42 * 8) }, W, H, 0.25));
    t.is((err as { code?: string }).code, 'ERR_DECODER');
    t.regex(err!.message, /"out".*\[2, 42, 8\]/);
  }
  const short = t.throws(() => createDecoder('yolov5').decode({ name: 'o', dims: [1, 126, 7], data: new Float32Array(10) }, W, H, 0.25));
  t.regex(short!.message, /10 values/);
});

test('a large yolov8 output decodes quickly and allocates no new buffer', (t) => {
  // 8400 anchors x 80 classes, a few hundred above the threshold, as on a real frame.
  const n = 8400;
  const data = new Float32Array(84 * n);
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 4 * n; i < data.length; i++) data[i] = random() ** 12;
  for (let i = 0; i < n; i++) {
    data[i] = random() * 640;
    data[n + i] = random() * 640;
    data[2 * n + i] = 20;
    data[3 * n + i] = 20;
  }
  const decoder = createDecoder('yolov8');
  const buffer = new CandidateBuffer();
  const output = { name: 'output0', dims: [1, 84, n], data };
  let expected = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 0; c < 80; c++) best = Math.max(best, data[(4 + c) * n + i]);
    if (best > 0.25) expected++;
  }
  decoder.decode(output, 640, 640, 0.25, null, { into: buffer });
  const boxes = buffer.boxes;
  const start = process.hrtime.bigint();
  for (let k = 0; k < 20; k++) decoder.decode(output, 640, 640, 0.25, null, { into: buffer });
  const msPerFrame = Number(process.hrtime.bigint() - start) / 20 / 1e6;
  t.is(buffer.count, expected);
  t.true(expected > 100);
  t.is(buffer.boxes, boxes, 'the candidate arrays are reused');
  // Generous bound for a slow shared CI machine; a per-element allocation would be far slower.
  t.true(msPerFrame < 25, `${msPerFrame.toFixed(2)} ms per decode`);
});
