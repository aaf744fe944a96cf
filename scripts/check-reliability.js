#!/usr/bin/env node
// How often the label-free check is right: each INT8 model's estimated mAP drop on many random
// sets of frames, beside its true drop on labelled images, under the check's scoring with and
// without FP32's unsure boxes as ignore regions. Detections are made once per model and frame;
// the sets are rescored (seeded). Give INT8 models made with --no-search (a searched model was
// chosen on the very frames that judge it). Needs the built library.
//   node scripts/check-reliability.js --model FP32.onnx --int8 A.int8.onnx --int8 B.int8.onnx \
//     --frames DIR [--eval-images DIR --annotations instances.json] [--size 32,64] [--sets 150] \
//     [--max-drop 0.01] [--backend onnxruntime]
// The pool is the --frames images plus the --eval-images ones; the true drop needs --annotations.
// Each size draws its sets from the same seed, so the 32-frame sets are the heads of the 64-frame
// ones: the rows compare sizes and scorings on the same draws, not independent samples.
'use strict';
const { promises: fs } = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

const dist = path.resolve(__dirname, '..', 'dist', 'lib');
const { createEngine } = require(path.join(dist, 'engine.js'));
const { decodeImage } = require(path.join(dist, 'image', 'decode.js'));
const { listImages } = require(path.join(dist, 'util', 'files.js'));
const { COCO_EVAL_DETECT_OPTIONS } = require(path.join(dist, 'detect', 'coco-options.js'));
const { agreementMetrics } = require(path.join(dist, 'quantize', 'agreement.js'));
const { estimatedDrop, shiftedBack, shiftFrame } = require(path.join(dist, 'quantize', 'mixed-precision.js'));
const { evaluate, loadCocoDataset, toCocoDetections, categoryIdsByIndex } = require(path.join(dist, 'eval', 'coco.js'));
const { cpuInfo } = require(path.join(dist, 'hardware', 'cpu.js'));
const { seededRandom, shuffledWith } = require(path.join(dist, 'util', 'random.js'));

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    int8: { type: 'string', multiple: true },
    frames: { type: 'string' },
    'eval-images': { type: 'string' },
    annotations: { type: 'string' },
    size: { type: 'string', default: '32,64' },
    sets: { type: 'string', default: '150' },
    'max-drop': { type: 'string', default: '0.01' },
    backend: { type: 'string', default: 'onnxruntime' },
  },
});
if (!values.model || !values.int8 || !values.frames) {
  console.error('usage: node scripts/check-reliability.js --model FP32.onnx --int8 A.int8.onnx [--int8 ...] --frames DIR [--eval-images DIR --annotations F]');
  process.exit(2);
}
const sizes = values.size.split(',').map(Number);
const sets = Number(values.sets);
const maxDrop = Number(values['max-drop']);
if (!sizes.every((n) => Number.isInteger(n) && n >= 1)) usage(`--size takes positive integers separated by commas, not ${values.size}`);
if (!Number.isInteger(sets) || sets < 1) usage(`--sets takes a positive integer, not ${values.sets}`);
if (!(maxDrop >= 0 && maxDrop <= 1)) usage(`--max-drop takes a number from 0 to 1, not ${values['max-drop']}`);
if (values.annotations && !values['eval-images']) usage('--annotations needs --eval-images (the folder its file_name entries are in)');

function usage(message) {
  console.error(message);
  process.exit(2);
}

/** Every frame of the pool, decoded once, and the labelled ones' COCO image ids. */
async function loadPool() {
  const files = (await listImages(values.frames)).map((file) => ({ file }));
  let dataset;
  if (values['eval-images']) {
    dataset = values.annotations ? await loadCocoDataset(values.annotations) : undefined;
    const names = dataset ? dataset.images.map((im) => ({ file: path.join(values['eval-images'], im.file_name), imageId: im.id })) : (await listImages(values['eval-images'])).map((file) => ({ file }));
    files.push(...names);
  }
  const frames = [];
  for (const f of files) frames.push({ ...f, frame: await decodeImage(f.file) });
  return { frames, dataset };
}

async function detectAll(model, frames, shifted = false) {
  const engine = await createEngine({ model, backend: values.backend });
  try {
    const out = [];
    for (const { frame } of frames) {
      if (!shifted) {
        out.push(await engine.detect(frame, COCO_EVAL_DETECT_OPTIONS));
        continue;
      }
      // FP32 on the frame moved by one pixel, boxes moved back: the check's floor.
      out.push(shiftedBack(await engine.detect(shiftFrame(frame), COCO_EVAL_DETECT_OPTIONS)));
    }
    return { detections: out, labels: engine.info.labels.length };
  } finally {
    await engine.dispose();
  }
}

function trueMap(detections, frames, dataset) {
  const categoryIds = categoryIdsByIndex(dataset);
  const results = [];
  frames.forEach((f, i) => {
    if (f.imageId !== undefined) results.push(...toCocoDetections(f.imageId, detections[i], categoryIds));
  });
  return evaluate(results, dataset).mAP;
}

/** Seeded random subsets of the pool: the same pool gives the same sets. */
function randomSets(poolSize, size, count) {
  const random = seededRandom(0x9e3779b9);
  return Array.from({ length: count }, () => shuffledWith([...Array(poolSize).keys()], random).slice(0, size));
}

const quantile = (sorted, q) => sorted[Math.round(q * (sorted.length - 1))];

async function main() {
  const cpu = cpuInfo();
  console.log(`cpu: ${cpu.model}, ${cpu.int8Summary}; backend ${values.backend}`);
  const { frames, dataset } = await loadPool();
  const reference = await detectAll(values.model, frames);
  const floor = await detectAll(values.model, frames, true);
  const fp32Map = dataset ? trueMap(reference.detections, frames, dataset) : undefined;
  const boxes = frames.map((f) => ({ width: f.frame.width, height: f.frame.height }));
  console.log(`pool: ${frames.length} frames${fp32Map === undefined ? '' : `; FP32 mAP ${fp32Map.toFixed(4)} on the ${dataset.images.length} labelled ones`}`);
  const scorings = { old: { uncertainThreshold: 0 }, new: {} };
  for (const model of values.int8) {
    const candidate = await detectAll(model, frames);
    const drop = fp32Map === undefined ? '' : `true drop ${((fp32Map - trueMap(candidate.detections, frames, dataset)) * 100).toFixed(2)} points`;
    console.log(`\n${path.basename(model)}: ${drop}`);
    for (const size of sizes) {
      if (size >= frames.length) {
        // Every set would be the whole pool: one estimate, no rate.
        console.log(`  ${size} frames: the pool has only ${frames.length}, skipped`);
        continue;
      }
      for (const [name, options] of Object.entries(scorings)) {
        const estimates = randomSets(frames.length, size, sets)
          .map((set) => {
            const take = (list) => set.map((i) => list[i]);
            const agreement = agreementMetrics(take(reference.detections), take(candidate.detections), take(boxes), reference.labels, options).AP50;
            const shifted = agreementMetrics(take(reference.detections), take(floor.detections), take(boxes), reference.labels, options).AP50;
            return estimatedDrop(agreement, shifted) * 100;
          })
          .sort((a, b) => a - b);
        const failed = estimates.filter((e) => e > maxDrop * 100).length / estimates.length;
        console.log(
          `  ${String(size).padStart(3)} frames, ${name} scoring: estimated drop median ${quantile(estimates, 0.5).toFixed(2)} ` +
            `[10 %: ${quantile(estimates, 0.1).toFixed(2)}, 90 %: ${quantile(estimates, 0.9).toFixed(2)}] points; fails at max-drop ${maxDrop}: ${(failed * 100).toFixed(0)} % of ${sets} sets`,
        );
      }
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
