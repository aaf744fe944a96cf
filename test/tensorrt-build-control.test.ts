/**
 * The parts of a TensorRT build and run that need no GPU, driven through the test-only module the
 * way the TensorRT module drives them: a failed calibration feed stops the build (issue 20, item 5),
 * builds and runs never hold libuv's pool threads (item 4), FP16 conversion, the dims bound.
 */
import anyTest, { type TestFn } from 'ava';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { coreTestModuleMissing, coreTestModulePath, loadCoreTestModule, type CoreTestModule } from './helpers/core-test-module';

const test = (coreTestModuleMissing === undefined ? anyTest : anyTest.skip) as TestFn;
if (coreTestModuleMissing !== undefined) console.log(`tensorrt-build-control tests skipped: ${coreTestModuleMissing}`);
const core: CoreTestModule = coreTestModuleMissing === undefined ? loadCoreTestModule() : ({} as CoreTestModule);
const run = promisify(execFile);

function batches(count: number, elements = 4): () => Promise<Float32Array | null> {
  let served = 0;
  return async () => (served < count ? new Float32Array(elements).fill(++served) : null);
}

const build = (options: Partial<Parameters<CoreTestModule['testCalibrationBuild']>[0]>) =>
  core.testCalibrationBuild({ pull: batches(3), elementsPerBatch: 4, timeoutMs: 5000, steps: 5, stepMs: 1, thread: 'own', ...options });

test('a build calibrates on every batch, then runs its whole tactic search', async (t) => {
  const phases: string[] = [];
  const result = await build({ pull: batches(7), steps: 12, onProgress: (e) => phases.push(`${e.kind}:${e.step}`) }).promise;
  t.deepEqual(result, { batches: 7, stepsRun: 12 });
  await new Promise((resolve) => setImmediate(resolve));
  t.is(phases[0], 'start:0');
  t.is(phases.filter((p) => p.startsWith('step:')).length, 12);
});

test('a calibrator that fails stops the build at the next step, not after the whole tactic search', async (t) => {
  let served = 0;
  const pull = async () => {
    if (++served === 3) throw new Error('camera unplugged');
    return new Float32Array(4).fill(served);
  };
  const err = (await t.throwsAsync(build({ pull, steps: 200, stepMs: 10 }).promise)) as Error & { code?: string; batches?: number; stepsRun?: number };
  t.is(err.code, 'ERR_CALIBRATION');
  t.is(err.message, 'calibration batch 3: the calibrator failed: camera unplugged');
  t.is(err.batches, 2, 'TensorRT got the two good batches');
  t.is(err.stepsRun, 0, 'stepComplete said stop at the first step, not after 200 steps of tactic search');
});

test('a calibrator that stalls times out and stops the build the same way', async (t) => {
  const err = (await t.throwsAsync(build({ pull: () => new Promise(() => {}), timeoutMs: 100, steps: 200, stepMs: 10 }).promise)) as Error & {
    code?: string;
    stepsRun?: number;
  };
  t.is(err.code, 'ERR_CALIBRATION');
  t.is(err.message, 'calibration batch 1: the calibrator gave no batch within 100 ms');
  t.is(err.stepsRun, 0);
});

test('abort during the tactic search stops the build at the next step with ERR_ABORTED', async (t) => {
  const handle = build({ steps: 1000, stepMs: 5 });
  setTimeout(() => handle.abort('the user pressed Ctrl-C'), 100);
  const err = (await t.throwsAsync(handle.promise)) as Error & { code?: string; stepsRun?: number };
  t.is(err.code, 'ERR_ABORTED');
  t.is(err.message, 'the build was aborted: the user pressed Ctrl-C');
  t.true((err.stepsRun ?? 1000) < 1000);
});

/** Runs `script` in a node with UV_THREADPOOL_SIZE=`pool`; it prints one JSON line. */
async function inChild<T>(script: string, pool: number): Promise<T> {
  const { stdout } = await run(process.execPath, ['-e', script], { env: { ...process.env, UV_THREADPOOL_SIZE: String(pool) }, timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as T;
}

// Each batch needs libuv's pool, as a real one does (file access, image decoding, preprocessing).
const poolHungryBuilds = (thread: 'own' | 'pool', builds: number) => `
  const fs = require('node:fs'); const crypto = require('node:crypto');
  const core = require(${JSON.stringify(coreTestModulePath)});
  const pull = (left) => async () => {
    if (left-- <= 0) return null;
    await fs.promises.readFile(${JSON.stringify(__filename)});
    await new Promise((resolve, reject) => crypto.pbkdf2('x', 'y', 1000, 32, 'sha256', (e) => (e ? reject(e) : resolve())));
    return new Float32Array(4).fill(left);
  };
  const started = Date.now();
  Promise.allSettled(Array.from({ length: ${builds} }, () => core.testCalibrationBuild({
    pull: pull(3), elementsPerBatch: 4, timeoutMs: 1500, steps: 2, stepMs: 1, thread: ${JSON.stringify(thread)} }).promise))
    .then((settled) => console.log(JSON.stringify({ ms: Date.now() - started,
      results: settled.map((s) => (s.status === 'fulfilled' ? 'ok ' + s.value.batches : s.reason.message)) })));`;

test('more calibrating builds than pool threads all finish: builds run on threads of their own', async (t) => {
  // 2 pool threads, 5 builds: on the pool, two builds would hold both threads while they wait for
  // batches that need a pool thread themselves.
  const own = await inChild<{ ms: number; results: string[] }>(poolHungryBuilds('own', 5), 2);
  t.deepEqual(own.results, ['ok 3', 'ok 3', 'ok 3', 'ok 3', 'ok 3'], `after ${own.ms} ms`);
});

test('the same builds on libuv pool threads starve: batches time out (why builds must not run there)', async (t) => {
  // Two builds hold the two pool threads while their batches wait for one; the file reads get a
  // thread only when those builds time out, and the next builds in the queue take them again.
  const pool = await inChild<{ ms: number; results: string[] }>(poolHungryBuilds('pool', 5), 2);
  t.is(pool.results.length, 5);
  const timedOut = pool.results.filter((r) => r === 'calibration batch 1: the calibrator gave no batch within 1500 ms');
  t.true(timedOut.length >= 3, pool.results.join(' | '));
  t.true(pool.ms >= 1500);
});

test('runs wait on their slot threads: slots run at once, a slot runs one at a time, the pool stays free', async (t) => {
  const script = `
    const fs = require('node:fs');
    const core = require(${JSON.stringify(coreTestModulePath)});
    const session = core.testSlotThreads({ slots: 3 });
    const reads = [];
    const started = Date.now();
    let reading = true;
    (async () => { while (reading) { await fs.promises.readFile(${JSON.stringify(__filename)}); reads.push(Date.now() - started); } })();
    Promise.all([session.run(0, 400), session.run(1, 400), session.run(2, 400), session.run(0, 100)]).then((runs) => {
      reading = false;
      session.dispose();
      console.log(JSON.stringify({ runs, readsDuringRuns: reads.filter((ms) => ms < 400).length }));
    });`;
  const result = await inChild<{ runs: { slot: number; startedMs: number; endedMs: number }[]; readsDuringRuns: number }>(script, 1);
  const [a, b, c, again] = result.runs;
  t.deepEqual(result.runs.map((r) => r.slot), [0, 1, 2, 0]);
  for (const other of [b, c]) t.true(other.startedMs < a.endedMs, 'the three slots ran at the same time');
  t.true(again.startedMs >= a.endedMs - 1, 'the second run on slot 0 waited for the first');
  t.true(result.readsDuringRuns >= 3, `the one pool thread served ${result.readsDuringRuns} file reads while three runs blocked`);
});

test('slot runs after dispose() are refused with ERR_DISPOSED; bad slots and times name the argument', async (t) => {
  const session = core.testSlotThreads({ slots: 2 });
  t.is(session.slots, 2);
  t.throws(() => session.run(2, 1), { code: 'ERR_ARGUMENT', message: 'Expected an integer from 0 to 1 for slot but received 2 (number)' });
  t.throws(() => session.run(0, -1), { code: 'ERR_ARGUMENT', message: /for ms but received -1/ });
  const pending = session.run(1, 50);
  session.dispose();
  t.is((await pending).slot, 1, 'a run in flight finishes after dispose()');
  t.throws(() => session.run(0, 1), { code: 'ERR_DISPOSED', message: 'This test session has been disposed' });
});

test('FP16 conversion: exact codes, round to nearest even, overflow, subnormals, NaN', (t) => {
  const values = [1, -2, 0.5, 65504, 65520, 1e9, -0, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 2 ** -14, 0.1, Number.NaN, Infinity];
  const { halves, floats } = core.testHalf(Float32Array.from(values));
  t.deepEqual(
    Array.from(halves, (h) => h.toString(16)),
    ['3c00', 'c000', '3800', '7bff', '7c00', '7c00', '8000', '3c00', '3c02', '1', '0', '1', '400', '2e66', '7e00', '7c00'],
  );
  t.is(floats[0], 1);
  t.is(floats[3], 65504);
  t.is(floats[9], 2 ** -24);
  t.true(Math.abs(floats[13] - 0.1) < 1e-4);
  t.true(Number.isNaN(floats[14]));
  t.is(floats[15], Infinity);
  // Every half code round-trips through float32 exactly (NaNs aside).
  const all = Float32Array.from({ length: 0x10000 }, () => 0);
  const codes = Uint16Array.from({ length: 0x10000 }, (_, i) => i);
  const view = new DataView(new ArrayBuffer(4));
  codes.forEach((code, i) => {
    const sign = code & 0x8000 ? -1 : 1;
    const exp = (code >> 10) & 0x1f;
    const man = code & 0x3ff;
    all[i] = exp === 0 ? sign * man * 2 ** -24 : exp === 31 ? (man ? NaN : sign * Infinity) : sign * (1 + man / 1024) * 2 ** (exp - 15);
  });
  const back = core.testHalf(all).halves;
  const mismatches = Array.from(codes).filter((code, i) => ((code >> 10) & 0x1f) !== 31 || (code & 0x3ff) === 0 ? back[i] !== code : false);
  t.deepEqual(mismatches, []);
  void view;
});

test('TensorRT shapes: at most 8 dims (nvinfer1::Dims::MAX_DIMS), so a longer list never writes past Dims::d', (t) => {
  t.deepEqual(core.testReadTensorRtDims([1, 2, 3, 4, 5, 6, 7, 8]), [1, 2, 3, 4, 5, 6, 7, 8]);
  t.throws(() => core.testReadTensorRtDims([1, 2, 3, 4, 5, 6, 7, 8, 9]), {
    code: 'ERR_ARGUMENT',
    message: 'Expected an array of at most 8 integers for dims but received an array of length 9',
  });
  t.throws(() => core.testReadTensorRtDims([1, -3]), { code: 'ERR_ARGUMENT', message: /for dims\[1\] but received -3/ });
  void path;
});
