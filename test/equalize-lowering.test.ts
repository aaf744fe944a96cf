/**
 * Channel equalization (an exact rewrite of the float model) and ONNX Runtime's ConvInteger
 * lowering of INT8 convs with float outputs (exact up to float rounding), on yolox_nano.
 */
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { promises as fs } from 'node:fs';
import { createEngine } from '../lib/engine';
import { decodeModel, encodeModel } from '../lib/onnx/model';
import { lowerInt8Silu } from '../lib/onnx/lower-int8-silu';
import { lowerIntegerConvs } from '../lib/onnx/lower-integer-conv';
import { preprocessFrame, tensorSize } from '../lib/detect/preprocess';
import { decodeImage } from '../lib/image/decode';
import { listImages } from '../lib/util/files';
import { validateRawFrame } from '../lib/image/frame';
import { calibratorFromFolder } from '../lib/quantize/calibrator';
import { collectStatistics, exposeTensors } from '../lib/quantize/collect';
import { emitQdqModel } from '../lib/quantize/emitters/qdq';
import { equalizeChains, findSiluChains, foldChannelMaxima } from '../lib/quantize/equalize';
import { macCounts } from '../lib/quantize/plan';
import { quantizeModel } from '../lib/runtimes/onnxruntime/quantize';
import { onnxRuntimeStatisticsSession } from '../lib/runtimes/onnxruntime/statistics-session';
import type { PreprocessSpec } from '../lib/detect/types';
import { coco, models } from './helpers/fixtures';
import { maxRelativeDifference, meanRelativeDifference } from './helpers/differences';

let spec: PreprocessSpec;
let inputs: Float32Array[];

test.before(async () => {
  const engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
  spec = engine.info.preprocess;
  await engine.dispose();
  inputs = [];
  for (const file of (await listImages(coco.evalImages)).slice(0, 2)) {
    const buffer = new Float32Array(tensorSize(spec));
    await preprocessFrame(validateRawFrame(await decodeImage(file)), spec, buffer);
    inputs.push(buffer);
  }
});

async function runOrt(bytes: Uint8Array, input: Float32Array, output?: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, spec.height, spec.width]) });
    return out[output ?? session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}


const calibrator = (limit: number) => calibratorFromFolder(coco.calibImages, { preprocess: spec, inputName: 'images', limit, shuffleSeed: 7 });

test('foldChannelMaxima keeps the largest |value| of each channel over frames', (t) => {
  const first = foldChannelMaxima(Float32Array.of(1, -3, 0.5, 2, -0.25, 0.1), [1, 2, 3]);
  t.deepEqual([...first], [3, 2]);
  const second = foldChannelMaxima(Float32Array.of(-4, 0, 0, 1, 1, 1), [1, 2, 3], first);
  t.deepEqual([...second], [4, 2]);
});

test('equalization rewrites Conv -> SiLU chains without changing the float model outputs', async (t) => {
  const model = decodeModel(await fs.readFile(models.yoloxNano));
  const chains = findSiluChains(model);
  t.true(chains.length >= 100, `found ${chains.length} Conv -> SiLU chains`);
  const pre = await collectStatistics(model, await calibrator(8), { tensors: [], channelMaxima: chains.flatMap((c) => [c.tensor, c.product]), maxFrames: 4, openSession: onnxRuntimeStatisticsSession(0) });
  t.is(pre.frames, 4);
  const { model: equalized, chains: done } = equalizeChains(model, chains, pre.channelMaxima);
  const stem = done.find((c) => c.tensor === '1177');
  t.truthy(stem, 'the stem conv (widest channel ranges) is equalized');
  t.true(stem!.rangeRatio > 50, `stem range ratio ${stem!.rangeRatio}`);
  t.is(stem!.productAlpha, 1, 'a depthwise reader takes full equalization');
  t.true(done.every((c) => c.rangeRatio >= 8));
  // The original model is untouched, the rewrite computes the same outputs.
  t.is(findSiluChains(model).length, chains.length);
  for (const input of inputs) {
    const a = await runOrt(encodeModel(model), input);
    const b = await runOrt(encodeModel(equalized), input);
    t.true(maxRelativeDifference(a, b) < 1e-4, `relative difference ${maxRelativeDifference(a, b)}`);
  }
});

test('float-output INT8 convs count as INT8 and ONNX Runtime runs them as ConvInteger, exactly', async (t) => {
  const result = await quantizeModel({ model: models.yoloxNano, calibrator: await calibrator(6), equalize: { frames: 4 } });
  t.true(result.equalized.length > 0);
  t.truthy(result.plan.equalized);
  const convInputs = new Set(result.plan.compute.filter((c) => c.quantized).map((c) => c.input));
  const outputs = new Set(result.plan.compute.filter((c) => c.quantized && !convInputs.has(c.output)).map((c) => c.output));
  t.true(outputs.size > 50);
  // Keeping conv outputs float costs no INT8 multiply-accumulates.
  t.is(macCounts(result.plan, outputs).int8, macCounts(result.plan).int8);
  const qdq = emitQdqModel(result.model, result.plan, { keepFloat: outputs });
  const lowered = lowerIntegerConvs(decodeModel(qdq));
  t.is(lowered.lowered.length, outputs.size, 'every float-output conv is lowered');
  const ops = new Set(lowered.model.graph.nodes.map((n) => n.opType));
  t.true(ops.has('ConvInteger'));
  // A fully quantized conv (DQ -> Conv -> Q) is left to ONNX Runtime's own fusion.
  t.deepEqual(lowerIntegerConvs(decodeModel(result.bytes)).lowered, []);
  // The first conv reads the image (identical in both): its lowered output is the same up to
  // float rounding. Later layers see those rounding differences flip an occasional 8-bit step at
  // the next quantizer, so the final outputs are compared on average, not element by element.
  const first = result.plan.compute.find((c) => c.quantized)!.output;
  t.true(outputs.has(first));
  const withFirst = (bytes: Uint8Array) => encodeModel(exposeTensors(decodeModel(bytes), [first]));
  for (const input of inputs) {
    const a = await runOrt(withFirst(qdq), input, first);
    const b = await runOrt(withFirst(encodeModel(lowered.model)), input, first);
    t.true(maxRelativeDifference(a, b) < 1e-5, `first conv: relative difference ${maxRelativeDifference(a, b)}`);
    const fa = await runOrt(qdq, input);
    const fb = await runOrt(encodeModel(lowered.model), input);
    const fp32 = await runOrt(await fs.readFile(models.yoloxNano), input);
    const lowering = meanRelativeDifference(fa, fb);
    const quantization = meanRelativeDifference(fp32, fa);
    t.true(lowering < quantization / 4, `outputs: lowered vs Q/DQ ${lowering}, Q/DQ vs FP32 ${quantization}`);
  }
});


test('SiLUs between INT8 convs become QLinearSigmoid + QLinearMul for ONNX Runtime, close to the Q/DQ model', async (t) => {
  const result = await quantizeModel({ model: models.yoloxNano, calibrator: await calibrator(6), equalize: { frames: 4 } });
  const lowered = lowerInt8Silu(decodeModel(result.bytes));
  // SiLUs whose product a conv reads quantized, except the channel-equalized ones (a Mul restores
  // their channels first) and those read only by float ops (the head, residual Adds, Concats).
  const siluCount = findSiluChains(decodeModel(await fs.readFile(models.yoloxNano))).length;
  t.true(lowered.lowered >= 40 && lowered.lowered <= siluCount - result.equalized.length, `${lowered.lowered} of ${siluCount} SiLUs lowered, ${result.equalized.length} equalized`);
  const ops = lowered.model.graph.nodes.map((n) => `${n.domain}:${n.opType}`);
  t.is(ops.filter((o) => o === 'com.microsoft:QLinearSigmoid').length, lowered.lowered);
  t.is(ops.filter((o) => o === 'com.microsoft:QLinearMul').length, lowered.lowered);
  const bytes = encodeModel(lowered.model);
  const fp32Bytes = await fs.readFile(models.yoloxNano);
  for (const input of inputs) {
    const fp32 = await runOrt(fp32Bytes, input);
    const qdq = meanRelativeDifference(fp32, await runOrt(result.bytes, input));
    const int8Silu = meanRelativeDifference(fp32, await runOrt(bytes, input));
    // The 8-bit sigmoid adds one rounding per SiLU: it may add error, but not multiply it.
    t.true(int8Silu < 1.5 * qdq, `mean relative difference from FP32: Q/DQ ${qdq}, with INT8 SiLU ${int8Silu}`);
  }
});
