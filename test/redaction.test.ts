/**
 * Credentials are redacted everywhere, in every URL form (issue 14, item 4): a password holding
 * '@', secret query parameters (token, password, auth, key, ...), percent-encoded passwords and
 * URLs, through every output (events, errors and their stacks, decoder logs, stats, the watch
 * status table and --json), and a GStreamer decoder gets them through its environment, never its
 * command line (which `ps` shows every local user).
 */
import test from 'ava';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createEngine, type Engine } from '../lib/engine';
import { ffmpegCredentialsNote } from '../lib/video/gst-env-launch';
import { createPipeline } from '../lib/video/pipeline';
import { makeRedactor, redactUrl } from '../lib/video/redact';
import type { SourceOptions } from '../lib/video/types';
import { runCli } from './helpers/cli';
import { models } from './helpers/fixtures';
import { delay, makeTestMedia, startRtspServer, type RtspServer, type TestMedia } from './helpers/video';

// ---- the forms, as text ----

test('a password holding @ is redacted whole: rtsp://admin:p@ss@cam/x', (t) => {
  t.is(redactUrl('rtsp://admin:p@ss@cam/x'), 'rtsp://admin:***@cam/x');
  t.is(redactUrl('rtsp://admin:p@ss@w@rd@cam:554/x?ch=1'), 'rtsp://admin:***@cam:554/x?ch=1');
  t.is(redactUrl('see rtsp://a:b@c/d and http://tok3n@host/x'), 'see rtsp://a:***@c/d and http://***@host/x');
  t.is(redactUrl('/var/videos/a@b.mp4 and rtsp://cam/x@y'), '/var/videos/a@b.mp4 and rtsp://cam/x@y', 'an @ in a path is not user info');
  t.is(redactUrl('rtsp://user@example.com:pw@cam/x'), 'rtsp://user@example.com:***@cam/x', 'a user name with @ keeps its name');
});

test('secret query and fragment parameters are redacted; others are kept', (t) => {
  t.is(
    redactUrl('rtsp://cam/live?token=abc123&channel=1&password=hunter22&auth=zz9&key=k77&passwd=p1&pwd=p2'),
    'rtsp://cam/live?token=***&channel=1&password=***&auth=***&key=***&passwd=***&pwd=***',
  );
  t.is(
    redactUrl('https://s3.example/v?X-Amz-Signature=ab12&X-Amz-Credential=AKIA%2F1&api_key=q&apikey=r&access_token=s&secret=u&signature=v&sig=w&size=2'),
    'https://s3.example/v?X-Amz-Signature=***&X-Amz-Credential=***&api_key=***&apikey=***&access_token=***&secret=***&signature=***&sig=***&size=2',
  );
  t.is(redactUrl('https://app/cb#access_token=xyz&state=1'), 'https://app/cb#access_token=***&state=1');
  t.is(redactUrl('https://app/x?api%5Fkey=enc0ded'), 'https://app/x?api%5Fkey=***', 'a percent-encoded parameter name');
  t.is(redactUrl('fps=15 bitrate=2000 key frame'), 'fps=15 bitrate=2000 key frame', 'log text without a URL is left alone');
});

test('percent-encoded passwords and URLs are redacted, and a redactor removes every form of its secrets', (t) => {
  t.is(redactUrl('rtsp://admin:p%40ss%3Aw0rd@cam/x'), 'rtsp://admin:***@cam/x');
  t.is(
    redactUrl('GET /proxy?src=rtsp%3A%2F%2Fadmin%3AS3cret%40cam%2Fx%3Ftoken%3DTok9%26ch%3D1'),
    'GET /proxy?src=rtsp%3A%2F%2Fadmin%3A***%40cam%2Fx%3Ftoken%3D***%26ch%3D1',
  );
  const redact = makeRedactor('rtsp://admin:p%40ss%3Aw0rd@cam/live?token=T0kenValue');
  const line = 'Connecting as admin with p@ss:w0rd (p%40ss%3Aw0rd, p%2540ss%253Aw0rd); token T0kenValue';
  const out = redact(line);
  for (const form of ['p@ss:w0rd', 'p%40ss%3Aw0rd', 'p%2540ss%253Aw0rd', 'T0kenValue']) t.false(out.includes(form), `${form} in ${out}`);
  t.true(out.startsWith('Connecting as admin with ***'));
});

// ---- the forms, through a real RTSP server, every output ----

const PASSWORD = 'S3cr@t:pw'; // holds '@' and ':'
const TOKEN = 'Tok3nValue9';
const QUERY_SECRETS = { token: TOKEN, password: 'PwInQuery7', auth: 'AuthValue5', key: 'KeyValue6' };

/** Every way a secret could show: whole, decoded, encoded, and the pieces a half-redaction leaves. */
const LEAKS = [PASSWORD, encodeURIComponent(PASSWORD), 'S3cr', 't:pw', 'Wr0ng', ...Object.values(QUERY_SECRETS)];

function leaksIn(text: string): string[] {
  return LEAKS.filter((secret) => text.includes(secret));
}

let dir: string;
let media: TestMedia;
let locked: RtspServer;
let open: RtspServer;
let engine: Engine;

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-redaction-'));
  media = await makeTestMedia(dir, 2, 1);
  locked = await startRtspServer({ mounts: { cam: media.slideshow }, user: 'admin', password: PASSWORD });
  open = await startRtspServer({ mounts: { cam: media.slideshow } });
  engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime', threads: 1 });
});
test.after.always(async () => {
  await locked?.stop();
  await open?.stop();
  await engine?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Observed {
  outputs: string[];
  commandLines: string[];
  detections: number;
  errors: Error[];
}

/**
 * Run one source until it has given `frames` detections (or failed, or `seconds` passed: a loaded
 * machine is slow to connect) and keep everything the pipeline said, and its decoder's command line.
 */
async function observe(source: SourceOptions, seconds: number, frames = 8): Promise<Observed> {
  const pipeline = createPipeline({ engine, sources: [source], statsIntervalMs: 200 });
  const observed: Observed = { outputs: [], commandLines: [], detections: 0, errors: [] };
  const keep = (name: string) => (...args: unknown[]) =>
    observed.outputs.push(`${name} ${JSON.stringify(args, (key, v) => (key === 'frame' ? undefined : v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v))}`);
  for (const name of ['connected', 'disconnected', 'reconnecting', 'end', 'log', 'stats'] as const) pipeline.on(name, keep(name));
  pipeline.on('error', (e) => {
    observed.errors.push(e.error);
    keep('error')(e);
  });
  pipeline.on('detections', (e) => {
    observed.detections++;
    keep('detections')(e);
    for (const pid of pipeline.decoderPids) {
      try {
        observed.commandLines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
      } catch {
        // the decoder just exited
      }
    }
  });
  const deadline = Date.now() + seconds * 1000;
  let idle = false;
  void pipeline.whenIdle().then(() => (idle = true));
  while (!idle && observed.detections < frames && Date.now() < deadline) await delay(100);
  observed.outputs.push(JSON.stringify(pipeline.info), JSON.stringify(pipeline.stats()));
  await pipeline.dispose();
  for (const e of observed.errors) observed.outputs.push(e.message, e.stack ?? '', String(e));
  return observed;
}

const forms = {
  'a password holding @ and :': () => locked.url('cam', `admin:${PASSWORD}`),
  'the same password percent-encoded': () => locked.url('cam', `admin:${encodeURIComponent(PASSWORD)}`),
  'tokens in the query': () => `${open.url('cam')}?${new URLSearchParams(QUERY_SECRETS).toString()}`,
};

for (const decoder of ['ffmpeg', 'gstreamer'] as const) {
  for (const [form, url] of Object.entries(forms)) {
    test.serial(`${decoder}, ${form}: connected, and no output holds a secret${decoder === 'gstreamer' ? ', nor the decoder\'s command line' : ''}`, async (t) => {
      const seen = await observe({ url: url(), id: 'cam', decoder, maxRetries: 0 }, 30);
      t.true(seen.detections > 5, `${seen.detections} frames: the credentials worked`);
      t.deepEqual(seen.errors.map((e) => e.message), []);
      t.true(seen.outputs.some((o) => o.startsWith('log ')), 'the decoder log lines were seen');
      t.true(seen.outputs.some((o) => o.startsWith('connected ') && o.includes('***')), 'the connected event shows the URL, redacted');
      for (const output of seen.outputs) t.deepEqual(leaksIn(output), [], output.slice(0, 300));
      if (decoder === 'gstreamer') {
        t.true(seen.commandLines.length > 0);
        for (const line of seen.commandLines) t.deepEqual(leaksIn(line), [], `ps shows: ${line}`);
      }
    });
  }
  test.serial(`${decoder}, a wrong password holding @, percent-encoded: the auth error, its stack and the logs hold no secret`, async (t) => {
    const seen = await observe({ url: locked.url('cam', `admin:${encodeURIComponent('Wr0ng@pass')}`), id: 'cam', decoder, maxRetries: 0 }, 30);
    t.is(seen.errors.length, 1, seen.outputs.join('\n').slice(0, 2000));
    t.regex(seen.errors[0].message, /authentication failed/);
    t.true(seen.errors[0].message.includes('rtsp://admin:***@127.0.0.1'));
    for (const output of seen.outputs) t.deepEqual(leaksIn(output), [], output.slice(0, 300));
  });
}

test.serial('watch: the status table, the event lines and --json hold no secret', async (t) => {
  const url = `rtsp://admin:${PASSWORD}@127.0.0.1:${locked.port}/cam`;
  const tokenUrl = `${open.url('cam')}?${new URLSearchParams(QUERY_SECRETS).toString()}`;
  const table = await runCli(['watch', url, tokenUrl, '--model', models.yoloxNano, '--duration', '8'], { timeoutMs: 60_000 });
  t.is(table.code, 0, table.stderr);
  t.regex(table.stderr, /stream0: connected to rtsp:\/\/admin:\*\*\*@127\.0\.0\.1/);
  t.regex(table.stderr, /fps in/, 'the status table was printed');
  t.deepEqual(leaksIn(table.stdout + table.stderr), []);
  const json = await runCli(['watch', url, tokenUrl, '--model', models.yoloxNano, '--duration', '6', '--json'], { timeoutMs: 60_000 });
  t.is(json.code, 0, json.stderr);
  t.true(json.stdout.includes('"event":"connected"'));
  t.deepEqual(leaksIn(json.stdout + json.stderr), []);
  const wrong = await runCli(['watch', `rtsp://admin:Wr0ng@pass@127.0.0.1:${locked.port}/cam`, '--model', models.yoloxNano, '--json'], { timeoutMs: 60_000 });
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /authentication failed/);
  t.deepEqual(leaksIn(wrong.stdout + wrong.stderr), []);
});

test('the one sentence probe and the docs give about ffmpeg and passwords', (t) => {
  t.regex(ffmpegCredentialsNote(), /command line, where other local users can read it \(ps\)/);
  t.true(readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'video.md'), 'utf8').includes('ps'), 'docs/video.md says it');
});
