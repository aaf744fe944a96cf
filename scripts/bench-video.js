#!/usr/bin/env node
/**
 * Video pipeline benchmark on a real RTSP server (scripts/rtsp-server.py, pre-encoded H.264, so no
 * encoder competes for the CPU). Build first (npm run build:ts), then:
 *
 *   node scripts/bench-video.js [--minutes 5] [--streams 4] [--heavy-streams 8] [--rounds 3] [--round-seconds 20] [--model M]
 *
 * Part 1: `--streams` cameras, 640x480 at 15 fps, latest-frame policy, for `--minutes`: per-stream
 * processed fps, drops, p50/p99 frame-to-detection latency (after a 30 s warm-up), the largest
 * queue seen, RSS growth after warm-up, and the decoders' CPU share.
 * Part 2: `--heavy-streams` cameras, more than the machine can infer. The same decoders run all
 * the time; rounds alternate between detecting on their frames and raw inference (the model on a
 * preprocessed tensor, as `int8-detect bench` measures it) while their frames are thrown away, so
 * both see the same decoding load. Reported: median over rounds of detections per second / raw
 * inferences per second within the round, and how evenly the drops fell across streams.
 */
const { execFileSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { parseArgs } = require('node:util');

const dist = path.resolve(__dirname, '..', 'dist');
const { createEngine } = require(path.join(dist, 'lib', 'engine'));
const { createPipeline } = require(path.join(dist, 'lib', 'video', 'pipeline'));
const { cpuInfo } = require(path.join(dist, 'lib', 'hardware', 'cpu'));
const { config } = require(path.join(dist, 'lib', 'util', 'config'));
const { percentile, median } = require(path.join(dist, 'lib', 'util', 'statistics'));
const { preprocessFrame, tensorSize } = require(path.join(dist, 'lib', 'detect', 'preprocess'));
const { validateRawFrame } = require(path.join(dist, 'lib', 'image', 'frame'));
const { startRtspServer } = require(path.join(dist, 'test', 'helpers', 'video'));

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    streams: { type: 'string', default: '4' },
    'heavy-streams': { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    'round-seconds': { type: 'string', default: '20' },
    'warmup-seconds': { type: 'string', default: '30' },
    model: { type: 'string', default: path.join(config.fixturesDir, 'models', 'yolox_nano.onnx') },
  },
});
const minutes = Number(values.minutes);
const streams = Number(values.streams);
const heavyStreams = Number(values['heavy-streams']);
const rounds = Number(values.rounds);
const roundSeconds = Number(values['round-seconds']);
const warmupSeconds = Number(values['warmup-seconds']);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

async function partOne(engine, server) {
  const ids = Array.from({ length: streams }, (_, i) => `cam${i}`);
  const pipeline = createPipeline({ engine, sources: ids.map((id) => ({ url: server.url(id), id })), dropPolicy: 'latest', statsIntervalMs: 5000 });
  const latencies = new Map(ids.map((id) => [id, []]));
  let warm = false;
  let maxQueued = 0;
  const rss = [];
  const cpu = [];
  pipeline.on('detections', (e) => warm && latencies.get(e.stream).push(e.latencyMs));
  pipeline.on('stats', (s) => {
    maxQueued = Math.max(maxQueued, ...s.streams.map((x) => x.queued));
    if (warm) {
      rss.push(process.memoryUsage().rss);
      cpu.push(s.decoderCpu);
    }
  });
  pipeline.on('error', (e) => process.stderr.write(`error ${e.stream}: ${e.error.message}\n`));
  await sleep(warmupSeconds * 1000);
  pipeline.stats(); // start the counted window here
  const counted = pipeline.stats().streams.map((s) => ({ ...s }));
  warm = true;
  const rssAtWarm = process.memoryUsage().rss;
  const started = performance.now();
  await sleep(minutes * 60_000);
  const seconds = (performance.now() - started) / 1000;
  const end = pipeline.stats();
  await pipeline.dispose();
  const rows = end.streams.map((s, i) => {
    const sorted = latencies.get(s.stream).sort((a, b) => a - b);
    return {
      stream: s.stream,
      fpsIn: (s.framesIn - counted[i].framesIn) / seconds,
      fpsProcessed: (s.framesProcessed - counted[i].framesProcessed) / seconds,
      dropped: s.dropped - counted[i].dropped,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      reconnects: s.reconnects,
    };
  });
  return {
    seconds,
    rows,
    maxQueued,
    rssAtWarmMb: rssAtWarm / 2 ** 20,
    rssMaxMb: Math.max(...rss) / 2 ** 20,
    rssEndMb: rss[rss.length - 1] / 2 ** 20,
    decoderCpu: median(cpu),
    cores: os.cpus().length,
  };
}

async function partTwo(engine, server) {
  const ids = Array.from({ length: heavyStreams }, (_, i) => `cam${i}`);
  // One set of decoders for the whole part: the proxy either detects or throws the frame away.
  let detecting = true;
  const proxy = {
    info: engine.info,
    detect: (frame, options) => (detecting ? engine.detect(frame, options) : Promise.resolve([])),
  };
  const pipeline = createPipeline({ engine: proxy, sources: ids.map((id) => ({ url: server.url(id), id })), dropPolicy: 'latest', statsIntervalMs: 0 });
  const processed = new Map(ids.map((id) => [id, 0]));
  let counting = false;
  pipeline.on('detections', (e) => counting && detecting && processed.set(e.stream, processed.get(e.stream) + 1));
  await sleep(10_000);

  const spec = engine.info.preprocess;
  const tensor = spec.dtype === 'uint8' ? new Uint8Array(tensorSize(spec)) : new Float32Array(tensorSize(spec));
  const still = { data: Buffer.alloc(640 * 480 * 3, 100), width: 640, height: 480, format: 'bgr' };
  await preprocessFrame(validateRawFrame(still), spec, tensor);
  const depth = engine.info.concurrency + 1;

  const detectRates = [];
  const rawRates = [];
  const ratios = [];
  const cpuShares = [];
  pipeline.stats();
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['detect', 'raw'] : ['raw', 'detect'];
    const rates = {};
    for (const mode of order) {
      if (mode === 'detect') {
        detecting = true;
        await sleep(1000); // let the raw phase's last calls finish
        const before = [...processed.values()].reduce((a, b) => a + b, 0);
        counting = true;
        const t0 = performance.now();
        await sleep(roundSeconds * 1000);
        counting = false;
        const after = [...processed.values()].reduce((a, b) => a + b, 0);
        rates.detect = (after - before) / ((performance.now() - t0) / 1000);
      } else {
        detecting = false;
        await sleep(1000);
        let calls = 0;
        const t0 = performance.now();
        const deadline = t0 + roundSeconds * 1000;
        const lane = async () => {
          while (performance.now() < deadline) {
            await engine.infer(tensor);
            calls++;
          }
        };
        await Promise.all(Array.from({ length: depth }, lane));
        rates.raw = calls / ((performance.now() - t0) / 1000);
      }
    }
    cpuShares.push(pipeline.stats().decoderCpuShare);
    detectRates.push(rates.detect);
    rawRates.push(rates.raw);
    ratios.push(rates.detect / rates.raw);
    process.stderr.write(`round ${r + 1}/${rounds}: detect ${fmt(rates.detect)} /s, raw ${fmt(rates.raw)} /s, ratio ${fmt(rates.detect / rates.raw, 3)}\n`);
  }
  const final = pipeline.stats();
  await pipeline.dispose();
  const perStream = final.streams.map((s) => ({ stream: s.stream, processed: processed.get(s.stream), dropped: s.dropped, fpsIn: s.framesIn }));
  const counts = perStream.map((s) => s.processed);
  return {
    detect: median(detectRates),
    raw: median(rawRates),
    ratio: median(ratios),
    ratios,
    perStream,
    evenness: Math.min(...counts) / Math.max(...counts),
    decoderCpuShare: median(cpuShares),
    depth,
  };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'int8-detect-bench-video-'));
  const cpu = cpuInfo();
  let server;
  try {
    execFileSync('bash', [path.join(__dirname, 'make-test-video.sh'), '--out', dir, '--images', '16', '--seconds', '2', '--fps', '15', '--size', '640x480'], { stdio: 'ignore' });
    const mounts = {};
    for (let i = 0; i < Math.max(streams, heavyStreams); i++) mounts[`cam${i}`] = path.join(dir, 'slideshow.h264');
    server = await startRtspServer({ mounts });
    const engine = await createEngine({ model: values.model, backend: 'onnxruntime' });
    console.log(`cpu     ${cpu.model}, ${cpu.cores} threads: ${cpu.int8Summary}`);
    console.log(`model   ${engine.info.model.path} (${engine.info.model.family}, ${engine.info.precision}) on ${engine.info.backend}, concurrency ${engine.info.concurrency}`);
    console.log(`streams 640x480 H.264 at 15 fps over RTSP/TCP from 127.0.0.1 (GStreamer rtsp-server, pre-encoded), decoded by ffmpeg to NV12\n`);

    process.stderr.write(`part 1: ${streams} streams for ${minutes} min after ${warmupSeconds} s warm-up\n`);
    const one = await partOne(engine, server);
    console.log(`part 1: ${streams} streams, latest-frame policy, ${fmt(one.seconds, 0)} s counted after ${warmupSeconds} s warm-up`);
    console.log(`${'stream'.padEnd(8)} ${'fps in'.padStart(7)} ${'fps done'.padStart(8)} ${'dropped'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'reconn'.padStart(6)}`);
    for (const r of one.rows) {
      console.log(`${r.stream.padEnd(8)} ${fmt(r.fpsIn).padStart(7)} ${fmt(r.fpsProcessed).padStart(8)} ${String(r.dropped).padStart(8)} ${fmt(r.p50, 0).padStart(7)} ${fmt(r.p99, 0).padStart(7)} ${String(r.reconnects).padStart(6)}`);
    }
    console.log(`largest queue ${one.maxQueued}; RSS ${fmt(one.rssAtWarmMb)} MB after warm-up, ${fmt(one.rssEndMb)} MB at the end, max ${fmt(one.rssMaxMb)} MB (growth ${fmt(one.rssMaxMb - one.rssAtWarmMb)} MB)`);
    console.log(`decoders: ${fmt(one.decoderCpu * 100, 0)} % of one core (${fmt((one.decoderCpu / one.cores) * 100, 1)} % of the machine's ${one.cores})\n`);

    process.stderr.write(`part 2: ${heavyStreams} streams, ${rounds} interleaved rounds of ${roundSeconds} s per mode\n`);
    const two = await partTwo(engine, server);
    console.log(`part 2: ${heavyStreams} streams, more than the machine infers; ${rounds} interleaved rounds x ${roundSeconds} s per mode, decoders running throughout`);
    console.log(`detections/s ${fmt(two.detect)} vs raw inference/s ${fmt(two.raw)} (depth ${two.depth}) beside the same decoders: ratio ${fmt(two.ratio, 3)} (median of per-round ratios ${two.ratios.map((r) => fmt(r, 3)).join(', ')})`);
    console.log(`per stream processed: ${two.perStream.map((s) => `${s.stream} ${s.processed}`).join(', ')}; evenness (min/max) ${fmt(two.evenness, 3)}`);
    console.log(`per stream dropped: ${two.perStream.map((s) => `${s.stream} ${s.dropped}`).join(', ')}`);
    console.log(`decoders: ${fmt(two.decoderCpuShare * 100, 1)} % of the machine's CPU`);
    console.log(JSON.stringify({ cpu: { model: cpu.model, cores: cpu.cores, int8: cpu.int8Summary }, partOne: one, partTwo: two }));
    await engine.dispose();
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
