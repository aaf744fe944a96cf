#!/usr/bin/env node
/**
 * The video pipeline's `batch` against one frame per inference, side by side: `--streams` file
 * sources (a 15 fps slideshow of COCO images, keep-all, so inference is the bottleneck), rounds
 * alternating between a pipeline with `batch: N` (an engine made with createEngine({ batch: N }))
 * and one with batch 1 (the same engine settings otherwise), each run for `--round-seconds`.
 * Reported: aggregate frames/s of each, per round, and the median of the per-round ratios.
 * Build first (npm run build:ts), then:
 *
 *   node scripts/bench-video-batch.js [--streams 8] [--batch 4] [--rounds 5] [--round-seconds 20] [--backend onnxruntime] [--model M]
 */
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const dist = path.resolve(__dirname, '..', 'dist');
const { createEngine } = require(path.join(dist, 'lib', 'engine'));
const { createPipeline } = require(path.join(dist, 'lib', 'video', 'pipeline'));
const { cpuInfo } = require(path.join(dist, 'lib', 'hardware', 'cpu'));
const { config } = require(path.join(dist, 'lib', 'util', 'config'));
const { median } = require(path.join(dist, 'lib', 'util', 'statistics'));
const { makeTestMedia } = require(path.join(dist, 'test', 'helpers', 'video'));

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '8' },
    batch: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '5' },
    'round-seconds': { type: 'string', default: '20' },
    backend: { type: 'string', default: 'onnxruntime' },
    model: { type: 'string', default: path.join(config.fixturesDir, 'models', 'yolox_nano.onnx') },
  },
});
const streams = Number(values.streams);
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const roundSeconds = Number(values['round-seconds']);

async function run(engine, media, pipelineBatch) {
  const sources = Array.from({ length: streams }, (_, i) => ({ url: media.slideshow, id: `s${i}`, inputArgs: ['-stream_loop', '-1', '-framerate', '15'], connectTimeoutMs: 60000, stallTimeoutMs: 60000 }));
  const pipeline = createPipeline({ engine, sources, dropPolicy: 'keep-all', batch: pipelineBatch, statsIntervalMs: 0 });
  let processed = 0;
  let started = 0;
  pipeline.on('detections', () => {
    if (started === 0) started = Date.now();
    processed++;
  });
  // The clock starts at the first detection: decoder start-up is not inference throughput.
  while (started === 0) await new Promise((r) => setTimeout(r, 50));
  const from = processed;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, roundSeconds * 1000));
  const fps = (processed - from) / ((Date.now() - t0) / 1000);
  const info = pipeline.info;
  await pipeline.dispose();
  return { fps, batching: info.batching };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'int8-detect-video-batch-'));
  try {
    const media = await makeTestMedia(dir, 4, 2);
    const one = await createEngine({ model: values.model, backend: values.backend });
    const many = await createEngine({ model: values.model, backend: values.backend, batch });
    const cpu = cpuInfo();
    console.log(`cpu: ${cpu.model}, ${cpu.cores} threads: ${cpu.int8Summary}`);
    console.log(`model ${values.model} on ${one.info.backend} (${one.info.precision}); ${streams} file streams (keep-all), ${rounds} interleaved rounds of ${roundSeconds} s`);
    const ratios = [];
    const fpsOne = [];
    const fpsMany = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['one', 'many'] : ['many', 'one'];
      const got = {};
      for (const which of order) got[which] = await run(which === 'one' ? one : many, media, which === 'one' ? 1 : batch);
      fpsOne.push(got.one.fps);
      fpsMany.push(got.many.fps);
      ratios.push(got.many.fps / got.one.fps);
      console.log(`round ${r + 1}: batch 1 ${got.one.fps.toFixed(2)} frames/s, batch ${batch} ${got.many.fps.toFixed(2)} frames/s (${got.many.batching})`);
    }
    console.log(`median: batch 1 ${median(fpsOne).toFixed(2)} frames/s, batch ${batch} ${median(fpsMany).toFixed(2)} frames/s; batch ${batch} / batch 1 ${median(ratios).toFixed(3)} (median of per-round ratios)`);
    await one.dispose();
    await many.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
