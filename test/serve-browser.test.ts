/**
 * The live view page in a real browser: Debian's chromium driven by playwright-core, against a
 * server with two cameras on the test RTSP server. Pixels are checked in screenshots (boxes in the
 * track colours, the counting line), a stream added through the API appears without a reload,
 * the page logs no console error, and a page opened without the token asks for it.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { createEngine, type Engine } from '../lib/engine';
import { LINE_COLOUR, TRACK_COLOURS } from '../lib/serve/overlay';
import { createServer, type Int8DetectServer } from '../lib/serve/server';
import { models } from './helpers/fixtures';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing, LogCapture } from './helpers/serve';
import { delay, makeTestMedia, startRtspServer, type RtspServer, type TestMedia } from './helpers/video';

const TOKEN = 'browser-test-token-7f3a';
const missing = chromiumMissing();
// CI installs chromium (.ci/run): there a missing browser is a failure, not a skip.
const browserTest = missing && !process.env.CI ? test.serial.skip : test.serial;
const title = (name: string) => (missing && !process.env.CI ? `${name} (skipped: ${missing})` : name);

let dir: string;
let media: TestMedia;
let rtsp: RtspServer;
let engine: Engine;
let server: Int8DetectServer;
let address: string;
let context: BrowserContext;
const logs = new LogCapture();

test.before(async () => {
  if (missing && !process.env.CI) return;
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-browser-'));
  media = await makeTestMedia(path.join(dir, 'media'), 4, 1);
  rtsp = await startRtspServer({ mounts: { cam0: media.slideshow, cam1: media.slideshow, cam2: media.slideshow } });
  engine = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime' });
  server = await createServer({
    engine,
    token: TOKEN,
    port: 0,
    logger: { level: 'debug', stream: logs },
    cameras: [
      { id: 'door', url: rtsp.url('cam0'), lines: [{ id: 'entrance', from: [40, 240], to: [600, 240] }], zones: [{ id: 'lobby', polygon: [[0, 300], [640, 300], [640, 480], [0, 480]] }] },
      { id: 'yard', url: rtsp.url('cam1') },
    ],
  });
  address = await server.listen();
  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
});

test.after.always(async () => {
  await context?.close();
  await server?.close();
  await engine?.dispose();
  await rtsp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function hex(colour: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16)) as [number, number, number];
}

/**
 * Pixels of horizontal runs (8 px or longer) of one of `colours`, within 30 per channel: the
 * strokes and caption blocks the overlay draws. Photographs rarely hold such saturated runs.
 */
async function colourRunPixels(image: Buffer | string, colours: readonly string[], size?: { width: number; height: number }): Promise<number> {
  let pipeline = sharp(image).removeAlpha();
  if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const targets = colours.map(hex);
  let total = 0;
  for (let y = 0; y < info.height; y++) {
    let run = 0;
    let runColour = -1;
    for (let x = 0; x <= info.width; x++) {
      let match = -1;
      if (x < info.width) {
        const o = (y * info.width + x) * info.channels;
        match = targets.findIndex((c) => Math.abs(data[o] - c[0]) <= 30 && Math.abs(data[o + 1] - c[1]) <= 30 && Math.abs(data[o + 2] - c[2]) <= 30);
      }
      if (match >= 0 && match === runColour) {
        run++;
        continue;
      }
      if (run >= 8) total += run;
      run = match >= 0 ? 1 : 0;
      runColour = match;
    }
  }
  return total;
}

/** Poll the page from Node (its CSP rightly forbids the eval that waitForFunction with a string needs). */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}

async function tileScreenshot(page: Page, stream: string): Promise<Buffer> {
  return page.locator(`.tile[data-stream="${stream}"] .view img`).screenshot();
}

/** The most run pixels any screenshot of the tile shows within `ms`. */
async function bestOver(page: Page, stream: string, colours: readonly string[], ms: number): Promise<{ best: number; shot: Buffer }> {
  let best = -1;
  let shot: Buffer = Buffer.alloc(0);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const image = await tileScreenshot(page, stream);
    const n = await colourRunPixels(image, colours);
    if (n > best) {
      best = n;
      shot = image;
    }
    await delay(250);
  }
  return { best, shot };
}

browserTest(title('the live page shows both cameras with boxes drawn (pixels checked), a stream added through the API appears without a reload, no console errors'), async (t) => {
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));

  // Frames with tracks must have reached the server before the screenshots are worth taking.
  const seen = new Set<string>();
  const unsubscribe = server.on((e) => {
    if (e.type === 'detections' && e.tracks.length > 0) seen.add(e.stream);
  });
  await page.goto(`${address}/?token=${TOKEN}`);
  t.false(page.url().includes('token='), 'the token leaves the address bar at once');
  await until(async () => (await page.locator('.tile .view.live').count()) === 2, 30_000, 'two live tiles');
  const deadline = Date.now() + 20_000;
  while (!(seen.has('door') && seen.has('yard')) && Date.now() < deadline) await delay(200);
  unsubscribe();
  t.true(seen.has('door') && seen.has('yard'), `tracks on both cameras (seen: ${[...seen]})`);

  // The control: the stills the cameras show, without annotations, at the size they appear in the tile.
  const box = await page.locator('.tile[data-stream="yard"] .view img').boundingBox();
  t.truthy(box);
  const size = { width: Math.round(box!.width), height: Math.round(box!.height) };
  const stillTracks = await Promise.all(media.stills.map((s) => colourRunPixels(s, TRACK_COLOURS, size)));
  const stillLine = await Promise.all(media.stills.map((s) => colourRunPixels(s, [LINE_COLOUR], size)));

  const yard = await bestOver(page, 'yard', TRACK_COLOURS, 5000);
  const door = await bestOver(page, 'door', [LINE_COLOUR], 1000);
  t.log(`tile ${size.width}x${size.height}: track-colour run pixels on 'yard' ${yard.best} (stills: max ${Math.max(...stillTracks)}); line-colour run pixels on 'door' ${door.best} (stills: max ${Math.max(...stillLine)})`);
  // INT8_DETECT_SCREENSHOT=path keeps the page's screenshot for a person to look at (never committed).
  if (process.env.INT8_DETECT_SCREENSHOT) await page.screenshot({ path: process.env.INT8_DETECT_SCREENSHOT });
  t.true(yard.best >= 150 && yard.best > 5 * Math.max(10, ...stillTracks), 'boxes and captions in track colours are on screen, far beyond what the stills hold');
  t.true(door.best >= 100 && door.best > 5 * Math.max(10, ...stillLine), 'the counting line is drawn');
  const shot = await sharp(yard.shot).stats();
  t.true(shot.channels.some((c) => c.stdev > 20), 'the tile shows a picture, not a flat colour');

  // State and figures come from the events.
  await until(async () => (await page.locator('.tile .state').allTextContents()).every((s) => s === 'connected'), 10_000, 'every tile connected');
  await until(async () => (await page.locator('.tile .fps-in').allTextContents()).every((s) => Number(s) > 0), 10_000, 'fps shown on every tile');

  // A third stream through the API: a tile appears without a reload.
  await page.evaluate(() => ((globalThis as Record<string, unknown>).notReloaded = true));
  const added = await fetch(`${address}/v1/streams`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'gate', url: rtsp.url('cam2') }),
  });
  t.is(added.status, 201);
  await until(async () => (await page.locator('.tile').count()) === 3, 10_000, 'a third tile');
  await until(async () => (await page.locator('.tile[data-stream="gate"] .view.live').count()) === 1, 30_000, 'the third tile live');
  t.true(await page.evaluate(() => (globalThis as Record<string, unknown>).notReloaded === true), 'the same page: no reload');
  const gate = await bestOver(page, 'gate', TRACK_COLOURS, 3000);
  t.true(gate.best >= 150, `the new tile shows boxes too (${gate.best} run pixels)`);

  // And one removed goes away.
  const removed = await fetch(`${address}/v1/streams/gate`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
  t.is(removed.status, 204);
  await until(async () => (await page.locator('.tile').count()) === 2, 10_000, 'two tiles');
  t.deepEqual(consoleErrors, [], 'no console errors');
  await page.close();
});

browserTest(title('without the token in its address the page asks for it, refuses a wrong one, and opens with the right one'), async (t) => {
  const page = await context.newPage();
  await page.goto(`${address}/`);
  await page.waitForSelector('#login:not([hidden])', { timeout: 10_000 });
  t.is(await page.locator('.tile').count(), 0);
  await page.fill('#token', 'wrong-token-123');
  await page.click('#login button');
  await until(async () => (await page.locator('#login-error').textContent()) === 'That token was refused.', 10_000, 'the refusal shown');
  await page.fill('#token', TOKEN);
  await page.click('#login button');
  await until(async () => (await page.locator('.tile').count()) === 2, 10_000, 'two tiles');
  t.true(await page.locator('#login').isHidden());
  await page.close();
  // The token travelled in headers and query strings all along: none of it reached a log line.
  t.true(logs.lines.length > 10);
  t.false(logs.text.includes(TOKEN), 'the token is in no log line');
  t.false(logs.text.includes('wrong-token-123'));
});
