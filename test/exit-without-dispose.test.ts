/**
 * A process that never calls dispose() exits once its work is done (issue 14, item 1): the video
 * pipeline's own handles (decoder processes, pipes, timers) must not hold it open once every
 * stream has ended or given up. Each case runs in a child process, which must exit by itself.
 *
 * The engine here is a stand-in with the Engine's shape, so that what is tested is the pipeline
 * alone; engines (ONNX Runtime's worker threads) are checked in engine.test.ts.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { makeTestMedia, type TestMedia } from './helpers/video';

const pipelineModule = path.resolve(__dirname, '..', 'lib', 'video', 'pipeline.js');

let dir: string;
let media: TestMedia;
test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-exit-'));
  media = await makeTestMedia(dir, 2, 1);
});
test.after.always(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run a script that makes a pipeline and never disposes it; resolve with how it ended. */
function runChild(source: unknown, timeoutMs: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }> {
  const script = path.join(dir, `child-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(
    script,
    `const { createPipeline } = require(${JSON.stringify(pipelineModule)});
const engine = { info: { concurrency: 1, model: { inputs: [{ dims: [1, 3, 64, 64] }] } }, detect: async () => [] };
const pipeline = createPipeline({ engine, sources: [${JSON.stringify(source)}], statsIntervalMs: 500 });
let frames = 0;
pipeline.on('detections', () => frames++);
pipeline.on('error', (e) => console.log('error', e.reason ?? '', e.error.reason));
pipeline.whenIdle().then(() => console.log('idle after', frames, 'frames'));
`,
  );
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test('a file pipeline that has ended, never disposed, lets the process exit', async (t) => {
  const run = await runChild({ url: media.slideshow, inputArgs: ['-framerate', '15'] }, 30_000);
  t.is(run.signal, null, `still running after 30 s: ${run.stdout}${run.stderr}`);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /idle after 30 frames/);
});

test('a live source that gave up, never disposed, lets the process exit', async (t) => {
  // A port nobody listens on: refused at once; two retries, then the source gives up.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const run = await runChild({ url: `rtsp://127.0.0.1:${port}/cam`, maxRetries: 2, backoffInitialMs: 100 }, 30_000);
  t.is(run.signal, null, `still running after 30 s: ${run.stdout}${run.stderr}`);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /retries-exhausted/);
  t.regex(run.stdout, /idle after 0 frames/);
});
