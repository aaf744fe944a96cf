/**
 * Fuzzers in the suite (issue 14, item 10): random frames (sizes, formats, strides, buffers,
 * encoded noise) through detect(), and corrupted ONNX models through createEngine() (ONNX Runtime,
 * and OpenVINO where its module is built). Every case must end in a detection list (finite, inside
 * the frame) or an Int8DetectError; a crash of the process or any other error fails the test.
 * The cases run in child processes (test/helpers/fuzz-worker.ts), which say which case they start,
 * so that a crash is seen, attributed to its case, and the fuzzing goes on after it.
 *
 * Seeds are fixed (frames 1, models 2), so case N is the same on every run; INT8_DETECT_FUZZ_SEED
 * shifts both, and INT8_DETECT_FUZZ_SECONDS sets each fuzzer's time budget (default 45 s).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const worker = path.join(__dirname, 'helpers', 'fuzz-worker.js');
const baseSeed = Number(process.env.INT8_DETECT_FUZZ_SEED ?? 0);
const budgetSeconds = Number(process.env.INT8_DETECT_FUZZ_SECONDS ?? 45);

interface FuzzReport {
  cases: number;
  crashes: { index: number; how: string; stderr: string }[];
  clean: Map<string, number>;
  other: string[];
  successes: number;
}

/** One child after another until the budget is spent: a crashed child is replaced, starting after the case that crashed it. */
async function fuzz(kind: 'frames' | 'models', seed: number): Promise<FuzzReport> {
  const deadline = Date.now() + budgetSeconds * 1000;
  const report: FuzzReport = { cases: 0, crashes: [], clean: new Map(), other: [], successes: 0 };
  let next = 0;
  while (Date.now() < deadline) {
    const run = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; started: number | undefined; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [worker, kind, String(seed), String(next), String(deadline)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let started: number | undefined;
      let pending = '';
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          const start = /^start (\d+)/.exec(line);
          if (start) {
            started = Number(start[1]);
            continue;
          }
          const done = /^done (\d+) (success|clean (\S+)|other (.*))$/.exec(line);
          if (!done) continue;
          started = undefined;
          next = Number(done[1]) + 1;
          report.cases++;
          if (done[2] === 'success') report.successes++;
          else if (done[3] !== undefined) report.clean.set(done[3], (report.clean.get(done[3]) ?? 0) + 1);
          else report.other.push(`case ${done[1]}: ${done[4]}`);
        }
      });
      // A hung case is a finding too: the child is killed a minute past the deadline.
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()) + 60_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, started, stderr });
      });
    });
    if (run.started !== undefined) {
      report.cases++;
      report.crashes.push({ index: run.started, how: run.signal ?? `exit code ${run.code}`, stderr: run.stderr.slice(-1000) });
      next = run.started + 1;
    } else if (run.code !== 0) {
      report.crashes.push({ index: next, how: `worker failed (${run.signal ?? run.code})`, stderr: run.stderr.slice(-1000) });
      break;
    }
  }
  return report;
}

function summary(kind: string, seed: number, r: FuzzReport): string {
  const clean = [...r.clean.entries()].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', ');
  const cleanTotal = [...r.clean.values()].reduce((a, b) => a + b, 0);
  return `${kind} fuzzer (seed ${seed}, ${budgetSeconds} s): ${r.cases} cases, ${r.crashes.length} crashes, ${cleanTotal} clean errors (${clean || 'none'}), ${r.other.length} other errors, ${r.successes} successes`;
}

for (const [kind, seed] of [['frames', 1 + baseSeed], ['models', 2 + baseSeed]] as const) {
  test(`${kind} fuzzer: no crash, only detections or Int8DetectErrors`, async (t) => {
    const report = await fuzz(kind, seed);
    const line = summary(kind, seed, report);
    t.log(line);
    console.log(line);
    t.true(report.cases > 20, `only ${report.cases} cases ran in ${budgetSeconds} s`);
    t.deepEqual(report.crashes, [], 'no case crashed the process');
    t.deepEqual(report.other, [], 'every error is an Int8DetectError');
    t.true(report.successes > 0 && report.clean.size > 0, 'both outcomes were reached');
  });
}
