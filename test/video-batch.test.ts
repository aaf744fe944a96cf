/**
 * The video pipeline's `batch`: frames of several streams in one inference (engine.detectBatch),
 * every stream's events still in frame order, the same detections as one frame per inference.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine, type Engine } from '../lib/engine';
import { createPipeline } from '../lib/video/pipeline';
import type { DetectionsEvent } from '../lib/video/types';
import { makeTestMedia, type TestMedia } from './helpers/video';
import { models } from './helpers/fixtures';

let dir: string;
let media: TestMedia;
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-video-batch-'));
  media = await makeTestMedia(dir, 2, 1);
});
test.after.always(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const STREAMS = 4;

async function runAll(engine: Engine, batch: number): Promise<{ events: Map<string, DetectionsEvent[]>; info: ReturnType<typeof createPipeline>['info']; batchesSeen: number[] }> {
  const sources = Array.from({ length: STREAMS }, (_, i) => ({ url: media.slideshow, id: `s${i}`, inputArgs: ['-framerate', '15'], connectTimeoutMs: 60_000, stallTimeoutMs: 60_000 }));
  const pipeline = createPipeline({ engine, sources, dropPolicy: 'keep-all', batch, statsIntervalMs: 0 });
  const events = new Map<string, DetectionsEvent[]>(sources.map((s) => [s.id, []]));
  // Record how many frames each detectBatch call took (the engine is shared: wrap it for the run).
  const batchesSeen: number[] = [];
  const original = engine.detectBatch.bind(engine);
  (engine as { detectBatch: Engine['detectBatch'] }).detectBatch = (frames, options) => {
    batchesSeen.push(frames.length);
    return original(frames, options);
  };
  pipeline.on('detections', (e) => events.get(e.stream)!.push({ ...e, frame: undefined as never }));
  try {
    await pipeline.whenIdle();
  } finally {
    await pipeline.dispose();
    (engine as { detectBatch: Engine['detectBatch'] }).detectBatch = original;
  }
  return { events, info: pipeline.info, batchesSeen };
}

test('4 streams of a 15 fps file: batch 4 takes frames of several streams per inference, in order, with the same detections', async (t) => {
  const single = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
  const batched = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime', batch: 4 });
  try {
    const one = await runAll(single, 1);
    const four = await runAll(batched, 4);
    t.is(one.info.batch, 1);
    t.is(four.info.batch, 4);
    t.regex(four.info.batching, /up to 4 frames per inference/);
    t.true(four.batchesSeen.some((n) => n > 1), `batches of ${[...new Set(four.batchesSeen)].join(', ')} frames`);
    t.true(four.batchesSeen.every((n) => n <= 4));
    for (const [id, list] of four.events) {
      const reference = one.events.get(id)!;
      t.is(list.length, 30, `${id}: every frame of the 2-second file`);
      t.is(list.length, reference.length);
      t.deepEqual(list.map((e) => e.pts), [...list.map((e) => e.pts)].sort((a, b) => a - b), `${id}: frame order kept`);
      list.forEach((e, i) => {
        t.is(e.pts, reference[i].pts);
        t.is(e.detections.length, reference[i].detections.length, `${id} frame ${i}`);
        e.detections.forEach((d, k) => t.true(Math.abs(d.score - reference[i].detections[k].score) < 1e-3));
      });
    }
  } finally {
    await single.dispose();
    await batched.dispose();
  }
});

test('a batch larger than the engine takes is bounded, and info says so', async (t) => {
  const engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime', batch: 2 });
  try {
    const pipeline = createPipeline({ engine, sources: [{ url: media.slideshow, id: 'a' }], batch: 8, statsIntervalMs: 0 });
    t.is(pipeline.info.batch, 2);
    t.regex(pipeline.info.batching, /batch 8 asked, but the engine takes 2 frames per inference \(createEngine\(\{ batch \}\)\): up to 2 frames per inference/);
    await pipeline.dispose();
  } finally {
    await engine.dispose();
  }
});
