import test from 'ava';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { decodeImage } from '../lib/image/decode';
import { agreementMetrics } from '../lib/quantize/agreement';
import { calibratorFromFrames } from '../lib/quantize/calibrator';
import { prepareHeldBack, relativeOutputError } from '../lib/quantize/candidate';
import { bootstrapDropInterval, estimatedDrop, floatOrder, REFERENCE_MAP, searchMixedPrecision } from '../lib/quantize/mixed-precision';
import { quantizeModel } from '../lib/runtimes/onnxruntime/quantize';
import { onnxRuntimeBackend } from '../lib/runtimes/onnxruntime/descriptor';
import { qdqQuantizer } from '../lib/runtimes/onnxruntime/quantizer';
import { candidateOpener } from '../lib/runtimes/open-detector';
import type { Detection } from '../lib/detect/types';
import { coco, models } from './helpers/fixtures';

const box = (x: number, y: number, classId = 0, score = 0.9): Detection => ({ box: { x1: x, y1: y, x2: x + 50, y2: y + 40 }, score, classId, label: String(classId) });

test('agreement: identical detections agree fully, missing ones do not, and low-scored references are no pseudo labels', (t) => {
  const frames = [{ width: 200, height: 200 }, { width: 200, height: 200 }];
  const reference = [[box(10, 10), box(100, 100, 1)], [box(20, 30, 2)]];
  t.true(Math.abs(agreementMetrics(reference, reference, frames, 3).AP50 - 1) < 1e-9);
  const half = agreementMetrics(reference, [[box(10, 10)], []], frames, 3);
  t.true(half.AP50 < 0.5 && half.AP50 > 0, String(half.AP50));
  const unsure = [[box(10, 10, 0, 0.1)], []];
  t.is(agreementMetrics(unsure, [[], []], frames, 3).AP50, -1, 'no pseudo label above 0.25: nothing to agree on');
  t.throws(() => agreementMetrics(reference, [[]], frames, 3), { message: /2 frames/ });
});

test('agreement: a candidate detection on an object FP32 is unsure of is neither a hit nor a false alarm, one on nothing FP32 saw is a false alarm', (t) => {
  const frames = [{ width: 300, height: 300 }];
  const confident = box(10, 10, 0, 0.9);
  // The candidate finds the confident object, and ranks a second object above it.
  const candidate = [[box(150, 150, 0, 0.95), { ...confident, score: 0.5 }]];
  const withSecond = (score: number) => [[confident, box(150, 150, 0, score)]];
  t.true(Math.abs(agreementMetrics(withSecond(0.2), candidate, frames, 1).AP50 - 1) < 1e-9, 'FP32 scored it 0.2: an ignore region');
  const falseAlarm = agreementMetrics(withSecond(0.05), candidate, frames, 1).AP50;
  t.true(falseAlarm < 0.9, `FP32 scored it 0.05, below the uncertain band: ${falseAlarm}`);
  const off = agreementMetrics(withSecond(0.2), candidate, frames, 1, { uncertainThreshold: 0 }).AP50;
  t.true(Math.abs(off - falseAlarm) < 1e-9, `uncertainThreshold 0: no ignore regions (${off})`);
  // A region ignores only its own class.
  const otherClass = [[box(150, 150, 0, 0.95), { ...confident, score: 0.5 }]];
  t.true(agreementMetrics([[confident, box(150, 150, 1, 0.2)]], otherClass, frames, 2).AP50 < 0.9);
});

test('the estimated drop counts only disagreement beyond FP32\'s own one-pixel floor', (t) => {
  t.is(estimatedDrop(0.97, 0.96), 0);
  t.is(estimatedDrop(0.96, 0.96), 0);
  t.true(Math.abs(estimatedDrop(0.864, 0.96) - REFERENCE_MAP * 0.1) < 1e-12);
});

test('the bootstrap interval of the estimated drop: none when INT8 finds what FP32 finds, around the estimate when it misses some', (t) => {
  const frames = Array.from({ length: 24 }, () => ({ width: 300, height: 300 }));
  const reference = frames.map((_, i) => [box(10 + i, 20, i % 3), box(150, 120 + i, (i + 1) % 3)]);
  // The floor: FP32 shifted by one pixel, a near-perfect match.
  const floor = reference.map((list) => list.map((d) => ({ ...d, box: { x1: d.box.x1 + 1, y1: d.box.y1 + 1, x2: d.box.x2 + 1, y2: d.box.y2 + 1 } })));
  t.deepEqual(bootstrapDropInterval(reference, reference, floor, frames, 3), [0, 0]);
  // A candidate that misses the second object on a third of the frames.
  const missing = reference.map((list, i) => (i % 3 === 0 ? list.slice(0, 1) : list));
  const point = estimatedDrop(agreementMetrics(reference, missing, frames, 3).AP50, agreementMetrics(reference, floor, frames, 3).AP50);
  const [lo, hi] = bootstrapDropInterval(reference, missing, floor, frames, 3);
  t.true(point > 0.05, `estimated drop ${point}`);
  t.true(lo < point && point < hi, `${lo} < ${point} < ${hi}`);
  t.deepEqual(bootstrapDropInterval(reference, missing, floor, frames, 3), [lo, hi], 'seeded: the same frames give the same interval');
});

test('relative output error is zero for equal outputs and grows with the difference', (t) => {
  const ref = [[{ name: 'o', type: 'float32', dims: [1, 4, 6], data: Float32Array.from({ length: 24 }, (_, i) => i + 1) }]];
  const same = relativeOutputError(ref, ref);
  const off = (delta: number) => [[{ ...ref[0][0], data: ref[0][0].data.map((v) => v + delta) }]];
  t.is(same, 0);
  t.true(relativeOutputError(ref, off(0.1)) < relativeOutputError(ref, off(1)));
});

test('float order: most error per multiply-accumulate given up first, free tensors by their error, and the INT8 floor skips what does not fit', (t) => {
  const total = 1000;
  const ranked = [
    { name: 'wide', error: 0.5, floatMacs: 200 }, // the most harmful, but a fifth of the model
    { name: 'cheap', error: 0.3, floatMacs: 10 },
    { name: 'free', error: 0.01, floatMacs: 0 }, // a conv output: costs nothing, barely matters
    { name: 'mid', error: 0.2, floatMacs: 50 },
    { name: 'tail', error: 0.05, floatMacs: 60 },
  ];
  // Shares of additive costs, as macCounts gives for activations read by different convs.
  const share = (keep: ReadonlySet<string>) => 1 - ranked.filter((r) => keep.has(r.name)).reduce((sum, r) => sum + r.floatMacs, 0) / total;
  // error / (floatMacs + 0.1 % of the total): cheap 0.027, free 0.01, mid 0.0039, wide 0.0025, tail 0.00082.
  t.deepEqual(floatOrder(ranked, total, share, 0), { order: ['cheap', 'free', 'mid', 'wide', 'tail'], excluded: [] });
  // 90 %: cheap + mid = 60 MACs leave room for 40 more: wide (200) is left out, tail (60) too.
  t.deepEqual(floatOrder(ranked, total, share, 0.9), { order: ['cheap', 'free', 'mid'], excluded: ['wide', 'tail'] });
  // 80 %: wide no longer fits after cheap and mid (260 > 200), tail still does (120).
  t.deepEqual(floatOrder(ranked, total, share, 0.8), { order: ['cheap', 'free', 'mid', 'tail'], excluded: ['wide'] });
});

test('the search on the YOLOX fixture: ranks activations, keeps the most sensitive in float, and records every trial', async (t) => {
  const engine = await createEngine({ model: models.yoloxNano });
  const spec = engine.info.preprocess;
  const inputName = engine.info.model.inputs[0].name;
  await engine.dispose();
  const files = (await fs.readdir(coco.calibImages)).sort().map((f) => path.join(coco.calibImages, f));
  const calibrator = calibratorFromFrames(files.slice(0, 8), { preprocess: spec, inputName });
  const quantized = await quantizeModel({ model: models.yoloxNano, calibrator, method: 'auto' });
  // Six activations keep the test to seconds; the search itself does not care how many.
  const plan = { ...quantized.plan, activations: quantized.plan.activations.slice(0, 6) };
  const heldBack = await prepareHeldBack(await Promise.all(files.slice(-6).map((f) => decodeImage(f))), spec);
  const fp32Model = await fs.readFile(models.yoloxNano);

  const emitter = await qdqQuantizer.emitter({ model: quantized.model, modelBytes: quantized.modelBytes, inputBytes: fp32Model, plan });
  t.teardown(() => emitter.dispose());
  const open = candidateOpener(onnxRuntimeBackend, {});
  const relaxed = await searchMixedPrecision({ plan, heldBack, emitter, open, maxDrop: Number.POSITIVE_INFINITY });
  t.deepEqual(relaxed.keepFloat, []);
  t.is(relaxed.sensitivity.length, 0, 'nothing to rank when everything passes');
  t.is(relaxed.trials.length, 1);
  t.true(relaxed.agreement.floor > 0.5 && relaxed.agreement.floor <= 1);

  const strict = await searchMixedPrecision({ plan, heldBack, emitter, open, maxDrop: 0, sensitivityFrames: 2, minInt8Fraction: 0 });
  // The ranking covers all six, or only the MAC-free ones (conv outputs) when keeping just those in
  // float already passes: which happens depends on the placement, so both are accepted.
  const pool = strict.sensitivity.length;
  t.true(pool === 6 || (pool > 0 && pool < 6 && strict.trials.some((trial) => trial.keptFloat === pool && trial.passed)), `ranked ${pool}`);
  for (let i = 1; i < pool; i++) t.true(strict.sensitivity[i - 1].error >= strict.sensitivity[i].error, 'most sensitive first');
  t.deepEqual([...strict.floatOrder].sort(), strict.sensitivity.map((s) => s.name).sort(), 'without a floor every ranked tensor is in the order');
  t.deepEqual(strict.floatOrder, floatOrder(strict.sensitivity, strict.macs.total, (keep) => emitter.macs(keep).int8 / strict.macs.total, 0).order);
  t.deepEqual(strict.keepFloat, strict.floatOrder.slice(0, strict.keepFloat.length), 'the kept tensors are the head of the float order');
  // Priced by ONNX Runtime's fast kernels: a conv whose output stays float runs ConvInteger, so it costs its MACs too.
  for (const s of strict.sensitivity) t.is(s.floatMacs, emitter.slowMacs!(new Set([s.name])) - emitter.slowMacs!(new Set()), `${s.name}: the MACs its float costs`);
  for (const s of strict.sensitivity) t.true(s.floatMacs >= relaxed.macs.int8 - emitter.macs(new Set([s.name])).int8, `${s.name}: at least the INT8 MACs it gives up`);
  t.true(strict.trials.some((trial) => trial.keptFloat === pool), 'everything ranked in float was tried');
  const chosen = strict.trials.find((trial) => trial.keptFloat === strict.keepFloat.length)!;
  t.true(chosen.passed || strict.keepFloat.length === 6, 'either the choice passes, or nothing could');
  t.true(strict.macs.int8 <= relaxed.macs.int8);
  // With a floor above what the strict search spent, it keeps to the floor and says what it left out.
  if (strict.macs.int8 < relaxed.macs.int8) {
    const floorShare = (strict.macs.int8 + relaxed.macs.int8) / 2 / strict.macs.total;
    const floored = await searchMixedPrecision({ plan, heldBack, emitter, open, maxDrop: 0, sensitivityFrames: 2, minInt8Fraction: floorShare });
    t.true(floored.macs.int8 / floored.macs.total >= floorShare, `${floored.macs.int8 / floored.macs.total} >= ${floorShare}`);
    t.true(floored.excludedByFloor.length > 0);
    t.deepEqual(floored.keepFloat, floored.floatOrder.slice(0, floored.keepFloat.length));
  }
  t.log(`floor ${strict.agreement.floor.toFixed(4)}, all INT8 ${strict.agreement.allInt8.toFixed(4)}, chosen ${strict.agreement.chosen.toFixed(4)}, kept ${strict.keepFloat.length}`);
});
