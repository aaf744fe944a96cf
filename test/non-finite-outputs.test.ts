/**
 * A model whose outputs overflow (Inf, NaN, 1e30) must not produce boxes with NaN corners or
 * scores of Infinity (issue 14, item 6): such rows are dropped, and every box is clipped to the
 * frame.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { gridCells, tinyModel } from './helpers/tiny-onnx';

let dir: string;
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-non-finite-'));
});
test.after.always(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A YOLOX-shaped output (64x64 input: 84 cells, 85 columns) whose rows hold what `rows` says. */
function yoloxOutput(rows: Array<Partial<Record<'dx' | 'dy' | 'logw' | 'logh' | 'objectness' | 'class0', number>>>): Float32Array {
  const cells = gridCells(64, 64);
  const bias = new Float32Array(cells * 85);
  rows.forEach((row, i) => {
    const o = i * 85;
    bias[o] = row.dx ?? 0;
    bias[o + 1] = row.dy ?? 0;
    bias[o + 2] = row.logw ?? 1;
    bias[o + 3] = row.logh ?? 1;
    bias[o + 4] = row.objectness ?? 0;
    bias[o + 5] = row.class0 ?? 0;
  });
  return bias;
}

test('outputs holding Inf, NaN and 1e30 give only finite detections, clipped to the frame', async (t) => {
  const bias = yoloxOutput([
    { objectness: Infinity, class0: 0.9 }, // score Infinity
    { objectness: 0.9, class0: 0.9, logw: 1e30 }, // exp(1e30) = Inf: x1 = -Inf, x2 = +Inf
    { objectness: 0.9, class0: 0.9, dx: 1e30, logw: 1e30 }, // Inf - Inf = NaN
    { objectness: NaN, class0: 0.9 },
    { objectness: 1e30, class0: 1e30 }, // 1e60: beyond float32, Inf once stored
    { objectness: 0.9, class0: 0.8, dx: 1e30 }, // a huge but finite centre: clipped to the frame
    { objectness: 0.9, class0: 0.9, dx: 0.5, dy: 0.5, logw: 1, logh: 1 }, // an ordinary box
  ]);
  const file = path.join(dir, 'overflowing.onnx');
  await fs.writeFile(file, tinyModel({ inputDims: [1, 3, 64, 64], outputDims: [1, gridCells(64, 64), 85], bias }));
  const engine = await createEngine({ model: file, family: 'yolox', threads: 1 });
  try {
    const frame = { data: Buffer.alloc(64 * 64 * 3), width: 64, height: 64, format: 'rgb' as const };
    const detections = await engine.detect(frame, { scoreThreshold: 0.1 });
    t.log(JSON.stringify(detections));
    for (const d of detections) {
      t.true(Number.isFinite(d.score), `score ${d.score}`);
      for (const v of [d.box.x1, d.box.y1, d.box.x2, d.box.y2]) t.true(Number.isFinite(v), `box ${JSON.stringify(d.box)}`);
      t.true(d.box.x1 >= 0 && d.box.y1 >= 0 && d.box.x2 <= 64 && d.box.y2 <= 64, `clipped: ${JSON.stringify(d.box)}`);
    }
    // The ordinary box (row 6: grid cell (6, 0) at stride 8, centre (52, 4), 2e x 2e cells) and the
    // huge-centre one survive; every non-finite row is gone.
    t.is(detections.length, 2);
    const ordinary = detections.find((d) => Math.abs(d.score - 0.81) < 1e-5);
    t.truthy(ordinary, 'the ordinary box is kept');
    t.true(Math.abs(ordinary!.box.x1 - (52 - 4 * Math.E)) < 1e-3 && Math.abs(ordinary!.box.x2 - (52 + 4 * Math.E)) < 1e-3, JSON.stringify(ordinary));
    t.true(detections.some((d) => d.box.x1 === 64 && d.box.x2 === 64), 'the far-away box is clipped to the right edge');
  } finally {
    await engine.dispose();
  }
});
