/**
 * Proof that a batch-dynamic rewrite kept the model's meaning: the rewritten model runs two
 * different inputs as one batch of two, and each half of every output must match the original
 * model run on that input alone. Runs in ONNX Runtime at export time (a CLI step, so the
 * synchronous run on this thread is fine).
 */
import type * as OnnxRuntime from 'onnxruntime-node';
import { Int8DetectError } from '../../../util/errors';

export interface BatchCheck {
  /** Largest absolute difference over all outputs, relative to the outputs' largest magnitude. */
  relativeDifference: number;
}

/** A deterministic pseudo-random fill in [0, high): the same frames on every run. */
function fill(count: number, seed: number, high: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * high;
  }
  return out;
}

export async function checkDynamicBatch(original: Uint8Array, rewritten: Uint8Array, options: { inputHigh: number; tolerance?: number }): Promise<BatchCheck> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof OnnxRuntime;
  const single = await ort.InferenceSession.create(original);
  const batched = await ort.InferenceSession.create(rewritten);
  try {
    const inputName = single.inputNames[0];
    const meta = single.inputMetadata.find((m) => m.name === inputName);
    const dims = meta && meta.isTensor ? meta.shape : undefined;
    if (!dims || dims.some((d) => typeof d !== 'number') || single.inputNames.length !== 1) {
      throw new Int8DetectError('ERR_MODEL', `Cannot check the batch rewrite: expected one input with a fixed shape, the model has ${single.inputNames.join(', ')}`);
    }
    const shape = dims as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const frames = [fill(size, 1, options.inputHigh), fill(size, 2, options.inputHigh)];
    const alone = [];
    for (const frame of frames) alone.push(await single.run({ [inputName]: new ort.Tensor('float32', frame, shape) }));
    const both = new Float32Array(size * 2);
    both.set(frames[0], 0);
    both.set(frames[1], size);
    const together = await batched.run({ [batched.inputNames[0]]: new ort.Tensor('float32', both, [2, ...shape.slice(1)]) });
    let worst = 0;
    let largest = 0;
    for (const name of single.outputNames) {
      const joined = together[name]?.data as Float32Array | undefined;
      if (!joined || joined.length !== 2 * (alone[0][name].data as Float32Array).length) {
        throw new Int8DetectError('ERR_MODEL', `The batch rewrite changed output '${name}': a batch of 2 gave ${joined?.length ?? 0} values for ${(alone[0][name].data as Float32Array).length} per frame`);
      }
      alone.forEach((result, i) => {
        const part = result[name].data as Float32Array;
        for (let j = 0; j < part.length; j++) {
          largest = Math.max(largest, Math.abs(part[j]));
          worst = Math.max(worst, Math.abs(part[j] - joined[i * part.length + j]));
        }
      });
    }
    const relativeDifference = largest > 0 ? worst / largest : worst;
    const tolerance = options.tolerance ?? 1e-4;
    if (!(relativeDifference <= tolerance)) {
      throw new Int8DetectError(
        'ERR_MODEL',
        `The batch-dynamic model disagrees with the original on a batch of 2 (largest difference ${relativeDifference.toExponential(2)} of the output range, more than ${tolerance}): ` +
          `the graph has a batch-1 assumption this rewrite does not handle; export with --max-batch 0`,
      );
    }
    return { relativeDifference };
  } finally {
    await single.release();
    await batched.release();
  }
}
