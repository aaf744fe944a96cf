/**
 * precision 'auto' with a calibrator on ONNX Runtime: FP32 and the INT8 model are timed on the
 * machine, interleaved, and the faster of those that pass the accuracy check is served
 * (engine.info.precisionChoice says why). The decision itself, both ways and on a failed check,
 * is checked on given medians (no machine can be made to time INT8 slower on demand); the measured
 * flow on the real models.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { decidePrecision } from '../lib/engine/precision-choice';
import { coco, models } from './helpers/fixtures';

let cacheDir: string;
let files: string[];
test.before(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-precision-auto-'));
  process.env.INT8_DETECT_CACHE_DIR = cacheDir;
  files = (await fs.readdir(coco.calibImages)).sort().slice(0, 12).map((f) => path.join(coco.calibImages, f));
});
test.after.always(async () => {
  await fs.rm(cacheDir, { recursive: true, force: true });
});

const passing = { passed: true, estimatedDrop: 0.004, maxDrop: 0.01 };

test('INT8 that passes and measures faster is served', (t) => {
  const d = decidePrecision(20, 15, passing);
  t.is(d.chosen, 'int8');
  t.is(d.ratio, 0.75);
  t.regex(d.why, /passed the accuracy check \(estimated mAP drop 0\.0040 \(max 0\.01\)\) and measured faster/);
});

test('INT8 that passes but measures slower is not served', (t) => {
  const d = decidePrecision(20, 23, passing);
  t.is(d.chosen, 'fp32');
  t.regex(d.why, /did not measure faster than FP32/);
  t.is(decidePrecision(20, 20, passing).chosen, 'fp32', 'a tie serves the float model');
});

test('INT8 that fails the check is not served, however fast', (t) => {
  const d = decidePrecision(20, 5, { passed: false, estimatedDrop: 0.03, maxDrop: 0.01 });
  t.is(d.chosen, 'fp32');
  t.regex(d.why, /failed the label-free accuracy check \(estimated mAP drop 0\.0300 \(max 0\.01\)\), so FP32 is served whatever the timings/);
});

for (const [name, model] of [
  ['yolox_nano', models.yoloxNano],
  ['yolov8n', models.yolov8n],
] as const) {
  test.serial(`onnxruntime ${name}: measures both, serves the faster that passes, and reads the measurement back from the cache`, async (t) => {
    const options = { model, backend: 'onnxruntime' as const, precision: 'auto' as const, calibrator: files, maxDrop: 1, quantization: { heldBack: 4, search: false } };
    const first = await createEngine(options);
    let measured;
    try {
      const c = first.info.precisionChoice!;
      t.truthy(c, 'engine.info.precisionChoice is set');
      t.log(first.info.reasons.precision);
      t.is(c.source, 'measured');
      t.true(c.fp32.medianMs > 0 && c.int8.medianMs > 0);
      t.true(c.int8.passed, 'maxDrop 1 passes');
      t.is(c.chosen, c.int8.medianMs < c.fp32.medianMs ? 'int8' : 'fp32', 'the faster of the two, both passing');
      t.is(first.info.precision, c.chosen);
      t.is(first.info.model.quantized, c.chosen === 'int8');
      t.regex(first.info.reasons.precision, /precision 'auto' measured on cpu \(ONNX Runtime [\d.]+\): FP32 median [\d.]+ ms, INT8 median [\d.]+ ms/);
      t.regex(first.info.reasons.precision, new RegExp(`serving ${c.chosen.toUpperCase()}`));
      t.true((await first.detect(path.join(coco.evalImages, (await fs.readdir(coco.evalImages)).sort()[0]))).length > 0);
      measured = c;
    } finally {
      await first.dispose();
    }
    const second = await createEngine(options);
    try {
      const c = second.info.precisionChoice!;
      t.is(c.source, 'cache');
      t.is(c.measuredAt, measured.measuredAt);
      t.is(second.info.precision, measured.chosen);
    } finally {
      await second.dispose();
    }
  });
}
