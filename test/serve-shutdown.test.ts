/**
 * `int8-detect serve --config serve.yaml` as a user runs it, then SIGTERM under load: requests in
 * flight finish with 200, the open event and live-view connections end, the decoders stop, the
 * process exits 0, and none of its child processes is left.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cliPath, runCli } from './helpers/cli';
import { coco, models } from './helpers/fixtures';
import { childPids, processRunning } from './helpers/serve';
import { deadline, delay, freePort, makeTestMedia, startRtspServer, type RtspServer } from './helpers/video';

const TOKEN = 'shutdown-test-token-51e0';
const auth = { authorization: `Bearer ${TOKEN}` };

let dir: string;
let rtsp: RtspServer;

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-shutdown-'));
  const media = await makeTestMedia(path.join(dir, 'media'), 2, 1);
  rtsp = await startRtspServer({ mounts: { cam0: media.slideshow, cam1: media.slideshow } });
});

test.after.always(async () => {
  await rtsp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('serve without a model or config is a usage error', async (t) => {
  const r = await runCli(['serve', '--port', '0'], { timeoutMs: 30_000 });
  t.is(r.code, 2);
  t.regex(r.stderr, /give --model M or --config FILE/);
  const bad = await runCli(['serve', '--config', path.join(dir, 'missing.yaml')], { timeoutMs: 30_000 });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /Cannot read the config file .*missing\.yaml: no such file/);
});

async function waitForReady(base: string, child: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${log()}`);
    try {
      const r = await fetch(`${base}/v1/streams`, { headers: auth });
      if (r.ok) {
        const { streams } = (await r.json()) as { streams: Array<{ state: string; framesProcessed: number }> };
        if (streams.length === 2 && streams.every((s) => s.state === 'connected')) return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`serve did not get ready: ${log()}`);
    await delay(250);
  }
}

test('SIGTERM under load: requests in flight get their answer, streams and decoders stop, exit 0, no child process left', async (t) => {
  const port = await freePort();
  const config = path.join(dir, 'serve.yaml');
  writeFileSync(
    config,
    [
      'models:',
      '  default:',
      `    model: ${models.yoloxNano}`,
      '    backend: onnxruntime',
      'token: ${SERVE_TEST_TOKEN}',
      'liveFps: 5',
      'cameras:',
      `  - id: door`,
      `    url: ${rtsp.url('cam0')}`,
      '    zones:',
      '      - id: floor',
      '        polygon: [[0, 240], [640, 240], [640, 480], [0, 480]]',
      `  - id: yard`,
      `    url: ${rtsp.url('cam1')}`,
      '    lines:',
      '      - { id: gate, from: [320, 0], to: [320, 480] }',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [cliPath, 'serve', '--config', config, '--port', String(port)], {
    env: { ...process.env, SERVE_TEST_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForReady(base, child, () => output);
    const decoders = childPids(child.pid!);
    t.is(decoders.length, 2, 'one ffmpeg decoder per camera');

    // Long-lived responses open: one event stream, one live view.
    const open: http.ClientRequest[] = [];
    const ended: string[] = [];
    for (const route of ['/v1/events', '/v1/streams/door/live.mjpeg']) {
      const request = http.get(`${base}${route}`, { headers: auth }, (res) => {
        res.resume();
        res.on('end', () => ended.push(route));
      });
      request.on('error', () => undefined);
      open.push(request);
    }

    // Load: 8 clients posting images back to back.
    const images = readdirSync(coco.evalImages).sort().slice(0, 8).map((f) => readFileSync(path.join(coco.evalImages, f)));
    interface Outcome {
      started: number;
      status: number | string;
    }
    const outcomes: Outcome[] = [];
    const inFlight = new Set<{ started: number }>();
    let stop = false;
    const clients = images.map(async (body) => {
      while (!stop) {
        const entry = { started: Date.now() };
        inFlight.add(entry);
        let status: number | string;
        try {
          status = (await fetch(`${base}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body })).status;
        } catch (err) {
          status = (err as { cause?: { code?: string } }).cause?.code ?? 'error';
        }
        inFlight.delete(entry);
        outcomes.push({ started: entry.started, status });
        if (status !== 200) break;
      }
    });
    await delay(3000);
    const sigterm = Date.now();
    // Surely at the server by now: started 150 ms or more before the signal (a POST on loopback
    // arrives within milliseconds), still unanswered. On a fast machine answers take ~200 ms, so
    // a longer margin (500 ms once) can leave nothing to count.
    const settled = new Set([...inFlight].filter((e) => sigterm - e.started >= 150).map((e) => e.started));
    child.kill('SIGTERM');
    const exit = await Promise.race([exited, deadline(30_000).then(() => ({ code: -1, signal: null }))]);
    stop = true;
    await Promise.all(clients);

    t.deepEqual(exit, { code: 0, signal: null }, `a clean exit (output: ${output.slice(-2000)})`);
    t.log(`${settled.size} requests in flight at SIGTERM, ${outcomes.length} requests in all; exit ${Date.now() - sigterm} ms after the signal (with the clients' last answers)`);
    const beforeSignal = outcomes.filter((o) => settled.has(o.started));
    t.true(settled.size >= 2, `requests were in flight at the signal (${settled.size})`);
    t.deepEqual(beforeSignal.map((o) => o.status), beforeSignal.map(() => 200), 'every request in flight at SIGTERM got its answer');
    t.true(outcomes.filter((o) => o.started < sigterm - 150).every((o) => o.status === 200), 'no error before the signal');
    t.false(outcomes.some((o) => typeof o.status === 'number' && o.status >= 500 && o.status !== 503), 'no 5xx other than 503 while closing');
    t.true(outcomes.length > 10, `the load ran (${outcomes.length} requests)`);
    await delay(200);
    t.deepEqual(ended.sort(), ['/v1/events', '/v1/streams/door/live.mjpeg'], 'the server ended the open event stream and live view');
    for (const pid of decoders) t.false(processRunning(pid), `decoder ${pid} is gone`);
    t.regex(output, /"msg":"shutting down: finishing requests in flight, stopping the decoders"/);
    t.false(output.includes(TOKEN), 'the token from the environment is in no log line');
    open.forEach((r) => r.destroy());
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
