/**
 * Faults a camera server meets: the RTSP server dying and coming back, a camera that never
 * answers, wrong credentials, a resolution change, no ffmpeg, and nothing left after dispose().
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createEngine, type Engine } from '../lib/engine';
import { VideoSourceError } from '../lib/video/errors';
import { createPipeline } from '../lib/video/pipeline';
import { runCli } from './helpers/cli';
import { models } from './helpers/fixtures';
import { deadline, delay, freePort, makeTestMedia, openFdCount, processAlive, startRtspServer, type TestMedia } from './helpers/video';

let dir: string;
let media: TestMedia;
let engine: Engine;

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-video-faults-'));
  media = await makeTestMedia(dir, 3, 1);
  engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
});

test.after.always(async () => {
  await engine?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      if (condition()) resolve(true);
      else if (Date.now() > deadline) resolve(false);
      else setTimeout(check, 50);
    };
    check();
  });
}

test.serial('the RTSP server killed mid-stream and restarted 5 s later: disconnected, reconnecting, connected, detections resume', async (t) => {
  const port = await freePort();
  let server = await startRtspServer({ port, mounts: { cam: media.slideshow } });
  const pipeline = createPipeline({
    engine,
    sources: [{ url: server.url('cam'), id: 'cam', stallTimeoutMs: 2000, connectTimeoutMs: 3000, backoffInitialMs: 300, backoffMaxMs: 1500 }],
    statsIntervalMs: 0,
  });
  const events: string[] = [];
  let detections = 0;
  pipeline.on('connected', () => events.push('connected'));
  pipeline.on('disconnected', () => events.push('disconnected'));
  pipeline.on('reconnecting', () => events.push('reconnecting'));
  pipeline.on('error', (e) => t.false(e.fatal, e.error.message));
  pipeline.on('detections', () => detections++);
  try {
    t.true(await until(() => detections >= 5, 15_000), 'detections before the outage');
    await server.stop();
    t.true(await until(() => events.includes('disconnected'), 6000), 'the outage was noticed');
    await delay(5000);
    server = await startRtspServer({ port, mounts: { cam: media.slideshow } });
    const before = detections;
    t.true(await until(() => detections >= before + 5, 20_000), 'detections resumed after the server came back');
    const firstDisconnect = events.indexOf('disconnected');
    t.is(events[0], 'connected');
    t.is(events[firstDisconnect + 1], 'reconnecting');
    t.is(events[events.length - 1], 'connected');
    t.log(events.join(' -> '));
  } finally {
    await pipeline.dispose();
    await server.stop();
  }
});

test.serial('a camera that never answers: timeout errors, a bounded number of retries, then it gives up', async (t) => {
  // A TCP server that accepts and then says nothing, like a camera whose RTSP service hangs.
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  const pipeline = createPipeline({
    engine,
    sources: [{ url: `rtsp://127.0.0.1:${port}/cam`, id: 'silent', connectTimeoutMs: 800, maxRetries: 2, backoffInitialMs: 100 }],
    statsIntervalMs: 0,
  });
  const errors: VideoSourceError[] = [];
  let reconnecting = 0;
  pipeline.on('error', (e) => errors.push(e.error as VideoSourceError));
  pipeline.on('reconnecting', () => reconnecting++);
  const started = Date.now();
  await Promise.race([pipeline.whenIdle(), deadline(15_000)]);
  const elapsed = Date.now() - started;
  await pipeline.dispose();
  sockets.forEach((s) => s.destroy());
  silent.close();
  t.true(errors.length >= 3, `${errors.length} errors`);
  t.deepEqual(errors.slice(0, 3).map((e) => e.reason), ['timeout', 'timeout', 'timeout']);
  t.regex(errors[0].message, /no answer within 800 ms/);
  const last = errors[errors.length - 1];
  t.true(last.fatal);
  t.is(last.reason, 'retries-exhausted');
  t.is(reconnecting, 2);
  t.true(elapsed < 8000, `gave up after ${elapsed} ms`);
});

test.serial('wrong credentials: an authentication error, and the password appears nowhere', async (t) => {
  const password = 'Sup3rSecretPw';
  const server = await startRtspServer({ mounts: { cam: media.slideshow }, user: 'admin', password: 'right-one' });
  const pipeline = createPipeline({ engine, sources: [{ url: server.url('cam', `admin:${password}`), id: 'locked' }], statsIntervalMs: 0 });
  const seen: string[] = [];
  const errors: VideoSourceError[] = [];
  const record = (name: string) => (...args: unknown[]) => seen.push(`${name} ${JSON.stringify(args, (_k, v) => (v instanceof Error ? { message: v.message, stack: v.stack } : v))}`);
  for (const name of ['connected', 'disconnected', 'reconnecting', 'end', 'log'] as const) pipeline.on(name, record(name));
  pipeline.on('error', (e) => {
    errors.push(e.error as VideoSourceError);
    record('error')(e);
  });
  await Promise.race([pipeline.whenIdle(), deadline(15_000)]);
  await pipeline.dispose();
  await server.stop();
  t.is(errors.length, 1);
  t.is(errors[0].reason, 'auth');
  t.true(errors[0].fatal);
  t.regex(errors[0].message, /authentication failed/);
  t.true(errors[0].message.includes('rtsp://admin:***@127.0.0.1'));
  t.true(seen.some((s) => s.startsWith('log ')), 'the decoder log lines were seen too');
  for (const line of [...seen, errors[0].message, errors[0].stack ?? '', String(pipeline.info.streams[0].url)]) {
    t.false(line.includes(password), `leaked in: ${line.slice(0, 200)}`);
  }
});

test.serial('a resolution change mid-stream: every frame at its own size, on a file and over RTSP', async (t) => {
  const file = createPipeline({ engine, sources: [{ url: media.switchVideo, id: 'file', inputArgs: ['-framerate', '15'] }], statsIntervalMs: 0 });
  const sizes = new Map<string, number>();
  let withObjects = 0;
  file.on('detections', (e) => {
    sizes.set(`${e.width}x${e.height}`, (sizes.get(`${e.width}x${e.height}`) ?? 0) + 1);
    if (e.width === 320 && e.detections.length > 0) withObjects++;
  });
  await Promise.race([file.whenIdle(), deadline(60_000)]);
  await file.dispose();
  t.deepEqual(Object.fromEntries(sizes), { '640x480': 45, '320x240': 45 }, 'keep-all processed every frame at its own size');
  t.true(withObjects > 30, 'detections on the smaller frames');

  const server = await startRtspServer({ mounts: { sw: media.switchVideo } });
  const live = createPipeline({ engine, sources: [{ url: server.url('sw'), id: 'live' }], statsIntervalMs: 0 });
  const liveSizes = new Set<string>();
  let reconnects = 0;
  live.on('reconnecting', () => reconnects++);
  live.on('detections', (e) => liveSizes.add(`${e.width}x${e.height}`));
  await until(() => liveSizes.size >= 2, 15_000);
  await live.dispose();
  await server.stop();
  t.deepEqual([...liveSizes].sort(), ['320x240', '640x480']);
  t.is(reconnects, 0, 'no restart was needed');
});

test.serial('ffmpeg missing: an error that says to install it', async (t) => {
  const viaPath = createPipeline({ engine, sources: [{ url: media.slideshow, ffmpegPath: '/nonexistent/bin/ffmpeg' }], statsIntervalMs: 0 });
  const errors: VideoSourceError[] = [];
  viaPath.on('error', (e) => errors.push(e.error as VideoSourceError));
  await Promise.race([viaPath.whenIdle(), deadline(5000)]);
  await viaPath.dispose();
  t.is(errors.length, 1);
  t.is(errors[0].reason, 'decoder-missing');
  t.true(errors[0].fatal);
  t.regex(errors[0].message, /install ffmpeg \(Debian\/Ubuntu: apt-get install ffmpeg\)/);

  const savedPath = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const noPath = createPipeline({ engine, sources: [`rtsp://user:pw123456@127.0.0.1:9/x`], statsIntervalMs: 0 });
    const more: VideoSourceError[] = [];
    noPath.on('error', (e) => more.push(e.error as VideoSourceError));
    await Promise.race([noPath.whenIdle(), deadline(5000)]);
    await noPath.dispose();
    t.is(more[0]?.reason, 'decoder-missing');
    t.regex(more[0].message, /cannot run ffmpeg \(ENOENT\)/);
    t.false(more[0].message.includes('pw123456'));
  } finally {
    process.env.PATH = savedPath;
  }
});

test.serial('after dispose() no decoder process and no extra file descriptor remain', async (t) => {
  const server = await startRtspServer({ mounts: { a: media.slideshow, b: media.slideshow } });
  await delay(200);
  const fdsBefore = openFdCount();
  const pipeline = createPipeline({
    engine,
    sources: [server.url('a'), server.url('b'), { url: media.slideshow, inputArgs: ['-framerate', '15'], realtime: true }],
    statsIntervalMs: 100,
  });
  let detections = 0;
  pipeline.on('detections', () => detections++);
  await until(() => detections >= 10 && pipeline.decoderPids.length === 3, 15_000);
  const pids = pipeline.decoderPids;
  t.is(pids.length, 3);
  t.true(openFdCount() > fdsBefore, 'the decoders had pipes open');
  await pipeline.dispose();
  await delay(100);
  t.deepEqual(pids.filter(processAlive), [], 'every decoder has exited');
  t.is(openFdCount(), fdsBefore, 'file descriptors back to where they were');
  t.deepEqual(pipeline.decoderPids, []);
  await server.stop();
});

test.serial('the GStreamer decoder (gst-launch-1.0 ... ! fdsink) reads every frame with its size and a timestamp', async (t) => {
  const pipeline = createPipeline({ engine, sources: [{ url: media.slideshow, id: 'gst', decoder: 'gstreamer' }], statsIntervalMs: 0 });
  const pts: number[] = [];
  let withObjects = 0;
  const errors: string[] = [];
  pipeline.on('error', (e) => errors.push(e.error.message));
  pipeline.on('detections', (e) => {
    t.is(`${e.width}x${e.height}`, '640x480');
    pts.push(e.pts);
    if (e.detections.length > 0) withObjects++;
  });
  await Promise.race([pipeline.whenIdle(), deadline(60_000)]);
  await pipeline.dispose();
  t.deepEqual(errors, []);
  t.is(pts.length, 45);
  t.deepEqual(pts.slice(0, 3), [0, 1 / 15, 2 / 15]);
  t.true(withObjects > 40);
});

test.serial('int8-detect watch --json: one JSON line per frame of a file, and the stream events', async (t) => {
  const result = await runCli(['watch', media.switchVideo, '--model', models.yoloxNano, '--json', '--ffmpeg', 'ffmpeg'], { timeoutMs: 120_000 });
  t.is(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const frames = lines.filter((l) => l.event === undefined);
  const events = lines.filter((l) => l.event !== undefined).map((l) => l.event);
  t.deepEqual(events, ['connected', 'end']);
  t.is(frames.length, 90);
  t.is(frames.filter((f) => f.width === 320).length, 45);
  t.true(frames.every((f) => Array.isArray(f.detections) && typeof f.latencyMs === 'number' && f.stream === 'stream0'));
  const missing = await runCli(['watch', media.slideshow, '--model', models.yoloxNano, '--ffmpeg', '/nonexistent/ffmpeg']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /apt-get install ffmpeg/);
});
