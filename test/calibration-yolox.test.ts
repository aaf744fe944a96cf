import test from 'ava';
import * as ort from 'onnxruntime-node';
import { preprocessFrame, tensorSize } from '../lib/detect/preprocess';
import { createEngine } from '../lib/engine';
import { listImages } from '../lib/util/files';
import { validateRawFrame } from '../lib/image/frame';
import { decodeImage } from '../lib/image/decode';
import { ActivationStatistics, RANGE_METHODS } from '../lib/quantize/statistics';
import { coco, models } from './helpers/fixtures';

test('the YOLOX output streamed from coco/calib images gives sensibly ordered ranges', async (t) => {
  const engine = await createEngine({ model: models.yoloxNano });
  const spec = engine.info.preprocess;
  await engine.dispose();
  const session = await ort.InferenceSession.create(models.yoloxNano, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  const input = new Float32Array(tensorSize(spec));
  const stats = new ActivationStatistics('output');
  const images = (await listImages(coco.calibImages)).slice(0, 4);
  t.is(images.length, 4);
  let elements = 0;
  for (const image of images) {
    const frame = validateRawFrame(await decodeImage(image));
    await preprocessFrame(frame, spec, input);
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, spec.height, spec.width]) });
    const output = result[session.outputNames[0]].data as Float32Array;
    elements += output.length;
    stats.add(output);
  }
  await session.release();
  t.is(stats.count, elements);
  t.is(elements, 4 * 3549 * 85);
  // Sigmoid scores in [0, 1], offsets and log sizes around them, box terms up to tens.
  t.true(stats.min < 0 && stats.max > 1, `observed [${stats.min}, ${stats.max}]`);

  for (const symmetric of [true, false]) {
    const [minmax, percentile, entropy] = (['minmax', 'percentile', 'entropy'] as const).map((m) => stats.range(m, symmetric));
    const label = `${symmetric ? 'symmetric' : 'asymmetric'}: minmax ${JSON.stringify(minmax)} percentile ${JSON.stringify(percentile)} entropy ${JSON.stringify(entropy)}`;
    t.true(percentile.max <= minmax.max && percentile.min >= minmax.min, label);
    t.true(entropy.max <= minmax.max && entropy.min >= minmax.min, label);
    t.true(entropy.max > 0 && percentile.max > 0, label);
    const choice = stats.chooseRange(symmetric);
    for (const method of RANGE_METHODS) t.true(choice.error <= stats.quantizationError(stats.range(method, symmetric), symmetric));
    t.log(`${label}; auto picks ${choice.method} (MSE ${choice.error.toExponential(3)})`);
  }
  const h = stats.histogram();
  t.is(h.counts.reduce((a, b) => a + b, 0), elements);
});
