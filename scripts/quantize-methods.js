#!/usr/bin/env node
// Calibrates a model once, then scores FP32 and the Q/DQ model of every range method and
// activation mode on a labelled COCO set, side by side, with the INT8 MAC fraction of each.
// Needs the built library (npm run build:ts).
//   node scripts/quantize-methods.js --model M --calib DIR --images DIR --annotations FILE [--limit N] [--modes uint8,int8]
'use strict';
const { promises: fs } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const dist = path.resolve(__dirname, '..', 'dist', 'lib');
const { createEngine } = require(path.join(dist, 'engine.js'));
const { loadCocoDataset } = require(path.join(dist, 'eval', 'coco.js'));
const { evaluateEngine, COCO_EVAL_DETECT_OPTIONS } = require(path.join(dist, 'eval', 'evaluate-engine.js'));
const { readModelInfo } = require(path.join(dist, 'onnx', 'model-info.js'));
const { resolveModelProfile } = require(path.join(dist, 'detect', 'profile.js'));
const { calibratorFromFolder } = require(path.join(dist, 'quantize', 'calibrator.js'));
const { quantizeModel } = require(path.join(dist, 'runtimes', 'onnxruntime', 'quantize.js'));
const { buildPlan, macCounts } = require(path.join(dist, 'quantize', 'plan.js'));
const { emitQdqModel } = require(path.join(dist, 'quantize', 'emitters', 'qdq.js'));
const { cpuInfo } = require(path.join(dist, 'hardware', 'cpu.js'));

async function mAP(modelPath, images, dataset) {
  const engine = await createEngine({ model: modelPath, backend: 'onnxruntime' });
  try {
    const result = await evaluateEngine(engine, { imagesDir: images, dataset, detectOptions: COCO_EVAL_DETECT_OPTIONS });
    return result.metrics.mAP;
  } finally {
    await engine.dispose();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      calib: { type: 'string' },
      images: { type: 'string' },
      annotations: { type: 'string' },
      limit: { type: 'string' },
      modes: { type: 'string', default: 'uint8,int8' },
      'weight-bits': { type: 'string', default: '8' },
    },
  });
  const profile = resolveModelProfile({ info: readModelInfo(await fs.readFile(values.model)) });
  const calibrator = await calibratorFromFolder(values.calib, {
    preprocess: profile.preprocess,
    inputName: profile.inputName,
    ...(values.limit ? { limit: Number(values.limit) } : {}),
  });
  const started = Date.now();
  const result = await quantizeModel({ model: values.model, calibrator });
  const cpu = cpuInfo();
  console.log(`cpu: ${cpu.model}, ${cpu.cores} cores: ${cpu.int8Summary}`);
  console.log(`calibration: ${result.plan.calibration.frames} frames, ${((Date.now() - started) / 1000).toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  const dataset = await loadCocoDataset(values.annotations);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'quantize-methods-'));
  try {
    const fp32 = await mAP(values.model, values.images, dataset);
    console.log(`FP32                            mAP ${fp32.toFixed(4)}`);
    const weightBits = Number(values['weight-bits']);
    for (const mode of values.modes.split(',')) {
      const activations = mode === 'int8' ? 'int8-symmetric' : 'uint8-asymmetric';
      for (const method of ['minmax', 'entropy', 'percentile', 'auto']) {
        const plan = buildPlan(result.model, result.statistics, { method, activations, weightBits });
        const file = path.join(work, `${method}-${mode}.onnx`);
        await fs.writeFile(file, emitQdqModel(result.model, plan));
        const score = await mAP(file, values.images, dataset);
        const macs = macCounts(plan);
        console.log(
          `INT8 ${method.padEnd(10)} ${activations.padEnd(16)} mAP ${score.toFixed(4)}  drop ${((fp32 - score) * 100).toFixed(1).padStart(5)} points  INT8 MACs ${((macs.int8 / macs.total) * 100).toFixed(1)} %`,
        );
      }
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
