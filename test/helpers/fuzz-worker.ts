/**
 * The fuzzers' child process (test/fuzz.test.ts starts it): runs fuzz cases one after another and
 * says so on stdout before and after each ("start N", then "done N success|clean CODE|other NAME:
 * MESSAGE"), so that when a case crashes the process, the parent knows which case it was and
 * starts a new child after it. Cases are made from a seeded generator: case N of seed S is the
 * same on every run and machine.
 *
 *   node fuzz-worker.js frames|models SEED FIRST_CASE DEADLINE_MS_SINCE_EPOCH
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine, type Engine, type EngineOptions } from '../../lib/engine';
import { Int8DetectError } from '../../lib/util/errors';
import type { RawFrame } from '../../lib/image/frame';
import { probe } from '../../lib/probe';
import { models } from './fixtures';
import { gridCells, tinyModel } from './tiny-onnx';
import { seededRandom } from '../../lib/util/random';

type Random = () => number;
const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)];
const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function randomBytes(r: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}

// ---- frames ----

const FORMATS = ['rgb', 'bgr', 'rgba', 'bgra', 'gray', 'nv12', 'i420'] as const;
const BYTES_PER_PIXEL: Record<string, number> = { rgb: 3, bgr: 3, rgba: 4, bgra: 4, gray: 1, nv12: 1.5, i420: 1.5 };

/** A frame-like value: mostly plausible (sizes, strides and buffers that fit or nearly fit), sometimes nonsense. */
function randomFrame(r: Random, jpeg: Uint8Array): unknown {
  const roll = r();
  if (roll < 0.06) return Buffer.from(randomBytes(r, int(r, 0, 2000))); // an "encoded image" of noise
  if (roll < 0.12) return Buffer.from(jpeg.subarray(0, int(r, 0, jpeg.length))); // a truncated JPEG
  if (roll < 0.14) return pick(r, [null, undefined, 42, 'not-a-file.jpg', {}, [], { data: null }, { width: 10 }]);
  const format = r() < 0.95 ? pick(r, FORMATS) : pick(r, ['yuyv', 'RGB', '', 'nv21']);
  const sizes = [1, 2, 3, 7, 16, 31, 64, 100, 257, 640, 1023, 1920];
  const width = r() < 0.93 ? pick(r, sizes) : pick(r, [0, -4, 2.5, NaN, 1e6, 65537]);
  const height = r() < 0.93 ? pick(r, sizes) : pick(r, [0, -1, 3.3, Infinity, 1e6]);
  const packed = Number.isFinite(width) && width > 0 ? Math.ceil(width * (format === 'nv12' || format === 'i420' ? 1 : BYTES_PER_PIXEL[format] ?? 3)) : 8;
  const strideRoll = r();
  const stride = strideRoll < 0.55 ? undefined : strideRoll < 0.8 ? packed + int(r, 0, 64) : strideRoll < 0.9 ? packed - int(r, 1, 8) : pick(r, [0, -1, 1.5, 1e9]);
  const rows = Number.isFinite(height) && height > 0 ? height : 4;
  const needed = Math.ceil((stride ?? packed) * rows * (format === 'nv12' || format === 'i420' ? 1.5 : 1));
  const lengthRoll = r();
  const length = Math.max(0, Math.min(32 * 2 ** 20, lengthRoll < 0.7 ? needed : lengthRoll < 0.85 ? needed - int(r, 1, 64) : lengthRoll < 0.95 ? needed + int(r, 1, 4096) : int(r, 0, 64)));
  const kind = r();
  const data =
    kind < 0.7
      ? length <= 65536
        ? Buffer.from(randomBytes(r, length))
        : Buffer.alloc(length, int(r, 0, 255))
      : kind < 0.8
        ? new Uint8Array(length)
        : kind < 0.86
          ? new Uint8ClampedArray(length)
          : kind < 0.9
            ? new Float32Array(Math.ceil(length / 4))
            : kind < 0.94
              ? new Uint8Array(new ArrayBuffer(length + 16), int(r, 0, 16), length)
              : pick(r, [new ArrayBuffer(length), 'pixels', null, [1, 2, 3]]);
  const frame: Record<string, unknown> = { data, width, height, format };
  if (stride !== undefined) frame.stride = stride;
  if ((format === 'nv12' || format === 'i420') && r() < 0.3) {
    frame.uvOffset = r() < 0.5 ? (stride ?? packed) * rows : int(r, -8, needed + 8);
    if (r() < 0.5) frame.uvStride = r() < 0.5 ? stride ?? packed : int(r, -2, 4096);
  }
  if (r() < 0.1) frame.colorMatrix = pick(r, ['bt601', 'bt709', 'bt2020', 7]);
  if (r() < 0.1) frame.colorRange = pick(r, ['limited', 'full', 'tv']);
  return frame;
}

// ---- models ----

/** A corrupted copy of `bytes`: flipped bytes, a truncation, an inserted or deleted run, a zeroed or duplicated range. */
function corrupt(r: Random, bytes: Uint8Array): Uint8Array {
  let out = Uint8Array.from(bytes);
  const edits = int(r, 1, 4);
  for (let e = 0; e < edits; e++) {
    const at = int(r, 0, Math.max(0, out.length - 1));
    switch (int(r, 0, 5)) {
      case 0:
        for (let i = 0, n = int(r, 1, 32); i < n; i++) out[int(r, 0, out.length - 1)] = (r() * 256) | 0;
        break;
      case 1:
        out = out.subarray(0, at);
        break;
      case 2: {
        const run = randomBytes(r, int(r, 1, 64));
        out = Uint8Array.from([...out.subarray(0, at), ...run, ...out.subarray(at)]);
        break;
      }
      case 3:
        out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(Math.min(out.length, at + int(r, 1, 256)))]);
        break;
      case 4:
        out.fill(0, at, Math.min(out.length, at + int(r, 1, 512)));
        break;
      default: {
        const length = int(r, 1, 256);
        out = Uint8Array.from([...out.subarray(0, at + length), ...out.subarray(at, at + length), ...out.subarray(at + length)]);
      }
    }
    if (out.length === 0) break;
  }
  return out;
}

// ---- the loop ----

function outcome(err: unknown): string {
  if (err instanceof Int8DetectError) return `clean ${err.code}`;
  const e = err as Error;
  return `other ${e?.name ?? typeof err}: ${String(e?.message ?? err).split('\n')[0].slice(0, 200)}`;
}

/** Every number of every detection is finite and inside the frame. */
function checkDetections(detections: unknown, frame: unknown): void {
  if (!Array.isArray(detections)) throw new Error('detect() returned no array');
  const f = frame as Partial<RawFrame>;
  for (const d of detections as { box: Record<string, number>; score: number }[]) {
    const values = [d.box.x1, d.box.y1, d.box.x2, d.box.y2, d.score];
    if (!values.every(Number.isFinite)) throw new Error(`a non-finite detection: ${JSON.stringify(d)}`);
    if (typeof f.width === 'number' && (d.box.x1 < 0 || d.box.x2 > f.width)) throw new Error(`a box outside the frame: ${JSON.stringify(d.box)}`);
  }
}

async function frameEngines(): Promise<Engine[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-fuzz-'));
  const write = async (name: string, bytes: Uint8Array) => {
    const file = path.join(dir, name);
    await fs.writeFile(file, bytes);
    return file;
  };
  // Tiny models (they cost nothing to run) with three preprocessing layouts, and the real YOLOX.
  const nchw = await write('nchw.onnx', tinyModel({ inputDims: [1, 3, 64, 64], outputDims: [1, gridCells(64, 64), 85] }));
  const nhwc = await write('nhwc.onnx', tinyModel({ inputDims: [1, 64, 96, 3], outputDims: [1, gridCells(96, 64), 85] }));
  const gray = await write('gray.onnx', tinyModel({ inputDims: [1, 1, 32, 32], outputDims: [1, gridCells(32, 32), 85] }));
  const common = { backend: 'onnxruntime' as const, threads: 1, family: 'yolox' as const };
  return [
    await createEngine({ ...common, model: nchw }),
    await createEngine({ ...common, model: nhwc, preprocess: { layout: 'nhwc', channelOrder: 'rgb', placement: 'center' } }),
    await createEngine({ ...common, model: gray }),
    await createEngine({ ...common, model: models.yoloxNano }),
  ];
}

async function main(): Promise<void> {
  const [kind, seedText, firstText, deadlineText] = process.argv.slice(2);
  const seed = Number(seedText);
  const deadline = Number(deadlineText);
  let index = Number(firstText);
  if (kind === 'frames') {
    const engines = await frameEngines();
    const jpeg = await fs.readFile(path.join(models.yoloxNano, '..', '..', 'coco', 'eval', 'images', '000000187334.jpg'));
    while (Date.now() < deadline) {
      const r = seededRandom(seed * 1_000_003 + index);
      const frame = randomFrame(r, jpeg);
      // Mostly the tiny engines; one case in ten through the real model.
      const engine = r() < 0.1 ? engines[3] : engines[int(r, 0, 2)];
      process.stdout.write(`start ${index}\n`);
      let result: string;
      try {
        checkDetections(await engine.detect(frame as RawFrame, r() < 0.2 ? { scoreThreshold: r() } : undefined), frame);
        result = 'success';
      } catch (err) {
        result = outcome(err);
      }
      process.stdout.write(`done ${index} ${result}\n`);
      index++;
    }
    for (const engine of engines) await engine.dispose();
  } else {
    const sources = [tinyModel({ inputDims: [1, 3, 64, 64], outputDims: [1, gridCells(64, 64), 85] }), await fs.readFile(models.yoloxNano)];
    // Every backend that can run here (ONNX Runtime always; OpenVINO where its module is built).
    const report = await probe();
    const backends = Object.entries(report.backends).filter(([, b]) => b.available).map(([name]) => name as NonNullable<EngineOptions['backend']>);
    const frame: RawFrame = { data: Buffer.alloc(64 * 48 * 3, 100), width: 64, height: 48, format: 'rgb' };
    while (Date.now() < deadline) {
      const r = seededRandom(seed * 1_000_003 + index);
      // The tiny model most of the time (it loads in milliseconds), YOLOX one case in five.
      const model = corrupt(r, r() < 0.8 ? sources[0] : sources[1]);
      const backend = pick(r, backends);
      process.stdout.write(`start ${index} ${backend}\n`);
      let result: string;
      try {
        const engine = await createEngine({ model, backend, threads: 1 });
        try {
          checkDetections(await engine.detect(frame), frame);
          result = 'success';
        } catch (err) {
          result = outcome(err);
        } finally {
          await engine.dispose();
        }
      } catch (err) {
        result = outcome(err);
      }
      process.stdout.write(`done ${index} ${result}\n`);
      index++;
    }
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`fuzz worker failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(70);
    },
  );
}
