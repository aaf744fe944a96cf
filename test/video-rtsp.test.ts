/**
 * The pipeline on a real RTSP server (GStreamer's, from scripts/rtsp-server.py) serving H.264
 * slideshows of the COCO eval images: detections on decoded frames against detections on the
 * stills, and four streams for 30 seconds with bounded latency, queues and memory.
 */
import test from 'ava';
import sharp from 'sharp';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Detection } from '../lib/detect/types';
import { createEngine, type Engine } from '../lib/engine';
import { evaluate, type CocoDataset, type CocoDetection } from '../lib/eval/coco';
import { createPipeline } from '../lib/video/pipeline';
import type { PipelineStats } from '../lib/video/types';
import { models } from './helpers/fixtures';
import { delay, makeTestMedia, startRtspServer, type RtspServer, type TestMedia } from './helpers/video';

const IMAGES = 8;
const SECONDS_PER_IMAGE = 1;

let dir: string;
let media: TestMedia;
let server: RtspServer;
let engine: Engine;

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-video-'));
  media = await makeTestMedia(dir, IMAGES, SECONDS_PER_IMAGE);
  server = await startRtspServer({ mounts: { cam0: media.slideshow, cam1: media.slideshow, cam2: media.slideshow, cam3: media.slideshow } });
  engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
});

test.after.always(async () => {
  await server?.stop();
  await engine?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** 16x12 block means of a luma plane, normalised (zero mean, unit norm): video and still compare alike. */
function lumaSignature(luma: Uint8Array, width: number, height: number): number[] {
  const cols = 16;
  const rows = 12;
  const sums = new Array<number>(cols * rows).fill(0);
  for (let y = 0; y < height; y++) {
    const row = Math.floor((y * rows) / height);
    for (let x = 0; x < width; x++) sums[row * cols + Math.floor((x * cols) / width)] += luma[y * width + x];
  }
  const mean = sums.reduce((a, b) => a + b, 0) / sums.length;
  const centred = sums.map((v) => v - mean);
  const norm = Math.hypot(...centred) || 1;
  return centred.map((v) => v / norm);
}

function nearest(signature: number[], candidates: number[][]): { index: number; similarity: number } {
  let best = { index: -1, similarity: -Infinity };
  candidates.forEach((c, index) => {
    const similarity = c.reduce((a, v, i) => a + v * signature[i], 0);
    if (similarity > best.similarity) best = { index, similarity };
  });
  return best;
}

function cocoDetections(imageId: number, detections: readonly Detection[]): CocoDetection[] {
  return detections.map((d) => ({
    image_id: imageId,
    category_id: d.classId + 1,
    bbox: [d.box.x1, d.box.y1, d.box.x2 - d.box.x1, d.box.y2 - d.box.y1],
    score: d.score,
  }));
}

test.serial('detections on decoded RTSP frames agree with detections on the stills (AP50 >= 0.9, FP32 stills as ground truth)', async (t) => {
  const stills: Detection[][] = [];
  for (const still of media.stills) stills.push(await engine.detect(still));
  t.true(stills.flat().length >= IMAGES, 'the stills have objects to agree on');

  const signatures = await Promise.all(
    media.stills.map(async (still) => {
      const { data, info } = await sharp(still).greyscale().raw().toBuffer({ resolveWithObject: true });
      return lumaSignature(data, info.width, info.height);
    }),
  );

  const pipeline = createPipeline({ engine, sources: [{ url: server.url('cam0'), id: 'cam0' }], detect: { scoreThreshold: 0.05 }, statsIntervalMs: 0 });
  const frames: Array<{ image: number; detections: Detection[]; width: number; height: number }> = [];
  let weakest = 1;
  pipeline.on('detections', (e) => {
    // A live RTSP session joins the server's loop wherever it is, so the still a frame shows is
    // recognised by its picture (the luma plane of the NV12 frame against the still's grey levels).
    const match = nearest(lumaSignature(e.frame.data, e.width, e.height), signatures);
    weakest = Math.min(weakest, match.similarity);
    frames.push({ image: match.index, detections: e.detections, width: e.width, height: e.height });
  });
  const deadline = Date.now() + IMAGES * SECONDS_PER_IMAGE * 1000 + 20_000;
  while (new Set(frames.map((f) => f.image)).size < IMAGES && Date.now() < deadline) await delay(250);
  await pipeline.dispose();
  t.true(weakest > 0.95, `every frame looks like one of the stills (weakest similarity ${weakest.toFixed(3)})`);

  const imagesSeen = new Set(frames.map((f) => f.image));
  t.is(imagesSeen.size, IMAGES, 'every still was seen in the stream');
  t.true(frames.length >= IMAGES * 5, `enough frames processed (${frames.length})`);
  t.true(frames.every((f) => f.width === 640 && f.height === 480));

  const groundTruth: CocoDataset = {
    images: frames.map((_, i) => ({ id: i + 1, file_name: `frame${i}`, width: 640, height: 480 })),
    annotations: frames.flatMap((f, i) =>
      stills[f.image].map((d, j) => ({
        id: (i + 1) * 1000 + j,
        image_id: i + 1,
        category_id: d.classId + 1,
        bbox: [d.box.x1, d.box.y1, d.box.x2 - d.box.x1, d.box.y2 - d.box.y1] as [number, number, number, number],
        area: (d.box.x2 - d.box.x1) * (d.box.y2 - d.box.y1),
        iscrowd: 0,
      })),
    ),
    categories: Array.from({ length: 80 }, (_, i) => ({ id: i + 1, name: `class${i}` })),
  };
  const metrics = evaluate(frames.flatMap((f, i) => cocoDetections(i + 1, f.detections)), groundTruth);
  t.log(`agreement over ${frames.length} decoded frames of ${IMAGES} stills: AP50 ${metrics.AP50.toFixed(3)}, mAP ${metrics.mAP.toFixed(3)}`);
  t.true(metrics.AP50 >= 0.9, `AP50 ${metrics.AP50}`);
});

test.serial('four RTSP streams for 30 s: p99 latency under 500 ms, queues bounded, RSS bounded', async (t) => {
  const pipeline = createPipeline({
    engine,
    sources: [0, 1, 2, 3].map((i) => ({ url: server.url(`cam${i}`), id: `cam${i}` })),
    dropPolicy: 'latest',
    statsIntervalMs: 1000,
  });
  const latencies: number[] = [];
  const perStream = new Map<string, number>();
  const stats: PipelineStats[] = [];
  // RSS is read after a full garbage collection at both ends (ava runs with --expose-gc), so the
  // figure is what the pipeline keeps, not where the collector happened to be.
  const settledRss = () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().rss;
  };
  let rssAfterWarmup = 0;
  let warm = false;
  pipeline.on('detections', (e) => {
    if (warm) latencies.push(e.latencyMs);
    perStream.set(e.stream, (perStream.get(e.stream) ?? 0) + 1);
  });
  pipeline.on('stats', (s) => stats.push(s));
  await delay(8_000);
  warm = true;
  rssAfterWarmup = settledRss();
  await delay(22_000);
  const rssAtEnd = settledRss();
  const final = pipeline.stats();
  await pipeline.dispose();

  latencies.sort((a, b) => a - b);
  const p50 = latencies[Math.floor(latencies.length * 0.5)];
  const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1];
  const growthMb = (rssAtEnd - rssAfterWarmup) / 2 ** 20;
  const maxQueued = Math.max(...stats.flatMap((s) => s.streams.map((x) => x.queued)));
  const last = stats[stats.length - 1];
  t.log(
    `4 streams: ${latencies.length} frames after warm-up, latency p50 ${p50} ms p99 ${p99} ms, max queued ${maxQueued}, RSS growth ${growthMb.toFixed(1)} MB, ` +
      `decoders ${(last.decoderCpu * 100).toFixed(0)} % of a core; per stream ${final.streams.map((s) => `${s.stream} in ${s.framesIn} done ${s.framesProcessed} dropped ${s.dropped}`).join(', ')}`,
  );
  t.is(perStream.size, 4, 'every stream produced detections');
  t.true(p99 < 500, `p99 latency ${p99} ms`);
  t.true(maxQueued <= 1, 'the latest-frame queue never held more than one frame');
  t.true(growthMb < 20, `RSS grew ${growthMb.toFixed(1)} MB after warm-up`);
  const processed = final.streams.map((s) => s.framesProcessed);
  t.true(Math.min(...processed) >= 0.6 * Math.max(...processed), `streams served evenly: ${processed.join(', ')}`);
});
