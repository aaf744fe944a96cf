/**
 * COCO mAP on coco/eval through OpenVINO (f32 forced) beside ONNX Runtime, from one run: the same
 * float model on two runtimes must score alike (both printed).
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine, type EngineOptions } from '../lib/engine';
import { loadCocoDataset } from '../lib/eval/coco-dataset';
import { evaluateEngine } from '../lib/eval/evaluate-engine';
import { runtimeStatusSync } from './helpers/runtime-status';
import { coco, models } from './helpers/fixtures';

const status = runtimeStatusSync('openvino');
const ovTest = status.loaded ? test.serial : test.skip;
if (!status.loaded) console.log(`openvino-accuracy: skipped: ${status.reason}`);

let cacheDir = '';
test.before(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-ov-map-'));
  process.env.INT8_DETECT_CACHE_DIR = cacheDir;
});
test.after.always(async () => {
  if (cacheDir) await fs.rm(cacheDir, { recursive: true, force: true });
});

async function mAP(options: EngineOptions, limit: number | undefined): Promise<number> {
  const dataset = await loadCocoDataset(coco.evalAnnotations);
  const engine = await createEngine(options);
  try {
    return (await evaluateEngine(engine, { imagesDir: coco.evalImages, dataset, ...(limit !== undefined ? { limit } : {}) })).metrics.mAP;
  } finally {
    await engine.dispose();
  }
}

// yolov8n at 640x640 costs four times yolox_nano's time a frame: its first 40 images keep the test short.
for (const [name, model, limit] of [
  ['yolox_nano', models.yoloxNano, undefined],
  ['yolov8n', models.yolov8n, 40],
] as const) {
  const images = limit === undefined ? 'coco/eval' : `the first ${limit} images of coco/eval`;
  ovTest(`${name}: mAP@[.5:.95] on ${images} through OpenVINO (f32) within 0.2 points of ONNX Runtime's`, async (t) => {
    const ort = await mAP({ model, backend: 'onnxruntime' }, limit);
    const ov = await mAP({ model, backend: 'openvino', openvino: { inferencePrecision: 'f32' } }, limit);
    console.log(`openvino-accuracy: ${name} mAP@[.5:.95] on ${images}: ONNX Runtime ${(ort * 100).toFixed(2)}, OpenVINO f32 ${(ov * 100).toFixed(2)}`);
    t.true(ort > 0.2, `ONNX Runtime mAP ${ort}`);
    t.true(Math.abs(ov - ort) < 0.002, `OpenVINO ${ov} against ONNX Runtime ${ort}`);
  });
}
