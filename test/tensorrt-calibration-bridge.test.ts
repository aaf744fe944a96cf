/**
 * The calibrator bridge TensorRT's getBatch uses, driven from a native worker thread through the
 * core addon's test entry point: no TensorRT or GPU needed.
 */
import test from 'ava';
import { loadCoreAddon, type NativeCalibrationBridgeTest } from '../lib/native/core-addon';
import type { CalibrationBatch, Calibrator } from '../lib/quantize/types';
import { calibrationPull } from '../lib/runtimes/tensorrt/calibration-pull';

const core = loadCoreAddon();
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function batch(index: number, elements: number): Float32Array {
  // Distinct contents per batch: value j of batch i is i * 1000 + j.
  return Float32Array.from({ length: elements }, (_, j) => index * 1000 + j);
}

function expectedSum(index: number, elements: number): number {
  return index * 1000 * elements + (elements * (elements - 1)) / 2;
}

function runBridge(options: Partial<NativeCalibrationBridgeTest> & Pick<NativeCalibrationBridgeTest, 'pull'>) {
  return core.testCalibrationBridge({ elementsPerBatch: 12, timeoutMs: 5000, maxBatches: 1000, ...options });
}

test('batches arrive in order with their contents, then the end of the data', async (t) => {
  let calls = 0;
  const { promise } = runBridge({
    pull: async () => {
      calls++;
      await delay(5 * (calls % 3));
      return calls <= 5 ? batch(calls, 12) : null;
    },
  });
  const result = await promise;
  t.is(result.ended, 'end');
  t.is(result.batches, 5);
  t.deepEqual(result.firsts, [1000, 2000, 3000, 4000, 5000]);
  t.deepEqual(result.sums, [1, 2, 3, 4, 5].map((i) => expectedSum(i, 12)));
  t.is(calls, 6, 'one more call returned null');
});

test('synchronous answers, undefined as the end, and the maxBatches limit', async (t) => {
  let i = 0;
  const sync = await runBridge({ pull: () => (++i <= 2 ? batch(i, 12) : (undefined as unknown as null)) }).promise;
  t.deepEqual(sync.firsts, [1000, 2000]);
  t.is(sync.ended, 'end');
  let j = 0;
  const limited = await runBridge({ pull: () => batch(++j, 12), maxBatches: 3 }).promise;
  t.is(limited.ended, 'limit');
  t.is(limited.batches, 3);
  t.is(j, 3, 'no batch is asked for past the limit');
});

test('a calibrator that never resolves: a timeout error naming the batch, no hang', async (t) => {
  const started = Date.now();
  const err = await t.throwsAsync(runBridge({ pull: () => new Promise<null>(() => {}), timeoutMs: 150 }).promise);
  const elapsed = Date.now() - started;
  t.is((err as Error & { reason?: string }).reason, 'timeout');
  t.is((err as Error & { code?: string }).code, 'ERR_CALIBRATION');
  t.is(err?.message, 'calibration batch 1: the calibrator gave no batch within 150 ms');
  t.true(elapsed >= 140 && elapsed < 3000, `settled after ${elapsed} ms`);
});

test('a calibrator that slows down times out on the slow batch, after the good ones', async (t) => {
  let calls = 0;
  const err = await t.throwsAsync(
    runBridge({
      timeoutMs: 200,
      pull: async () => {
        calls++;
        if (calls === 3) await delay(1000);
        return batch(calls, 12);
      },
    }).promise,
  );
  t.regex(err?.message ?? '', /^calibration batch 3: the calibrator gave no batch within 200 ms$/);
  t.is((err as Error & { batchesDelivered?: number }).batchesDelivered, 2);
  // The late answer arrives after the worker gave up: it must be dropped, not written anywhere.
  await delay(1100);
  t.is(calls, 3, 'nothing was asked for after the timeout');
});

test('abort wakes a waiting pull at once and names the reason', async (t) => {
  const handle = runBridge({ pull: () => new Promise<null>(() => {}), timeoutMs: 60_000 });
  const started = Date.now();
  setTimeout(() => handle.abort('the user pressed Ctrl-C'), 50);
  const err = await t.throwsAsync(handle.promise);
  t.is((err as Error & { reason?: string }).reason, 'aborted');
  t.is(err?.message, 'the user pressed Ctrl-C');
  t.true(Date.now() - started < 5000);
});

test('abort between batches stops the next pull', async (t) => {
  let calls = 0;
  const handle = runBridge({
    pull: async () => {
      calls++;
      if (calls === 2) handle.abort('enough');
      return batch(calls, 12);
    },
  });
  const err = await t.throwsAsync(handle.promise);
  t.is(err?.message, 'enough');
  t.true(calls <= 3, `pulled ${calls} times`);
});

test('a throwing calibrator, a rejecting one, and a wrong batch each fail with their reason', async (t) => {
  const thrown = await t.throwsAsync(
    runBridge({
      pull: () => {
        throw new Error('camera unplugged');
      },
    }).promise,
  );
  t.is(thrown?.message, 'calibration batch 1: the calibrator threw: camera unplugged');
  t.is((thrown as Error & { reason?: string }).reason, 'failed');

  let calls = 0;
  const rejected = await t.throwsAsync(
    runBridge({
      pull: async () => {
        if (++calls === 2) throw new Error('disk full');
        return batch(calls, 12);
      },
    }).promise,
  );
  t.is(rejected?.message, 'calibration batch 2: the calibrator failed: disk full');

  const short = await t.throwsAsync(runBridge({ pull: () => new Float32Array(11) }).promise);
  t.is(
    short?.message,
    'calibration batch 1: Expected a Float32Array of 12 elements (one batch) or null (no more batches) from the calibrator but received Float32Array of 11 elements',
  );
  const wrongType = await t.throwsAsync(runBridge({ pull: () => new Uint8Array(12) as unknown as Float32Array }).promise);
  t.regex(wrongType?.message ?? '', /but received Uint8Array of 12 elements$/);
});

test('bad options are refused before any thread starts', (t) => {
  const pull = () => null;
  t.throws(() => core.testCalibrationBridge({ pull, elementsPerBatch: 0, timeoutMs: 10, maxBatches: 1 }), { message: /options\.elementsPerBatch/ });
  t.throws(() => core.testCalibrationBridge({ pull, elementsPerBatch: 4, timeoutMs: 1.5, maxBatches: 1 }), { message: /options\.timeoutMs/ });
  t.throws(() => core.testCalibrationBridge({ pull: 'x' as unknown as () => null, elementsPerBatch: 4, timeoutMs: 10, maxBatches: 1 }), {
    message: /options\.pull/,
  });
});

/** A Calibrator of `frames` frames of `frameElements` values in batches of `batchSize`. */
function frameCalibrator(frames: number, frameElements: number, batchSize: number, failAt?: number): Calibrator {
  return {
    batchSize,
    size: frames,
    async *[Symbol.asyncIterator](): AsyncIterator<CalibrationBatch> {
      for (let start = 0; start < frames; start += batchSize) {
        if (failAt !== undefined && start >= failAt) throw new Error(`image ${start} is corrupt`);
        const count = Math.min(batchSize, frames - start);
        const data = new Float32Array(count * frameElements);
        for (let f = 0; f < count; f++) data.set(batch(start + f + 1, frameElements), f * frameElements);
        await delay(1);
        yield { input: 'images', data, dims: [count, 3, 2, 2] };
      }
    },
  };
}

test('calibrationPull: a TypeScript calibrator of 4-frame batches reaches the worker one frame at a time, in order', async (t) => {
  const seen: number[] = [];
  const source = calibrationPull(frameCalibrator(10, 12, 4), { inputName: 'images', elementsPerBatch: 12, onBatch: (n) => seen.push(n) });
  const result = await runBridge({ pull: source.pull }).promise;
  t.is(result.batches, 10);
  t.deepEqual(result.firsts, Array.from({ length: 10 }, (_, i) => (i + 1) * 1000));
  t.deepEqual(result.sums, Array.from({ length: 10 }, (_, i) => expectedSum(i + 1, 12)));
  t.is(source.delivered(), 10);
  t.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('calibrationPull: a calibrator failing mid-way and a batch for another input fail the pull with their reason', async (t) => {
  const failing = calibrationPull(frameCalibrator(10, 12, 4, 8), { inputName: 'images', elementsPerBatch: 12 });
  const err = await t.throwsAsync(runBridge({ pull: failing.pull }).promise);
  t.is(err?.message, 'calibration batch 9: the calibrator failed: image 8 is corrupt');
  const other = calibrationPull(frameCalibrator(2, 12, 1), { inputName: 'input.1', elementsPerBatch: 12 });
  const wrong = await t.throwsAsync(runBridge({ pull: other.pull }).promise);
  t.regex(wrong?.message ?? '', /is for input 'images', but the engine calibrates input 'input\.1'/);
  const odd = calibrationPull(frameCalibrator(2, 10, 1), { inputName: 'images', elementsPerBatch: 12 });
  const size = await t.throwsAsync(runBridge({ pull: odd.pull }).promise);
  t.regex(size?.message ?? '', /has 10 values \(dims \[1, 3, 2, 2\]\), not a multiple of the 12 values/);
});
