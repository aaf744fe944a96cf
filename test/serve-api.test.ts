/**
 * The HTTP API of createServer against the real detector and a real RTSP camera: detection (raw,
 * multipart, annotated), every bad request the issue lists (no token or a wrong one, a 50 MB body,
 * a truncated JPEG, a JSON body for an image, an unknown stream id, a camera URL with credentials,
 * redacted everywhere), streams added and removed, Server-Sent Events, webhooks with retries, the
 * OpenAPI document, /metrics through a Prometheus text-format parser, CORS, and mounting.
 */
import test from 'ava';
import Fastify from 'fastify';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { createEngine, type Engine } from '../lib/engine';
import { createServer, type Int8DetectServer } from '../lib/serve/server';
import { coco, models } from './helpers/fixtures';
import { parsePrometheusText, type MetricType } from './helpers/prometheus-text';
import { LogCapture, readSse } from './helpers/serve';
import { delay, makeTestMedia, startRtspServer, type RtspServer, type TestMedia } from './helpers/video';

const TOKEN = 'api-test-token-2c9d41';
const CAMERA_PASSWORD = 'Cam3raPassw0rd';
const auth = { authorization: `Bearer ${TOKEN}` };

let dir: string;
let media: TestMedia;
let rtsp: RtspServer;
let lockedRtsp: RtspServer;
let engine: Engine;
let server: Int8DetectServer;
let address: string;
const logs = new LogCapture();
const image = readFileSync(path.join(coco.evalImages, readdirSync(coco.evalImages).sort()[0]));

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-api-'));
  media = await makeTestMedia(path.join(dir, 'media'), 2, 1);
  rtsp = await startRtspServer({ mounts: { cam0: media.slideshow, cam1: media.slideshow } });
  lockedRtsp = await startRtspServer({ mounts: { cam: media.slideshow }, user: 'admin', password: CAMERA_PASSWORD });
  engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
  server = await createServer({ engine, token: TOKEN, port: 0, logger: { level: 'debug', stream: logs }, cameras: [{ id: 'cam0', url: rtsp.url('cam0') }] });
  address = await server.listen();
});

test.after.always(async () => {
  await server?.close();
  await engine?.dispose();
  await rtsp?.stop();
  await lockedRtsp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

/** Send a body of `size` bytes with node:http (fetch would not let the server answer before the body is sent). */
function postLarge(url: string, size: number, contentType: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { ...auth, 'content-type': contentType, 'content-length': String(size) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server answers 413 and may close the connection while the body is still going out.
    request.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    const chunk = Buffer.alloc(1 << 20, 0xff);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.byteLength;
        if (!request.write(chunk)) return request.once('drain', pump);
      }
      request.end();
    };
    pump();
  });
}

test.serial('POST /v1/detect: JSON detections with labels, multipart, class filter by name, annotated JPEG', async (t) => {
  const direct = await engine.detect(image);
  const response = await fetch(`${address}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: image });
  t.is(response.status, 200);
  const body = await json<{ width: number; height: number; backend: string; detections: Array<{ label: string; score: number; box: { x1: number } }> }>(response);
  t.is(body.backend, 'onnxruntime');
  t.deepEqual(body.detections.map((d) => d.label), direct.map((d) => d.label), 'the same detections as engine.detect() on the file');
  t.true(body.detections.every((d, i) => Math.abs(d.box.x1 - direct[i].box.x1) < 1e-6));

  const form = new FormData();
  form.append('image', new Blob([image], { type: 'image/jpeg' }), 'photo.jpg');
  const multipart = await fetch(`${address}/v1/detect?classes=person`, { method: 'POST', headers: auth, body: form });
  t.is(multipart.status, 200);
  const persons = (await json<{ detections: Array<{ label: string }> }>(multipart)).detections;
  t.true(persons.length > 0 && persons.every((d) => d.label === 'person'));

  const annotated = await fetch(`${address}/v1/detect?annotated=1`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: image });
  t.is(annotated.status, 200);
  t.is(annotated.headers.get('content-type'), 'image/jpeg');
  const meta = await sharp(Buffer.from(await annotated.arrayBuffer())).metadata();
  t.deepEqual([meta.format, meta.width, meta.height], ['jpeg', body.width, body.height]);
});

test.serial('token: every /v1 route refuses a missing or wrong token with the same bare 401; health and metrics stay open', async (t) => {
  const routes: Array<[string, string]> = [
    ['GET', '/v1/streams'],
    ['POST', '/v1/streams'],
    ['GET', '/v1/streams/cam0'],
    ['DELETE', '/v1/streams/cam0'],
    ['GET', '/v1/streams/cam0/counts'],
    ['GET', '/v1/streams/cam0/snapshot.jpg'],
    ['GET', '/v1/streams/cam0/live.mjpeg'],
    ['GET', '/v1/events'],
    ['GET', '/v1/models'],
    ['POST', '/v1/detect'],
    ['GET', '/v1/no-such-route'],
  ];
  const bodies = new Set<string>();
  for (const [method, route] of routes) {
    const variants: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token-value' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${TOKEN}` }];
    for (const headers of variants) {
      const response = await fetch(`${address}${route}`, { method, headers });
      t.is(response.status, 401, `${method} ${route} with ${JSON.stringify(headers)}`);
      t.is(response.headers.get('www-authenticate'), 'Bearer realm="int8-detect"');
      bodies.add(await response.text());
    }
    const viaQuery = await fetch(`${address}${route}?token=wrong`, { method });
    t.is(viaQuery.status, 401);
  }
  t.is(bodies.size, 1, 'one answer for every refusal: nothing tells a wrong token from a missing one');
  t.false([...bodies][0].includes('cam0'), 'the refusal names nothing of the server');
  t.is((await fetch(`${address}/v1/streams?token=${TOKEN}`)).status, 200, 'the query form works for EventSource and <img>');
  t.is((await fetch(`${address}/healthz`)).status, 200);
  t.is((await fetch(`${address}/readyz`)).status, 200);
  t.is((await fetch(`${address}/metrics`)).status, 200);
});

test.serial('a 50 MB body is refused with 413 (raw: from its length, before reading; multipart: at the 20 MiB file limit)', async (t) => {
  const raw = await postLarge(`${address}/v1/detect`, 50 * 1024 * 1024, 'image/jpeg');
  t.is(raw.status, 413);
  t.regex(JSON.parse(raw.body).message, /too large/i);
  const boundary = 'xxboundaryxx';
  const multipart = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = http.request(`${address}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    request.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    request.write(`--${boundary}\r\ncontent-disposition: form-data; name="image"; filename="big.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`);
    const chunk = Buffer.alloc(1 << 20, 0xff);
    let sent = 0;
    const pump = () => {
      while (sent < 50 * 1024 * 1024) {
        sent += chunk.byteLength;
        if (!request.write(chunk)) return request.once('drain', pump);
      }
      request.end(`\r\n--${boundary}--\r\n`);
    };
    pump();
  });
  t.is(multipart.status, 413);
  t.regex(JSON.parse(multipart.body).message, /larger than the limit of 20971520 bytes/);
  const jsonTooBig = await fetch(`${address}/v1/streams`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ url: `rtsp://x/${'a'.repeat(300_000)}` }) });
  t.is(jsonTooBig.status, 413);
});

test.serial('an image that does not decode is a 400 with the reason: a truncated JPEG, a JSON body, garbage, an empty body', async (t) => {
  const truncated = await fetch(`${address}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: image.subarray(0, Math.floor(image.byteLength / 2)) });
  t.is(truncated.status, 400);
  t.regex((await json<ErrorBody>(truncated)).message, /premature end of JPEG/i);

  const asJson = await fetch(`${address}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ image: 'x' }) });
  t.is(asJson.status, 415);
  t.regex((await json<ErrorBody>(asJson)).message, /^Expected an image body .* but received application\/json$/);

  const jsonAsImage = await fetch(`${address}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: JSON.stringify({ image: 'x' }) });
  t.is(jsonAsImage.status, 400);
  t.regex((await json<ErrorBody>(jsonAsImage)).message, /unsupported image format/);

  const empty = await fetch(`${address}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: Buffer.alloc(0) });
  t.is(empty.status, 400);
  const text = await fetch(`${address}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' });
  t.is(text.status, 415);
  const badQuery = await fetch(`${address}/v1/detect?scoreThreshold=2`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: image });
  t.is(badQuery.status, 400);
  const badClass = await fetch(`${address}/v1/detect?classes=unicorn`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: image });
  t.is(badClass.status, 400);
  t.regex((await json<ErrorBody>(badClass)).message, /class names for classes\[0\] but received "unicorn"/);
  // The server is still fine.
  t.is((await fetch(`${address}/v1/detect`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: image })).status, 200);
});

test.serial('createServer, its cameras and webhooks refuse a misspelt option, naming the closest one', async (t) => {
  const refused = async (options: Parameters<typeof createServer>[0], message: RegExp) => {
    const error = await t.throwsAsync(createServer(options));
    t.is((error as { code?: string }).code, 'ERR_ARGUMENT');
    t.regex(error!.message, message);
  };
  await refused({ engine, port: 0, camera: [] } as never, /Unknown option 'camera' for createServer\(\): did you mean 'cameras'\?/);
  await refused({ engine, port: 0, cameras: [{ url: rtsp.url('cam1'), zone: [] } as never] }, /Unknown option 'zone'.*did you mean 'zones'\?/);
  await refused({ engine, port: 0, webhooks: [{ url: 'http://127.0.0.1:9/hook', retrys: 2 } as never] }, /Unknown option 'retrys'.*did you mean 'retries'\?/);
  t.throws(() => server.addStream({ url: rtsp.url('cam1'), maxFPS: 5 } as never), { message: /Unknown option 'maxFPS'.*did you mean 'maxFps'\?/ });
  t.deepEqual(server.streams().map((s) => s.id), ['cam0'], 'nothing was added');
});

test.serial('an unknown stream id is a 404 on every stream route', async (t) => {
  for (const [method, route] of [
    ['GET', '/v1/streams/nope'],
    ['DELETE', '/v1/streams/nope'],
    ['GET', '/v1/streams/nope/counts'],
    ['GET', '/v1/streams/nope/snapshot.jpg'],
    ['GET', '/v1/streams/nope/live.mjpeg'],
  ]) {
    const response = await fetch(`${address}${route}`, { method, headers: auth });
    t.is(response.status, 404, `${method} ${route}`);
    t.is((await json<ErrorBody>(response)).message, "No stream with the id 'nope'");
  }
  const odd = await fetch(`${address}/v1/streams/${encodeURIComponent('<script>')}`, { headers: auth });
  t.is((await json<ErrorBody>(odd)).message, 'No stream with that id', 'an id outside the allowed form is not echoed');
});

test.serial('streams: bad bodies are refused with the reason; file sources need allowFileSources; duplicates conflict', async (t) => {
  const post = (body: unknown) => fetch(`${address}/v1/streams`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const cases: Array<[unknown, number, RegExp]> = [
    [{}, 400, /must have required property 'url'/],
    [{ url: '/etc/passwd' }, 400, /file path \(files and \/dev\/video devices need allowFileSources\)/],
    [{ url: 'file:///etc/passwd' }, 400, /the scheme file:/],
    [{ url: rtsp.url('cam1'), zone: [] }, 400, /must NOT have additional properties/],
    [{ url: rtsp.url('cam1'), zones: [{ id: 'a', polygon: [[0, 0], [1, 1]] }] }, 400, /must NOT have fewer than 3 items/],
    [{ url: rtsp.url('cam1'), classes: ['unicorn'] }, 400, /class names for body.classes\[0\]/],
    [{ url: rtsp.url('cam1'), id: 'cam0' }, 409, /exists already/],
    [{ url: rtsp.url('cam1'), id: 'bad id!' }, 400, /must match pattern/],
  ];
  for (const [body, status, message] of cases) {
    const response = await post(body);
    t.is(response.status, status, JSON.stringify(body).slice(0, 80));
    t.regex((await json<ErrorBody>(response)).message, message);
  }
  t.deepEqual(server.streams().map((s) => s.id), ['cam0'], 'nothing was added');
});

test.serial('a camera URL with credentials: it connects, and the password is in no response, event, metric, page or log line', async (t) => {
  const events = readSse(`${address}/v1/events`, auth);
  t.is(await events.status, 200);
  const url = lockedRtsp.url('cam', `admin:${CAMERA_PASSWORD}`);
  const created = await fetch(`${address}/v1/streams`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'locked', url, zones: [{ id: 'all', polygon: [[0, 0], [640, 0], [640, 480], [0, 480]] }] }) });
  t.is(created.status, 201);
  t.is(created.headers.get('location'), 'streams/locked');
  const info = await json<{ url: string; state: string }>(created);
  t.is(info.url, `rtsp://admin:***@127.0.0.1:${lockedRtsp.port}/cam`);
  await until(async () => (await fetch(`${address}/v1/streams/locked/snapshot.jpg`, { headers: auth })).status === 200, 30_000, 'a frame from the locked camera');
  await events.waitFor((m) => m.event === 'detections' && (m.data as { stream: string }).stream === 'locked', 10_000);

  // A wrong password too: its failure is reported, redacted.
  const wrong = await fetch(`${address}/v1/streams`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'wrongpw', url: lockedRtsp.url('cam', 'admin:Wr0ngPassw0rd') }) });
  t.is(wrong.status, 201);
  await events.waitFor((m) => m.event === 'stream.state' && (m.data as { stream: string; state: string }).stream === 'wrongpw' && (m.data as { state: string }).state === 'failed', 30_000);

  const everything = [
    JSON.stringify(info),
    await (await fetch(`${address}/v1/streams`, { headers: auth })).text(),
    await (await fetch(`${address}/v1/streams/locked`, { headers: auth })).text(),
    await (await fetch(`${address}/v1/streams/wrongpw`, { headers: auth })).text(),
    await (await fetch(`${address}/metrics`)).text(),
    await (await fetch(`${address}/`)).text(),
    await (await fetch(`${address}/assets/live.js`)).text(),
    await (await fetch(`${address}/openapi.json`)).text(),
    JSON.stringify(events.messages),
    logs.text,
  ];
  for (const secret of [CAMERA_PASSWORD, 'Wr0ngPassw0rd', TOKEN]) {
    everything.forEach((text, i) => t.false(text.includes(secret), `a secret in item ${i}: ${text.slice(Math.max(0, text.indexOf(secret) - 80), text.indexOf(secret) + 20)}`));
  }
  t.true(logs.text.includes('rtsp://admin:***@127.0.0.1'), 'the log names the camera, redacted');
  t.true(events.messages.some((m) => m.event === 'stream.added' && JSON.stringify(m.data).includes('admin:***@')));

  for (const id of ['locked', 'wrongpw']) t.is((await fetch(`${address}/v1/streams/${id}`, { method: 'DELETE', headers: auth })).status, 204);
  await events.waitFor((m) => m.event === 'stream.removed' && (m.data as { stream: string }).stream === 'wrongpw', 5000);
  events.close();
});

test.serial('Server-Sent Events: filtered by type and stream; an unknown type is a 400', async (t) => {
  t.is((await fetch(`${address}/v1/events?types=zone.enter,bogus`, { headers: auth })).status, 400);
  const sse = readSse(`${address}/v1/events?types=detections&streams=cam0`, auth);
  t.is(await sse.status, 200);
  const first = await sse.waitFor((m) => m.event === 'detections', 15_000);
  t.like(first.data as object, { type: 'detections', stream: 'cam0', width: 640, height: 480 });
  await delay(500);
  t.true(sse.messages.every((m) => m.event === 'detections' && (m.data as { stream: string }).stream === 'cam0'));
  t.true(sse.messages.length >= 2);
  const ids = sse.messages.map((m) => Number(m.id));
  t.true(ids.every((id, i) => i === 0 || id > ids[i - 1]), 'event ids increase');
  sse.close();
});

test.serial('GET /metrics parses as Prometheus text format with the stream, inference, event and HTTP families', async (t) => {
  // The per-second gauges are set once a stats interval has passed with frames.
  let text = '';
  await until(async () => /int8_detect_stream_fps_in\{stream="cam0"\} [1-9]/.test((text = await (await fetch(`${address}/metrics`)).text())), 20_000, 'frames counted on cam0');
  const families = parsePrometheusText(text);
  const byName = new Map(families.map((f) => [f.name, f]));
  const expect: Array<[string, MetricType]> = [
    ['int8_detect_stream_fps_in', 'gauge'],
    ['int8_detect_stream_fps_processed', 'gauge'],
    ['int8_detect_stream_frames_dropped_total', 'counter'],
    ['int8_detect_stream_latency_seconds', 'histogram'],
    ['int8_detect_inference_seconds', 'histogram'],
    ['int8_detect_stream_reconnects_total', 'counter'],
    ['int8_detect_stream_decoder_cpu_cores', 'gauge'],
    ['int8_detect_events_total', 'counter'],
    ['int8_detect_http_request_duration_seconds', 'histogram'],
    ['process_resident_memory_bytes', 'gauge'],
  ];
  for (const [name, type] of expect) t.is(byName.get(name)?.type, type, name);
  const sample = (family: string, name: string, labels: Record<string, string>) =>
    byName.get(family)?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  const fps = sample('int8_detect_stream_fps_in', 'int8_detect_stream_fps_in', { stream: 'cam0' });
  t.true((fps?.value ?? 0) > 0, `cam0 reads frames (${fps?.value} fps)`);
  t.true((sample('int8_detect_stream_latency_seconds', 'int8_detect_stream_latency_seconds_count', { stream: 'cam0' })?.value ?? 0) > 0);
  t.true((byName.get('int8_detect_stream_latency_seconds')?.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.stream === 'cam0').length ?? 0) > 5);
  t.true((sample('int8_detect_inference_seconds', 'int8_detect_inference_seconds_count', { backend: 'onnxruntime', precision: 'fp32', source: 'stream' })?.value ?? 0) > 0);
  t.true((sample('int8_detect_inference_seconds', 'int8_detect_inference_seconds_count', { source: 'http' })?.value ?? 0) > 0);
  t.false(families.some((f) => f.samples.some((s) => Object.values(s.labels).some((v) => v.includes('://')))), 'no URL in any label');
  t.false(text.includes('locked'), 'the removed streams left no series behind');
});

test.serial('GET /openapi.json: an OpenAPI 3 document of every route, the image body and the bearer token', async (t) => {
  const doc = await json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> }>>; components: { securitySchemes: object }; security: unknown[] }>(await fetch(`${address}/openapi.json`));
  t.regex(doc.openapi, /^3\./);
  for (const p of ['/v1/detect', '/v1/streams', '/v1/streams/{id}', '/v1/streams/{id}/snapshot.jpg', '/v1/streams/{id}/live.mjpeg', '/v1/streams/{id}/counts', '/v1/events', '/healthz', '/readyz', '/metrics']) t.truthy(doc.paths[p], p);
  t.deepEqual(Object.keys(doc.paths['/v1/streams']).sort(), ['get', 'post']);
  t.truthy(doc.paths['/v1/streams/{id}'].delete);
  const detect = doc.paths['/v1/detect'].post;
  t.true(['image/jpeg', 'image/png', 'multipart/form-data'].every((type) => type in detect.requestBody!.content));
  t.truthy(detect.responses['413']);
  t.deepEqual(doc.security, [{ bearer: [] }]);
  t.false(JSON.stringify(doc).includes('/openapi.json'), 'the document does not list itself');
});

test.serial('webhooks: each event POSTed as JSON, retried with backoff after failures', async (t) => {
  const received: Array<{ attempt: number; body: { type: string; stream: string } }> = [];
  let attempts = 0;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      attempts++;
      // The first two tries fail: a 503, then a 500.
      res.statusCode = attempts === 1 ? 503 : attempts === 2 ? 500 : 200;
      res.end();
      received.push({ attempt: attempts, body: JSON.parse(body) as { type: string; stream: string } });
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const second = await createServer({ engine, port: 0, webhooks: [{ url: hookUrl, events: ['stream.added'], retries: 3, backoffMs: 50 }] });
  try {
    second.addStream({ id: 'hooked', url: rtsp.url('cam1') });
    await until(async () => received.some((r) => r.attempt === 3), 10_000, 'the third delivery');
    t.deepEqual(received.map((r) => [r.attempt, r.body.type, r.body.stream]), [
      [1, 'stream.added', 'hooked'],
      [2, 'stream.added', 'hooked'],
      [3, 'stream.added', 'hooked'],
    ]);
    const metrics = await second.app.inject({ url: '/metrics' });
    t.regex(metrics.body, /int8_detect_webhook_deliveries_total\{outcome="retried"\} 2/);
    t.regex(metrics.body, /int8_detect_webhook_deliveries_total\{outcome="delivered"\} 1/);
  } finally {
    await second.close();
    receiver.close();
  }
});

test.serial('CORS is off by default and on for the configured origins; the server mounts into an existing fastify app under a prefix', async (t) => {
  const plain = await fetch(`${address}/v1/streams`, { headers: { ...auth, origin: 'http://evil.example' } });
  t.is(plain.headers.get('access-control-allow-origin'), null);
  const preflight = await fetch(`${address}/v1/streams`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' } });
  t.is(preflight.headers.get('access-control-allow-origin'), null);

  const app = Fastify();
  app.get('/', async () => ({ mine: true }));
  const mounted = await createServer({ engine, app, prefix: '/detector', cors: { origins: ['http://dashboard.example'] } });
  try {
    await mounted.ready();
    t.deepEqual((await app.inject({ url: '/' })).json(), { mine: true }, 'the host app keeps its own routes');
    const streams = await app.inject({ url: '/detector/v1/streams', headers: { origin: 'http://dashboard.example' } });
    t.is(streams.statusCode, 200);
    t.is(streams.headers['access-control-allow-origin'], 'http://dashboard.example');
    const other = await app.inject({ url: '/detector/v1/streams', headers: { origin: 'http://evil.example' } });
    t.is(other.headers['access-control-allow-origin'], undefined);
    const page = await app.inject({ url: '/detector' });
    t.is(page.statusCode, 302);
    t.is(page.headers.location, '/detector/');
    t.regex((await app.inject({ url: '/detector/' })).body, /assets\/live\.js/);
  } finally {
    await mounted.close();
    await app.close();
  }
});
