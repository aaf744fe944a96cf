#!/usr/bin/env node
// RSS over many detect() calls on one engine:
// `node scripts/soak-detect.js [--model M] [--calls N] [--backend openvino|onnxruntime] [--concurrency N]`.
// Decoded 640x480 frames from the fixtures are cycled, four calls in flight; RSS is read after a
// full GC (run node with --expose-gc to get it) once warm and at the end.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const sharp = require('sharp');
const { createEngine } = require('../dist/lib/engine');
const { config } = require('../dist/lib/util/config');
const { cpuInfo } = require('../dist/lib/hardware/cpu');

async function main() {
  const { values } = parseArgs({ options: { model: { type: 'string' }, calls: { type: 'string' }, warmup: { type: 'string' }, backend: { type: 'string' }, concurrency: { type: 'string' } } });
  const model = values.model ?? path.join(config.fixturesDir, 'models', 'yolox_nano.onnx');
  const calls = Number(values.calls ?? 10000);
  const warmup = Number(values.warmup ?? 500);
  const imagesDir = path.join(config.fixturesDir, 'coco', 'eval', 'images');
  const files = fs.readdirSync(imagesDir).sort().slice(0, 8);
  const frames = await Promise.all(
    files.map(async (f) => {
      const { data, info } = await sharp(path.join(imagesDir, f)).resize(640, 480, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, format: 'rgb' };
    }),
  );
  const rss = () => {
    if (global.gc) global.gc();
    return process.memoryUsage().rss / 2 ** 20;
  };
  const engine = await createEngine({
    model,
    ...(values.backend !== undefined ? { backend: values.backend } : {}),
    ...(values.concurrency !== undefined ? { concurrency: Number(values.concurrency) } : {}),
  });
  let next = 0;
  const run = async (count) => {
    const end = next + count;
    const lane = async () => {
      while (next < end) await engine.detect(frames[next++ % frames.length]);
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
  };
  const started = Date.now();
  await run(warmup);
  const warm = rss();
  const samples = [];
  for (let done = 0; done < calls; done += 1000) {
    await run(Math.min(1000, calls - done));
    samples.push(rss().toFixed(1));
  }
  const end = rss();
  await engine.dispose();
  const cpu = cpuInfo();
  console.log(`${path.basename(model)} on ${engine.info.backend}/${engine.info.device}: ${calls} detect() calls after ${warmup} warm-up, ${((Date.now() - started) / 1000).toFixed(0)} s; cpu ${cpu.model} (${cpu.int8Summary})`);
  console.log(`RSS after warm-up ${warm.toFixed(1)} MB, at end ${end.toFixed(1)} MB, growth ${(end - warm).toFixed(1)} MB${global.gc ? '' : ' (no --expose-gc: includes garbage not yet collected)'}`);
  console.log(`RSS every 1000 calls: ${samples.join(' ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
