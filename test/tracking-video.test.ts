/**
 * Tracking, zones and lines end to end on a made-up video whose truth is known exactly: COCO
 * objects pasted onto a plain background, moving on straight paths, encoded with ffmpeg, served
 * as a camera by createServer (decoder -> the real yolox_nano detector -> ByteTrack -> zones and
 * lines). Each object must keep one track ID while it is in view, and the line and zone counts
 * from the API must equal the truth worked out from the paths.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Box } from '../lib/detect/types';
import { createEngine, type Engine } from '../lib/engine';
import { createServer, type Int8DetectServer } from '../lib/serve/server';
import type { DetectionsServerEvent, ServerEvent, ZoneServerEvent } from '../lib/serve/types';
import { iou } from '../lib/video/tracking/iou';
import { models } from './helpers/fixtures';
import { background, cocoCrops, encodeH264, paste, type Crop } from './helpers/synthetic-video';

const W = 960;
const H = 540;
const FPS = 10;
const FRAMES = 120;
const SPEED = 12; // pixels a frame
const LINE_X = 480;
const ZONE = { x1: 300, x2: 660 };

interface Mover {
  crop: Crop;
  /** Top-left of the crop in frame f, or undefined when not in the video (yet, or any more). */
  at(f: number): { left: number; top: number } | undefined;
}

let dir: string;
let engine: Engine;
let server: Int8DetectServer;
let movers: Mover[];
const events: ServerEvent[] = [];

/** The object's box in frame f (in frame pixels, possibly partly outside). */
function truthBox(m: Mover, f: number): Box | undefined {
  const at = m.at(f);
  if (!at) return undefined;
  return { x1: at.left + m.crop.box.x1, y1: at.top + m.crop.box.y1, x2: at.left + m.crop.box.x2, y2: at.top + m.crop.box.y2 };
}

const fullyInView = (b: Box) => b.x1 >= 0 && b.y1 >= 0 && b.x2 <= W && b.y2 <= H;

/** Crops the detector finds alone on the background, and nothing else with them; of different classes where it can. */
async function detectableCrops(count: number): Promise<Crop[]> {
  const found: Crop[] = [];
  for (const crop of await cocoCrops(['person', 'dog', 'horse', 'sheep', 'cow', 'bicycle', 'motorcycle', 'car'], 140, 40)) {
    const frame = background(W, H);
    const left = Math.round((W - crop.width) / 2);
    const top = Math.round((H - crop.height) / 2);
    paste(frame, W, H, crop, left, top);
    const truth = { x1: left + crop.box.x1, y1: top + crop.box.y1, x2: left + crop.box.x2, y2: top + crop.box.y2 };
    const detections = await engine.detect({ data: frame, width: W, height: H, format: 'rgb' }, { scoreThreshold: 0.3 });
    const hits = detections.filter((d) => iou(d.box, truth) >= 0.6 && d.label === crop.label && d.score >= 0.5);
    const others = detections.filter((d) => iou(d.box, truth) < 0.5);
    if (hits.length === 1 && others.length === 0) found.push(crop);
  }
  const distinct = found.filter((c, i) => found.findIndex((o) => o.label === c.label) === i);
  return [...distinct, ...found.filter((c) => !distinct.includes(c))].slice(0, count);
}

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-tracking-'));
  engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
  const [a, b, c] = await detectableCrops(3);
  if (!c) throw new Error('fewer than three COCO crops that the detector finds alone on the background');
  // a: top band, left to right across the whole frame (through the zone and across the line).
  // b: bottom band, right to left, starting 10 frames later.
  // c: middle band, from the left into the zone, where it stops (its anchor stays left of the line).
  movers = [
    { crop: a, at: (f) => ({ left: -a.width + SPEED * f, top: 20 }) },
    { crop: b, at: (f) => (f < 10 ? undefined : { left: W - SPEED * (f - 10), top: H - 20 - b.height }) },
    { crop: c, at: (f) => ({ left: Math.min(-c.width + SPEED * f, 420 - c.width / 2), top: Math.round((H - c.height) / 2) }) },
  ];
  const frames: Buffer[] = [];
  for (let f = 0; f < FRAMES; f++) {
    const frame = background(W, H);
    for (const m of movers) {
      const at = m.at(f);
      if (at) paste(frame, W, H, m.crop, Math.round(at.left), Math.round(at.top));
    }
    frames.push(frame);
  }
  const video = path.join(dir, 'paths.mp4');
  await encodeH264(frames, W, H, FPS, video);

  server = await createServer({
    engine,
    port: 0,
    cameras: [
      {
        id: 'synthetic',
        url: video,
        zones: [{ id: 'middle', polygon: [[ZONE.x1, 0], [ZONE.x2, 0], [ZONE.x2, H], [ZONE.x1, H]] }],
        lines: [{ id: 'divide', from: [LINE_X, 0], to: [LINE_X, H], anchor: 'center' }],
        // yolox_nano scores these pasted objects from 0.5 up; ByteTrack's defaults (0.5 / 0.6) were set for YOLOX-X.
        tracker: { highThreshold: 0.4, newTrackThreshold: 0.45 },
      },
    ],
  });
  server.on((e) => events.push(e));
  await server.whenStreamIdle('synthetic');
});

test.after.always(async () => {
  await server?.close();
  await engine?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.serial('every frame of the file is processed in order', (t) => {
  const frames = events.filter((e): e is DetectionsServerEvent => e.type === 'detections').map((e) => e.frame);
  t.deepEqual(frames, Array.from({ length: FRAMES }, (_, i) => i + 1));
});

test.serial('each object keeps one track ID from entry to exit (matched in at least 90 % of the frames it is fully in view)', (t) => {
  const detections = events.filter((e): e is DetectionsServerEvent => e.type === 'detections');
  movers.forEach((m, index) => {
    const ids = new Map<number, number>();
    let inView = 0;
    let matched = 0;
    for (const e of detections) {
      const truth = truthBox(m, e.frame - 1);
      if (!truth || !fullyInView(truth)) continue;
      inView++;
      const best = e.tracks.map((tr) => ({ tr, overlap: iou(tr.box, truth) })).sort((x, y) => y.overlap - x.overlap)[0];
      if (!best || best.overlap < 0.5) continue;
      matched++;
      ids.set(best.tr.id, (ids.get(best.tr.id) ?? 0) + 1);
    }
    t.log(`object ${index} (${m.crop.label}, annotation ${m.crop.annotationId}): in view ${inView} frames, matched ${matched}, track IDs ${JSON.stringify([...ids])}`);
    t.true(inView >= 20, `object ${index} is in view long enough to mean something`);
    t.is(ids.size, 1, `object ${index} has one track ID`);
    t.true(matched >= 0.9 * inView, `object ${index} matched in ${matched} of ${inView} frames`);
  });
  const allIds = new Set(detections.flatMap((e) => e.tracks.map((tr) => tr.id)));
  t.true(allIds.size <= movers.length + 1, `no swarm of spurious tracks: IDs ${[...allIds]}`);
});

/** The truth from the paths: where the anchor of each object starts and ends relative to the zone and line. */
function truthCounts() {
  const add = (counts: Record<string, number>, label: string) => (counts[label] = (counts[label] ?? 0) + 1);
  const lineIn: Record<string, number> = {};
  const lineOut: Record<string, number> = {};
  const entered: Record<string, number> = {};
  const exited: Record<string, number> = {};
  const inside: Record<string, number> = {};
  for (const m of movers) {
    // Positions while the object is fully in view (where the tracker follows it for certain).
    const xs: number[] = [];
    for (let f = 0; f < FRAMES; f++) {
      const b = truthBox(m, f);
      if (b && fullyInView(b)) xs.push((b.x1 + b.x2) / 2);
    }
    const first = xs[0];
    const last = xs[xs.length - 1];
    if (first < LINE_X && last > LINE_X) add(lineOut, m.crop.label); // rightward across a line drawn downward: 'out'
    if (first > LINE_X && last < LINE_X) add(lineIn, m.crop.label);
    const inZone = (x: number) => x > ZONE.x1 && x < ZONE.x2;
    if (xs.some(inZone)) add(entered, m.crop.label);
    if (xs.some(inZone) && !inZone(last)) add(exited, m.crop.label);
    if (inZone(last)) add(inside, m.crop.label);
  }
  return { lineIn, lineOut, entered, exited, inside };
}

test.serial('line crossings and zone counts from the API equal the truth worked out from the paths', async (t) => {
  const truth = truthCounts();
  const address = await server.listen();
  const counts = (await (await fetch(`${address}/v1/streams/synthetic/counts`)).json()) as {
    zones: Record<string, { inside: Record<string, number>; entered: Record<string, number>; exited: Record<string, number> }>;
    lines: Record<string, { in: Record<string, number>; out: Record<string, number> }>;
  };
  t.log(`truth: ${JSON.stringify(truth)}`);
  t.log(`API:   ${JSON.stringify({ lines: counts.lines, zones: { middle: { inside: counts.zones.middle.inside, entered: counts.zones.middle.entered, exited: counts.zones.middle.exited } } })}`);
  t.deepEqual(counts.lines.divide, { in: truth.lineIn, out: truth.lineOut });
  t.deepEqual(counts.zones.middle.entered, truth.entered);
  t.deepEqual(counts.zones.middle.exited, truth.exited);
  t.deepEqual(counts.zones.middle.inside, truth.inside);
  // The events agree with the counts, and the dwell time of the objects that crossed is that of their paths.
  const crossings = events.filter((e) => e.type === 'line.cross');
  t.is(crossings.length, Object.values(truth.lineIn).concat(Object.values(truth.lineOut)).reduce((a, b) => a + b, 0));
  const exits = events.filter((e): e is ZoneServerEvent => e.type === 'zone.exit');
  t.true(exits.every((e) => e.reason === 'left' && (e.dwellMs ?? 0) > 0));
  // And the same counts reach the metrics.
  const metrics = await (await fetch(`${address}/metrics`)).text();
  for (const [label, n] of Object.entries(truth.lineOut)) t.true(metrics.includes(`int8_detect_line_crossings_total{stream="synthetic",line="divide",class="${label}",direction="out"} ${n}`));
  for (const [label, n] of Object.entries(truth.entered)) t.true(metrics.includes(`int8_detect_zone_entries_total{stream="synthetic",zone="middle",class="${label}"} ${n}`));
});
