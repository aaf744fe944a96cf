/**
 * The CLI talks CLI (issue 14, item 8): errors raised by the library name flags, not library
 * options; quantize's help and --backend; help <command>; exit codes documented; raw errors with
 * their context; eval's one number style; watch --max-retries, --calibration and --max-fps in
 * video time; quantize's progress lines in a log.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli';
import { coco, models } from './helpers/fixtures';
import { gridCells, tinyModel } from './helpers/tiny-onnx';
import { makeTestMedia, type TestMedia } from './helpers/video';

let dir: string;
let media: TestMedia;
let calib: string;
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-cli-talk-'));
  // 10 COCO stills, 1 s each at 15 fps: a 10 s, 150-frame video.
  media = await makeTestMedia(path.join(dir, 'media'), 10, 1);
  calib = path.join(dir, 'calib');
  await fs.mkdir(calib);
  for (const name of (await fs.readdir(coco.calibImages)).sort().slice(0, 12)) await fs.copyFile(path.join(coco.calibImages, name), path.join(calib, name));
});
test.after.always(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('a model no decoder recognises: the error says --family and --output-layout, not family: and outputLayout', async (t) => {
  const file = path.join(dir, 'odd.onnx');
  await fs.writeFile(file, tinyModel({ inputDims: [1, 3, 64, 64], outputDims: [1, 7, 13], outputName: 'logits' }));
  const r = await runCli(['detect', path.join(coco.evalImages, '000000187334.jpg'), '--model', file]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /pass --family yolox\|yolov5\|yolov8 \(and --output-layout for a transposed yolov8\) to choose its decoder/);
  t.notRegex(r.stderr, /family: 'yolox'|outputLayout/);
});

test('a guessed family warns in CLI words: --family', async (t) => {
  const file = path.join(dir, 'ambiguous.onnx');
  await fs.writeFile(file, tinyModel({ inputDims: [1, 3, 32, 32], outputDims: [1, gridCells(32, 32), 7] }));
  const r = await runCli(['detect', path.join(coco.evalImages, '000000187334.jpg'), '--model', file]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^int8-detect detect: warning: output \[1,21,7\] fits both a yolox and a transposed yolov8 head.*pass --family yolox\|yolov5\|yolov8 to say which$/m);
  t.notRegex(r.stderr, /\(node:\d+\)|family: 'yolox'/);
});

test('watch: a missing ffmpeg says --ffmpeg; INT8 of a float model says --calibration DIR', async (t) => {
  const missing = await runCli(['watch', media.slideshow, '--model', models.yoloxNano, '--ffmpeg', '/nonexistent/bin/ffmpeg']);
  t.is(missing.code, 1, missing.stderr);
  t.regex(missing.stderr, /install ffmpeg \(Debian\/Ubuntu: apt-get install ffmpeg\) or set --ffmpeg to its location/);
  t.notRegex(missing.stderr, /ffmpegPath/);
  const int8 = await runCli(['watch', media.slideshow, '--model', models.yoloxNano, '--precision', 'int8']);
  t.is(int8.code, 1, int8.stderr);
  t.regex(int8.stderr, /--precision int8 was requested, .* pass --calibration DIR \(calibration images\) to quantize it here/);
  t.notRegex(int8.stderr, /pass calibrator|precision 'int8'/);
});

test('watch --precision int8 --calibration DIR quantizes the float model and runs it', async (t) => {
  const cacheDir = path.join(dir, 'cache');
  // --max-drop 0.5 lets the all-INT8 model through without the sensitivity search (minutes on 12
  // frames): what is tested here is that the CLI quantizes and serves, not the check itself.
  const r = await runCli(['watch', media.slideshow, '--model', models.yoloxNano, '--backend', 'onnxruntime', '--precision', 'int8', '--calibration', calib, '--max-drop', '0.5', '--json', '--max-fps', '2'], {
    env: { INT8_DETECT_CACHE_DIR: cacheDir },
    timeoutMs: 400_000,
  });
  t.is(r.code, 0, r.stderr);
  const frames = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event?: string; detections?: unknown[] }).filter((l) => l.event === undefined);
  t.true(frames.length >= 15, `${frames.length} frames`);
  t.true(frames.some((f) => (f.detections ?? []).length > 0), 'the INT8 model finds objects');
  const cached = await fs.readdir(path.join(cacheDir, 'int8'));
  t.true(cached.some((f) => f.endsWith('.onnx')), `the INT8 model was cached: ${cached.join(', ')}`);
  const alone = await runCli(['watch', media.slideshow, '--model', models.yoloxNano, '--calibration', calib]);
  t.is(alone.code, 2);
  t.regex(alone.stderr, /--calibration quantizes a float model for --precision int8/);
});

test('--max-fps on a file counts video time: 10 s of video at --max-fps 5 gives 50 frames', async (t) => {
  const r = await runCli(['watch', media.slideshow, '--model', models.yoloxNano, '--json', '--max-fps', '5']);
  t.is(r.code, 0, r.stderr);
  const frames = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event?: string; pts: number }).filter((l) => l.event === undefined);
  t.is(frames.length, 50, `${frames.length} frames`);
  const gaps = frames.slice(1).map((f, i) => f.pts - frames[i].pts);
  t.true(gaps.every((g) => Math.abs(g - 0.2) < 0.01), `one frame every 0.2 s of video: ${gaps.slice(0, 5).join(', ')}`);
});

test('watch --max-retries N: a camera that refuses connections is given up after N reconnects', async (t) => {
  // A port nobody listens on: every connect is refused at once.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const r = await runCli(['watch', `rtsp://127.0.0.1:${port}/cam`, '--model', models.yoloxNano, '--max-retries', '2', '--json'], { timeoutMs: 60_000 });
  t.is(r.code, 1, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; message?: string });
  t.is(events.filter((e) => e.event === 'reconnecting').length, 2);
  t.regex(r.stderr, /gave up after 2 reconnect attempts .*raise --max-retries to keep trying longer/);
  const bad = await runCli(['watch', media.slideshow, '--model', models.yoloxNano, '--max-retries=-1']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--max-retries expects an integer >= 0, got -1/);
});

test('quantize --help lists --backend, --preset and --subset; --backend onnxruntime runs; progress lines reach a log', async (t) => {
  const help = await runCli(['quantize', '--help']);
  t.is(help.code, 0);
  for (const flag of ['--backend B', '--preset P', '--subset N', 'Exit codes:']) t.true(help.stdout.includes(flag), flag);
  t.regex(help.stdout, /onnxruntime \(default/);
  const out = path.join(dir, 'q', 'm.int8.onnx');
  const r = await runCli(['quantize', '--backend', 'onnxruntime', '--model', models.yoloxNano, '--calib', calib, '--out', out, '--no-search', '--held-back', '3']);
  t.is(r.code, 0, r.stderr);
  t.true((await fs.stat(out)).size > 0);
  // stderr is a pipe here, as in CI: the work still says it is alive, a line at a time.
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('int8-detect quantize: calibrate '));
  t.true(lines.length >= 5, r.stderr);
  t.regex(lines[lines.length - 1], /^int8-detect quantize: calibrate (\d+)\/\1 \(100 %\), \d+\.\d\/s$/);
  t.regex(r.stderr, /^int8-detect quantize: plan$/m);
  const trt = await runCli(['quantize', '--backend', 'tensorrt', '--model', models.yoloxNano, '--calib', calib, '--out', out]);
  t.is(trt.code, 2);
  t.regex(trt.stderr, /--backend expects (onnxruntime or openvino|openvino or onnxruntime), got tensorrt \(tensorrt reads the Q\/DQ model quantize writes, or builds INT8 itself/);
});

test('help <command> prints its help; --help documents the exit codes', async (t) => {
  const viaHelp = await runCli(['help', 'detect']);
  const viaFlag = await runCli(['detect', '--help']);
  t.is(viaHelp.code, 0);
  t.is(viaHelp.stdout, viaFlag.stdout);
  t.regex(viaHelp.stdout, /^Usage: int8-detect detect/);
  const top = await runCli(['--help']);
  t.regex(top.stdout, /Exit codes:\n {2}0 {2}done\n {2}1 {2}failed/);
  t.regex(viaFlag.stdout, /Exit codes:/);
  const nothing = await runCli(['help', 'frobnicate']);
  t.is(nothing.code, 2);
});

test('raw errors get their context: a bad image names its file; --width 100000 is a usage error, not a RangeError', async (t) => {
  const bad = path.join(dir, 'bad.jpg');
  await fs.writeFile(bad, 'not a jpeg');
  const image = await runCli(['bench', '--model', models.yoloxNano, '--images', bad, '--iterations', '1', '--rounds', '1']);
  t.is(image.code, 1, image.stderr);
  t.regex(image.stderr, /^int8-detect bench: Could not decode the image .*bad\.jpg: /);
  for (const flag of ['--width', '--height']) {
    const huge = await runCli(['bench', '--model', models.yoloxNano, flag, '100000', '--iterations', '1', '--rounds', '1']);
    t.is(huge.code, 2, huge.stderr);
    t.regex(huge.stderr, new RegExp(`${flag} expects an integer from 2 to 8192, got 100000`));
    t.notRegex(huge.stderr, /RangeError|out of range/);
  }
  const floor = await runCli(['quantize', '--model', models.yoloxNano, '--calib', coco.calibImages, '--out', path.join(os.tmpdir(), 'never.onnx'), '--min-int8', '1.5']);
  t.is(floor.code, 2, floor.stderr);
  t.regex(floor.stderr, /--min-int8 expects a number from 0 to 1, got 1\.5/);
  const threads = await runCli(['detect', path.join(coco.evalImages, '000000187334.jpg'), '--model', models.yoloxNano, '--threads', '1000000']);
  t.is(threads.code, 2);
  t.regex(threads.stderr, /--threads expects an integer from 1 to \d+ \(4 threads per core on this machine's \d+ cores\), got 1000000/);
});

test('eval prints every figure in one style: fractions with four decimals', async (t) => {
  const r = await runCli(['eval', '--model', models.yoloxNano, '--images', coco.evalImages, '--annotations', coco.evalAnnotations, '--limit', '8']);
  t.is(r.code, 0, r.stderr);
  const figures = r.stdout.split('\n').filter((l) => /^(mAP|AP small|AR@1)/.test(l));
  t.is(figures.length, 3, r.stdout);
  for (const line of figures) {
    const values = line.match(/ (\d+\.\d+|n\/a)(?= |$)/g) ?? [];
    t.is(values.length, 3, line);
    for (const v of values) t.regex(v.trim(), /^(0\.\d{4}|1\.0000|n\/a)$/, line);
  }
  t.notRegex(r.stdout, /percent/);
});
