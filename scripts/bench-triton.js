#!/usr/bin/env node
/**
 * YOLOX-Nano INT8 through Triton Inference Server against the local engine, on the same CPU.
 * Needs npm run setup:triton and a build (npm run build:ts). Then:
 *
 *   node scripts/bench-triton.js [--clients 8] [--rounds 5] [--frames 48] [--serial 20] [--model M] [--calib DIR]
 *                                [--max-batch 8] [--instances 1] [--threads 0] [--queue-delay-us 500] [--json]
 *
 * The model is exported with `export --triton --backend python` (INT8 from createEngine's cache,
 * batch made dynamic, Triton's dynamic batcher on) and served by tritonserver on free ports of
 * 127.0.0.1; the local engine runs the same INT8 model (the same cache entry) on ONNX Runtime.
 *
 * Throughput: `--clients` callers keep one detect() each in flight (decoded frames, so image
 * decoding is not measured), for `--frames` frames per mode per round. Modes, in rotated order
 * each round: local (concurrency 1), local (concurrency 2), Triton over HTTP (binary tensors),
 * Triton over gRPC (engines with concurrency = clients). Reported: the median over rounds of
 * frames/s, and the batch sizes Triton formed (its statistics: inferences / executions).
 *
 * Protocol overhead per frame: one raw inference at a time (engine.infer on a preprocessed
 * tensor), the client's round trip minus the time Triton itself reports for the request (its
 * statistics endpoint: request received to response sent, queueing and the model included), so
 * what remains is serialising, the transport and parsing, both ends. Median over rounds of the
 * per-round mean, beside the local engine's raw inference time.
 */
const { mkdtempSync, rmSync } = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { parseArgs } = require('node:util');

const dist = path.resolve(__dirname, '..', 'dist');
const { createEngine } = require(path.join(dist, 'lib', 'engine'));
const { cpuInfo } = require(path.join(dist, 'lib', 'hardware', 'cpu'));
const { config } = require(path.join(dist, 'lib', 'util', 'config'));
const { median } = require(path.join(dist, 'lib', 'util', 'statistics'));
const { decodeImage } = require(path.join(dist, 'lib', 'image', 'decode'));
const { listImages } = require(path.join(dist, 'lib', 'util', 'files'));
const { preprocessFrame, tensorSize } = require(path.join(dist, 'lib', 'detect', 'preprocess'));
const { validateRawFrame } = require(path.join(dist, 'lib', 'image', 'frame'));
const { exportToTriton } = require(path.join(dist, 'lib', 'cli', 'commands', 'export'));
const { startTriton, tritonSkipReason } = require(path.join(dist, 'test', 'helpers', 'triton'));

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' },
    frames: { type: 'string', default: '48' },
    serial: { type: 'string', default: '20' },
    model: { type: 'string', default: path.join(config.fixturesDir, 'models', 'yolox_nano.onnx') },
    calib: { type: 'string', default: path.join(config.fixturesDir, 'coco', 'calib') },
    images: { type: 'string', default: path.join(config.fixturesDir, 'coco', 'eval', 'images') },
    'max-batch': { type: 'string', default: '8' },
    instances: { type: 'string', default: '1' },
    threads: { type: 'string', default: '0' },
    'queue-delay-us': { type: 'string', default: '500' },
    json: { type: 'boolean', default: false },
  },
});
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const framesPerRound = Number(values.frames);
const serialCalls = Number(values.serial);
const log = (text) => process.stderr.write(`${text}\n`);

function getJson(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${url}: ${res.statusCode} ${body}`))));
      })
      .on('error', reject);
  });
}

/** Triton's cumulative counters for the model: requests, their total ns, executions (batches). */
async function serverStats(server, model) {
  const stats = (await getJson(`${server.httpUrl}/v2/models/${model}/stats`)).model_stats[0];
  return { requests: Number(stats.inference_stats.success.count), requestNs: Number(stats.inference_stats.success.ns), inferences: Number(stats.inference_count), executions: Number(stats.execution_count) };
}

async function throughput(engine, frames) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < framesPerRound) {
        const i = next++;
        await engine.detect(frames[i % frames.length]);
      }
    }),
  );
  return framesPerRound / ((performance.now() - started) / 1000);
}

async function serialInfer(engine, tensor) {
  const started = performance.now();
  for (let i = 0; i < serialCalls; i++) await engine.infer(tensor);
  return (performance.now() - started) / serialCalls;
}

async function main() {
  const skip = tritonSkipReason();
  if (skip) throw new Error(skip);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'int8-detect-bench-triton-'));
  let server;
  const engines = [];
  try {
    log('exporting (INT8 from the cache, or quantized now) ...');
    const exported = await exportToTriton({
      repository: path.join(dir, 'repo'),
      model: values.model,
      flavour: 'python',
      calibration: values.calib,
      maxBatch: Number(values['max-batch']),
      instances: Number(values.instances),
      threads: Number(values.threads),
      maxQueueDelayMicroseconds: Number(values['queue-delay-us']),
    });
    server = await startTriton(path.join(dir, 'repo'));
    const name = exported.name;
    const open = async (label, options) => {
      const engine = await createEngine(options);
      engines.push(engine);
      return { label, engine };
    };
    const local1 = await open('local, concurrency 1', { model: values.model, backend: 'onnxruntime', precision: 'int8', calibrator: values.calib });
    const local2 = await open('local, concurrency 2', { model: values.model, backend: 'onnxruntime', precision: 'int8', calibrator: values.calib, concurrency: 2 });
    const viaHttp = await open('Triton, HTTP binary', { backend: 'triton', model: name, concurrency: clients, triton: { url: server.httpUrl } });
    const viaGrpc = await open('Triton, gRPC', { backend: 'triton', model: name, concurrency: clients, triton: { url: server.grpcUrl } });
    const modes = [local1, local2, viaHttp, viaGrpc];

    const paths = (await listImages(values.images)).slice(0, 16);
    const frames = [];
    for (const p of paths) frames.push(await decodeImage(p));
    const spec = local1.engine.info.preprocess;
    const tensor = new Float32Array(tensorSize(spec));
    await preprocessFrame(validateRawFrame(frames[0]), spec, tensor);
    // Warm-up: every mode, and Triton's first batches.
    for (const mode of modes) {
      await throughput(mode.engine, frames);
      await serialInfer(mode.engine, tensor);
    }

    const fps = new Map(modes.map((m) => [m.label, []]));
    const batch = new Map([[viaHttp.label, []], [viaGrpc.label, []]]);
    const overhead = new Map([[viaHttp.label, []], [viaGrpc.label, []]]);
    const serverMs = new Map([[viaHttp.label, []], [viaGrpc.label, []]]);
    const clientMs = new Map([[viaHttp.label, []], [viaGrpc.label, []], [local1.label, []]]);
    for (let round = 0; round < rounds; round++) {
      const order = modes.map((_, i) => modes[(i + round) % modes.length]);
      for (const mode of order) {
        const remote = batch.has(mode.label);
        const before = remote ? await serverStats(server, name) : undefined;
        fps.get(mode.label).push(await throughput(mode.engine, frames));
        if (remote) {
          const after = await serverStats(server, name);
          batch.get(mode.label).push((after.inferences - before.inferences) / Math.max(1, after.executions - before.executions));
        }
      }
      for (const mode of [local1, viaHttp, viaGrpc]) {
        const remote = overhead.has(mode.label);
        const before = remote ? await serverStats(server, name) : undefined;
        const client = await serialInfer(mode.engine, tensor);
        clientMs.get(mode.label).push(client);
        if (remote) {
          const after = await serverStats(server, name);
          const inServer = (after.requestNs - before.requestNs) / 1e6 / (after.requests - before.requests);
          serverMs.get(mode.label).push(inServer);
          overhead.get(mode.label).push(client - inServer);
        }
      }
      log(`round ${round + 1}/${rounds}: ${modes.map((m) => `${m.label} ${fps.get(m.label).at(-1).toFixed(1)} fps`).join(', ')}`);
    }

    const cpu = cpuInfo();
    const result = {
      cpu: { model: cpu.model, cores: os.availableParallelism(), int8: cpu.int8Summary },
      model: path.basename(values.model),
      clients,
      rounds,
      framesPerRound,
      maxBatch: Number(values['max-batch']),
      instances: Number(values.instances),
      threadsPerInstance: Number(values.threads),
      queueDelayUs: Number(values['queue-delay-us']),
      throughput: Object.fromEntries(modes.map((m) => [m.label, { fps: median(fps.get(m.label)), rounds: fps.get(m.label) }])),
      tritonBatch: Object.fromEntries([...batch].map(([k, v]) => [k, median(v)])),
      serial: Object.fromEntries([...clientMs].map(([k, v]) => [k, { clientMs: median(v), ...(serverMs.has(k) ? { serverMs: median(serverMs.get(k)), overheadMs: median(overhead.get(k)) } : {}) }])),
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const lines = [
      `CPU: ${result.cpu.model}, ${result.cpu.cores} cores (${result.cpu.int8})`,
      `${result.model} INT8, ${clients} clients, ${framesPerRound} frames per mode per round, median of ${rounds} interleaved rounds`,
      `Triton: python backend (ONNX Runtime), max batch ${result.maxBatch}, queue delay ${result.queueDelayUs} us, ${result.instances} instance(s) x ${result.threadsPerInstance || 'default'} thread(s)`,
      '',
      'throughput (detect(), frames/s)',
      ...modes.map((m) => `  ${m.label.padEnd(22)} ${result.throughput[m.label].fps.toFixed(1).padStart(7)}${result.tritonBatch[m.label] ? `   mean batch Triton formed: ${result.tritonBatch[m.label].toFixed(2)}` : ''}`),
      '',
      `one raw inference at a time (engine.infer, ${serialCalls} calls per round), ms per frame`,
      ...Object.entries(result.serial).map(([k, v]) => `  ${k.padEnd(22)} round trip ${v.clientMs.toFixed(2).padStart(7)}${v.serverMs !== undefined ? `   in Triton ${v.serverMs.toFixed(2).padStart(7)}   protocol overhead ${v.overheadMs.toFixed(2).padStart(6)}` : ''}`),
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    await Promise.all(engines.map((e) => e.dispose()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench-triton: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
