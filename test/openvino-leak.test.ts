/**
 * 10,000 detect() calls through the openvino backend (a pool of infer requests, inputs read in
 * place, outputs copied into JavaScript memory) leave RSS flat. A tiny in-memory model with a
 * YOLOX head keeps it to seconds, as test/leak.test.ts does for ONNX Runtime;
 * `node --expose-gc scripts/soak-detect.js --backend openvino` does the same on the real fixture.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { runtimeStatusSync } from './helpers/runtime-status';
import { gridCells, tinyModel } from './helpers/tiny-onnx';

const status = runtimeStatusSync('openvino');
const ovTest = status.loaded ? test : test.skip;
if (!status.loaded) console.log(`openvino-leak: skipped: ${status.reason}`);

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

function rssMb(): number {
  if (global.gc) global.gc();
  return process.memoryUsage().rss / 2 ** 20;
}

ovTest('10,000 detect() calls on the openvino backend leave RSS flat (under 20 MB growth after warm-up)', async (t) => {
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-ov-leak-'));
  process.env.INT8_DETECT_CACHE_DIR = cacheDir;
  // Bytes, not a file: the in-memory path of the native reader.
  const engine = await createEngine({ model: tinyYoloxWithObjects(), backend: 'openvino', family: 'yolox', concurrency: 2, threads: 1 });
  try {
    const width = 320;
    const height = 240;
    const data = Buffer.alloc(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 255;
    const frame = { data, width, height, format: 'rgb' as const };
    let detections = 0;
    const run = async (count: number) => {
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
    const warm = rssMb();
    await run(10_000);
    const grown = rssMb() - warm;
    t.log(`RSS after warm-up ${warm.toFixed(1)} MB, growth over 10,000 calls ${grown.toFixed(2)} MB`);
    t.is(engine.info.backend, 'openvino');
    t.true(detections >= 11_000 * 4, `each call decodes the model's four boxes (got ${detections})`);
    t.true(grown < 20, `RSS grew ${grown.toFixed(1)} MB`);
  } finally {
    await engine.dispose();
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
});
