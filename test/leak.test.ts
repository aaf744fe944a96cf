import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { gridCells, tinyModel } from './helpers/tiny-onnx';

// A tiny model with a YOLOX head, so 10,000 calls through every stage of detect() (validation,
// native preprocessing, the worker round trip, decoding, NMS) take seconds, not minutes.
function tinyYoloxWithObjects(): Uint8Array {
  const cells = gridCells(64, 64);
  const bias = new Float32Array(cells * 85);
  for (const cell of [0, 9, 10, 70]) {
    const row = bias.subarray(cell * 85, cell * 85 + 85);
    row.set([0.5, 0.5, Math.log(2), Math.log(2), 0.9]);
    row[5 + (cell % 3)] = 0.8;
  }
  return tinyModel({ inputDims: [1, 3, 64, 64], outputDims: [1, cells, 85], bias });
}

test('10,000 detect() calls on one engine leave RSS flat (under 20 MB growth after warm-up)', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-leak-'));
  const file = path.join(dir, 'tiny.onnx');
  await fs.writeFile(file, tinyYoloxWithObjects());
  const engine = await createEngine({ model: file, threads: 1 });
  try {
    const width = 320;
    const height = 240;
    const data = Buffer.alloc(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 255;
    const frame = { data, width, height, format: 'rgb' as const };
    let detections = 0;
    const run = async (count: number) => {
      // Four in flight, as a server handling several streams would call it.
      let next = 0;
      const lane = async () => {
        while (next++ < count) {
          const found = await engine.detect(frame);
          detections += found.length;
        }
      };
      await Promise.all([lane(), lane(), lane(), lane()]);
    };
    await run(1000);
    const warm = process.memoryUsage().rss;
    await run(10_000);
    const grown = (process.memoryUsage().rss - warm) / 2 ** 20;
    t.log(`RSS after warm-up ${(warm / 2 ** 20).toFixed(1)} MB, growth over 10,000 calls ${grown.toFixed(2)} MB`);
    t.true(detections >= 11_000 * 4, `each call decodes the model's four boxes (got ${detections})`);
    t.true(grown < 20, `RSS grew ${grown.toFixed(1)} MB`);
  } finally {
    await engine.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
