/**
 * A process that never calls dispose() still exits (issue 14, the native half): no native module
 * keeps the event loop alive while it is idle. Each case runs in a child process, which must end on
 * its own within a few seconds of its last piece of work; a child that hangs is killed and fails.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { coreTestModuleMissing, coreTestModulePath } from './helpers/core-test-module';
import { models } from './helpers/fixtures';
import { runtimeStatusSync } from './helpers/runtime-status';

const distLib = path.resolve(__dirname, '..', 'lib');
/** The child prints this line after its last call; the clock for "exits by itself" starts there. */
const DONE = 'int8-detect-exit-test: done';
const EXIT_WITHIN_MS = 5000;
const KILL_AFTER_MS = 120_000;

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the DONE line to the exit; undefined when the line never came. */
  exitAfterDoneMs?: number;
}

function runChild(script: string): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let doneAt: number | undefined;
    const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (doneAt === undefined && stdout.includes(DONE)) doneAt = Date.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, exitAfterDoneMs: doneAt === undefined ? undefined : Date.now() - doneAt });
    });
  });
}

function assertExitedByItself(t: import('ava').ExecutionContext, run: ChildRun): void {
  t.is(run.signal, null, `the child was killed after ${KILL_AFTER_MS} ms: it never exited by itself. stderr: ${run.stderr}`);
  t.is(run.code, 0, run.stderr);
  t.not(run.exitAfterDoneMs, undefined, `the child never finished its work: ${run.stdout} ${run.stderr}`);
  t.true((run.exitAfterDoneMs ?? Infinity) < EXIT_WITHIN_MS, `exited ${run.exitAfterDoneMs} ms after its last call`);
}

const openVino = runtimeStatusSync('openvino');
if (!openVino.loaded) console.log(`native-exit: the OpenVINO case is skipped: ${openVino.reason}`);

(openVino.loaded ? test : test.skip)('an OpenVINO engine that is never disposed lets the process exit', async (t) => {
  const script = `
    const { createEngine } = require(${JSON.stringify(path.join(distLib, 'index.js'))});
    (async () => {
      const engine = await createEngine({ model: ${JSON.stringify(models.yoloxNano)}, backend: 'openvino' });
      const frame = { data: new Uint8Array(64 * 48 * 3).fill(90), width: 64, height: 48, format: 'rgb' };
      const detections = await engine.detect(frame);
      console.log(engine.info.backend, Array.isArray(detections));
      console.log(${JSON.stringify(DONE)});
    })().catch((err) => { console.error(err); process.exit(3); });`;
  const run = await runChild(script);
  t.regex(run.stdout, /^openvino true$/m);
  assertExitedByItself(t, run);
});

if (coreTestModuleMissing !== undefined) console.log(`native-exit: the calibration bridge case is skipped: ${coreTestModuleMissing}`);

(coreTestModuleMissing === undefined ? test : test.skip)('a calibration bridge that has finished, and one left waiting, let the process exit', async (t) => {
  const script = `
    const core = require(${JSON.stringify(coreTestModulePath)});
    (async () => {
      let calls = 0;
      const done = await core.testCalibrationBridge({
        pull: async () => (++calls <= 3 ? new Float32Array(4).fill(calls) : null),
        elementsPerBatch: 4, timeoutMs: 5000, maxBatches: 100,
      }).promise;
      // A second bridge, aborted while it waits for a batch that never comes.
      const waiting = core.testCalibrationBridge({ pull: () => new Promise(() => {}), elementsPerBatch: 4, timeoutMs: 60000, maxBatches: 1 });
      setTimeout(() => waiting.abort('the test is over'), 50);
      const aborted = await waiting.promise.catch((err) => err.reason);
      console.log(done.batches, aborted);
      console.log(${JSON.stringify(DONE)});
    })().catch((err) => { console.error(err); process.exit(3); });`;
  const run = await runChild(script);
  t.regex(run.stdout, /^3 aborted$/m);
  assertExitedByItself(t, run);
});

(coreTestModuleMissing === undefined ? test : test.skip)('a session with a thread per slot (as TensorRT engines run) that is never disposed lets the process exit', async (t) => {
  const script = `
    const core = require(${JSON.stringify(coreTestModulePath)});
    (async () => {
      const session = core.testSlotThreads({ slots: 3 });
      const runs = await Promise.all([session.run(0, 20), session.run(1, 20), session.run(2, 20)]);
      console.log(runs.length);
      console.log(${JSON.stringify(DONE)});
    })().catch((err) => { console.error(err); process.exit(3); });`;
  const run = await runChild(script);
  t.regex(run.stdout, /^3$/m);
  assertExitedByItself(t, run);
});
