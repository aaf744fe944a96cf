/**
 * A process that opens an engine and never disposes it still exits when its work is done:
 * idle runtime workers do not hold the event loop open (sharp's and onnxruntime-node's users
 * expect this of a library).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { models } from './helpers/fixtures';

const lib = path.join(__dirname, '..', 'lib', 'index.js');

/** Runs `body` in a child Node process; resolves with its exit code, or 'timeout' after `ms`. */
function runChild(body: string, ms: number): Promise<{ code: number | null | 'timeout'; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', `const lib = require(${JSON.stringify(lib)});\n${body}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'timeout', stdout, stderr });
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('an ONNX Runtime engine that is never disposed lets the process exit', async (t) => {
  const result = await runChild(
    `lib.createEngine({ model: ${JSON.stringify(models.yoloxNano)}, backend: 'onnxruntime', concurrency: 2 })
       .then((engine) => engine.detect({ data: new Uint8Array(64 * 48 * 3).fill(90), width: 64, height: 48, format: 'rgb' }))
       .then((detections) => console.log('detected', detections.length));`,
    60_000,
  );
  t.is(result.code, 0, `the process did not exit by itself: ${result.code} ${result.stderr}`);
  t.regex(result.stdout, /^detected \d+/);
});

test('work in flight keeps the process alive until it is done', async (t) => {
  // Nothing else holds the event loop: only the runs in flight in the workers do.
  const result = await runChild(
    `lib.createEngine({ model: ${JSON.stringify(models.yoloxNano)}, backend: 'onnxruntime' }).then(async (engine) => {
       const frame = { data: new Uint8Array(416 * 416 * 3).fill(120), width: 416, height: 416, format: 'rgb' };
       const all = await Promise.all(Array.from({ length: 6 }, () => engine.detect(frame)));
       console.log('done', all.length);
     });`,
    120_000,
  );
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^done 6/);
});
