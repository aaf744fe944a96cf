#!/usr/bin/env node
/**
 * Load test of `int8-detect serve` (not part of the suite: it runs for a minute and more). Build
 * first (npm run build:ts), then:
 *
 *   node scripts/load-serve.js [--seconds 60] [--warmup 15] [--cameras 4] [--clients 20] [--concurrency 2] [--model M]
 *
 * The server runs as the CLI does, in its own process, with `--cameras` cameras on the test RTSP
 * server (scripts/rtsp-server.py, 640x480 at 15 fps); `--clients` clients post COCO eval images to
 * /v1/detect back to back for `--seconds`. Reported: p50/p99 of the HTTP requests and of the
 * streams' frame-to-detection latency (from the server's detections events, after the warm-up),
 * error responses, the server's RSS growth after the warm-up, /metrics read by a strict
 * Prometheus text-format parser; then SIGTERM under the same load: the exit code, and whether any
 * of the server's child processes (the decoders) is left.
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const dist = path.resolve(__dirname, '..', 'dist');
const { percentile } = require(path.join(dist, 'lib', 'util', 'statistics'));
const { cpuInfo } = require(path.join(dist, 'lib', 'hardware', 'cpu'));
const { config } = require(path.join(dist, 'lib', 'util', 'config'));
const { makeTestMedia, startRtspServer, freePort } = require(path.join(dist, 'test', 'helpers', 'video'));
const { childPids, processRunning } = require(path.join(dist, 'test', 'helpers', 'serve'));
const { parsePrometheusText } = require(path.join(dist, 'test', 'helpers', 'prometheus-text'));

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '15' },
    cameras: { type: 'string', default: '4' },
    clients: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '2' },
    model: { type: 'string', default: path.join(config.fixturesDir, 'models', 'yolox_nano.onnx') },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const cameras = Number(values.cameras);
const clients = Number(values.clients);
const TOKEN = `load-test-${process.pid}-token`;
const auth = { authorization: `Bearer ${TOKEN}` };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const quantiles = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] };
};

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Detections events from /v1/events: each carries its frame-to-detection latency. */
function listenToDetections(base, onEvent) {
  const request = http.get(`${base}/v1/events?types=detections`, { headers: auth }, (res) => {
    res.setEncoding('utf8');
    let pending = '';
    res.on('data', (chunk) => {
      pending += chunk;
      let end;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const data = pending.slice(0, end).split('\n').find((l) => l.startsWith('data: '));
        pending = pending.slice(end + 2);
        if (data) onEvent(JSON.parse(data.slice(6)));
      }
    });
  });
  request.on('error', () => undefined);
  return request;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'int8-detect-load-'));
  const media = await makeTestMedia(dir, 8, 1);
  const mounts = Object.fromEntries(Array.from({ length: cameras }, (_, i) => [`cam${i}`, media.slideshow]));
  const rtsp = await startRtspServer({ mounts });
  const port = await freePort();
  // The token goes through a file, as a deployment would keep it: never on a command line.
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
  const args = [path.join(dist, 'lib', 'cli', 'main.js'), 'serve', '--model', values.model, '--backend', 'onnxruntime', '--concurrency', values.concurrency, '--port', String(port), '--log-level', 'warn', '--token-file', tokenFile];
  for (let i = 0; i < cameras; i++) args.push('--camera', rtsp.url(`cam${i}`));
  const server = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout.on('data', (c) => (output += c));
  server.stderr.on('data', (c) => (output += c));
  const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let ready = false; !ready; await sleep(250)) {
      if (server.exitCode !== null) throw new Error(`serve exited: ${output}`);
      try {
        const r = await fetch(`${base}/v1/streams`, { headers: auth });
        if (r.ok) ready = (await r.json()).streams.filter((s) => s.state === 'connected').length === cameras;
      } catch {
        // not listening yet
      }
    }
    const images = readdirSync(path.join(config.fixturesDir, 'coco', 'eval', 'images')).sort().slice(0, 40).map((f) => readFileSync(path.join(config.fixturesDir, 'coco', 'eval', 'images', f)));
    const started = Date.now();
    const warmEnd = started + warmup * 1000;
    const end = warmEnd + seconds * 1000;
    const streamLatency = new Map();
    const sse = listenToDetections(base, (e) => {
      if (Date.now() < warmEnd || Date.now() > end) return;
      if (!streamLatency.has(e.stream)) streamLatency.set(e.stream, []);
      streamLatency.get(e.stream).push(e.latencyMs);
    });
    const httpLatency = [];
    const errors = new Map();
    let next = 0;
    let stop = false;
    const load = Array.from({ length: clients }, async () => {
      while (!stop) {
        const body = images[next++ % images.length];
        const t0 = performance.now();
        let status;
        try {
          const r = await fetch(`${base}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body });
          await r.arrayBuffer();
          status = r.status;
        } catch (err) {
          status = err.cause?.code ?? err.message;
        }
        const now = Date.now();
        if (now >= warmEnd && now <= end) {
          if (status === 200) httpLatency.push(performance.now() - t0);
          else errors.set(status, (errors.get(status) ?? 0) + 1);
        }
      }
    });
    // The process's RSS every second, and the JavaScript heap and external memory from /metrics
    // at the end of the warm-up and at the end, to tell a leak from native caches filling up.
    const heap = async () => {
      const families = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
      const value = (name) => families.find((f) => f.name === name)?.samples[0]?.value / 2 ** 20;
      return { used: value('nodejs_heap_size_used_bytes'), external: value('nodejs_external_memory_bytes') };
    };
    const rss = [];
    let heapAtWarm;
    while (Date.now() < end) {
      await sleep(1000);
      rss.push({ t: Date.now(), mib: rssMiB(server.pid) });
      if (!heapAtWarm && Date.now() >= warmEnd) heapAtWarm = await heap();
    }
    const heapAtEnd = await heap();
    const atWarm = rss.find((r) => r.t >= warmEnd) ?? rss[0];
    const last = rss[rss.length - 1];
    const metricsText = await (await fetch(`${base}/metrics`)).text();
    let metricsSummary;
    try {
      const families = parsePrometheusText(metricsText);
      const get = (name) => families.find((f) => f.name === name);
      const inference = get('int8_detect_inference_seconds').samples.filter((s) => s.name.endsWith('_count'));
      metricsSummary = `parsed: ${families.length} families, ${families.reduce((a, f) => a + f.samples.length, 0)} samples; inference count ${inference.map((s) => `${s.labels.source}=${s.value}`).join(' ')}`;
    } catch (err) {
      metricsSummary = `FAILED to parse: ${err.message}`;
    }

    // SIGTERM under the same load.
    const decoders = childPids(server.pid);
    const sigterm = Date.now();
    server.kill('SIGTERM');
    const exit = await Promise.race([exited, sleep(30_000).then(() => ({ code: 'timeout' }))]);
    const exitMs = Date.now() - sigterm;
    stop = true;
    await Promise.all(load);
    sse.destroy();
    const left = decoders.filter(processRunning);

    const h = quantiles(httpLatency);
    const all = quantiles([...streamLatency.values()].flat());
    const cpu = cpuInfo();
    console.log(`CPU: ${cpu.model}, ${cpu.cores} logical cores; ${cpu.int8Summary}`);
    console.log(`load: ${cameras} RTSP cameras (640x480, 15 fps) + ${clients} clients posting COCO images to /v1/detect, ${seconds} s after a ${warmup} s warm-up; engine concurrency ${values.concurrency}`);
    console.log(`HTTP /v1/detect: ${h.n} answered 200 (${fmt(h.n / seconds, 1)}/s), p50 ${fmt(h.p50)} ms, p99 ${fmt(h.p99)} ms, max ${fmt(h.max)} ms`);
    console.log(`error responses: ${errors.size === 0 ? 0 : [...errors].map(([k, v]) => `${k} x${v}`).join(', ')}`);
    console.log(`streams, frame-to-detection latency: p50 ${fmt(all.p50)} ms, p99 ${fmt(all.p99)} ms over ${all.n} frames (${fmt(all.n / seconds, 1)} frames/s processed in all)`);
    for (const [stream, xs] of [...streamLatency].sort()) {
      const q = quantiles(xs);
      console.log(`  ${stream}: ${fmt(q.n / seconds, 1)} fps processed, p50 ${fmt(q.p50)} ms, p99 ${fmt(q.p99)} ms`);
    }
    console.log(`server RSS: ${fmt(atWarm.mib, 1)} MiB after the warm-up, ${fmt(last.mib, 1)} MiB at the end: growth ${fmt(last.mib - atWarm.mib, 1)} MiB (max ${fmt(Math.max(...rss.map((r) => r.mib)), 1)} MiB)`);
    const trajectory = rss.filter((r, i) => r.t >= warmEnd && (i % 10 === 0 || i === rss.length - 1)).map((r) => `${fmt((r.t - warmEnd) / 1000)}s ${fmt(r.mib, 1)}`);
    console.log(`server RSS after the warm-up, MiB: ${trajectory.join(', ')}`);
    console.log(`server JS heap used: ${fmt(heapAtWarm.used, 1)} -> ${fmt(heapAtEnd.used, 1)} MiB; external (Buffers): ${fmt(heapAtWarm.external, 1)} -> ${fmt(heapAtEnd.external, 1)} MiB`);
    console.log(`/metrics: ${metricsSummary}`);
    console.log(`SIGTERM under load: exit ${JSON.stringify(exit)} after ${exitMs} ms; decoders before: ${decoders.length}, left after: ${left.length}`);
    if (output.includes(TOKEN)) console.log('WARNING: the token appeared in the server output');
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    await rtsp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
