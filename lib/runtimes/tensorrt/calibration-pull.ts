/**
 * Turns a Calibrator (an async iterable of batches) into the pull function the native calibrator
 * bridge calls from TensorRT's getBatch: each call resolves with exactly one engine batch (the
 * calibration input shape's element count) or null at the end. A calibrator batch of N frames
 * for an engine whose calibration shape holds one frame is handed over one frame at a time.
 */
import { Int8DetectError, describeValue } from '../../util/errors';
import type { Calibrator } from '../../quantize/types';

export interface CalibrationPull {
  pull: () => Promise<Float32Array | null>;
  /** Engine batches handed over so far. */
  delivered(): number;
}

export function calibrationPull(
  calibrator: Calibrator,
  options: { inputName: string; elementsPerBatch: number; onBatch?: (delivered: number) => void },
): CalibrationPull {
  const iterator = calibrator[Symbol.asyncIterator]();
  const queued: Float32Array[] = [];
  let delivered = 0;
  let ended = false;
  let received = 0;

  async function refill(): Promise<void> {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      return;
    }
    received++;
    const batch = next.value;
    if (batch.input !== options.inputName) {
      throw new Int8DetectError('ERR_ARGUMENT', `Calibration batch ${received} is for input '${batch.input}', but the engine calibrates input '${options.inputName}'`);
    }
    if (!(batch.data instanceof Float32Array)) {
      throw new Int8DetectError('ERR_ARGUMENT', `Calibration batch ${received} holds ${describeValue(batch.data)}; TensorRT calibrates float inputs from a Float32Array`);
    }
    if (batch.data.length === 0 || batch.data.length % options.elementsPerBatch !== 0) {
      throw new Int8DetectError(
        'ERR_ARGUMENT',
        `Calibration batch ${received} has ${batch.data.length} values (dims [${batch.dims.join(', ')}]), not a multiple of the ${options.elementsPerBatch} values of one engine batch`,
      );
    }
    // Copies, since a calibrator may reuse its buffer for the next batch.
    for (let offset = 0; offset < batch.data.length; offset += options.elementsPerBatch) {
      queued.push(batch.data.slice(offset, offset + options.elementsPerBatch));
    }
  }

  return {
    async pull() {
      while (queued.length === 0 && !ended) await refill();
      const next = queued.shift();
      if (next === undefined) return null;
      delivered++;
      options.onBatch?.(delivered);
      return next;
    },
    delivered: () => delivered,
  };
}
