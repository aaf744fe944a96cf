import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { runCli } from './helpers/cli';
import { coco, models } from './helpers/fixtures';
import { pycocotoolsScores, pycocotoolsTest } from './helpers/pycocotools';

let dir: string;
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-cli-'));
});
test.after.always(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('eval --json scores the YOLOX fixture on coco/eval', async (t) => {
  const { code, stdout, stderr } = await runCli([
    'eval', '--model', models.yoloxNano, '--backend', 'onnxruntime', '--images', coco.evalImages, '--annotations', coco.evalAnnotations, '--json',
  ]);
  t.is(code, 0, stderr);
  const result = JSON.parse(stdout);
  t.log(`ours: mAP ${result.mAP} AP50 ${result.AP50} AP75 ${result.AP75} over ${result.images} images`);
  t.is(result.images, 117);
  t.is(result.backend, 'onnxruntime');
  t.is(result.precision, 'fp32');
  // YOLOX-Nano is 25.8 mAP on all of val2017; this 117-image subset lands near it.
  t.true(result.mAP > 0.22 && result.mAP < 0.32, `mAP ${result.mAP}`);
  t.true(result.AP50 > result.mAP && result.AP50 > result.AP75);
  t.is(result.perClass.length, 80);
});

pycocotoolsTest('pycocotools agrees with eval --json on the same detections', async (t) => {
  const limit = 40;
  const saved = path.join(dir, 'yolox-detections.json');
  const { code, stdout, stderr } = await runCli([
    'eval', '--model', models.yoloxNano, '--backend', 'onnxruntime', '--images', coco.evalImages, '--annotations', coco.evalAnnotations,
    '--limit', String(limit), '--json', '--save-detections', saved,
  ]);
  t.is(code, 0, stderr);
  const result = JSON.parse(stdout);
  t.is(result.images, limit);
  const dataset = JSON.parse(await fs.readFile(coco.evalAnnotations, 'utf8')) as { images: { id: number }[] };
  const reference = pycocotoolsScores(coco.evalAnnotations, saved, dataset.images.slice(0, limit).map((i) => i.id));
  t.log(`ours: mAP ${result.mAP}; pycocotools: mAP ${reference.mAP} AP50 ${reference.AP50} AP75 ${reference.AP75}`);
  for (const key of ['mAP', 'AP50', 'AP75'] as const) {
    t.true(Math.abs(result[key] - reference[key]) < 1e-4, `${key}: ours ${result[key]} pycocotools ${reference[key]}`);
  }
});

test('detect --out writes annotated images and --json prints one object per image', async (t) => {
  const images = path.join(dir, 'images');
  await fs.mkdir(images);
  for (const name of ['000000084533.jpg', '000000187334.jpg']) await fs.copyFile(path.join(coco.evalImages, name), path.join(images, name));
  const out = path.join(dir, 'annotated');
  const { code, stdout, stderr } = await runCli(['detect', images, '--model', models.yoloxNano, '--out', out, '--json']);
  t.is(code, 0, stderr);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.is(lines.length, 2);
  t.true(lines[0].detections.some((d: { label: string }) => d.label === 'motorcycle'));
  t.true(lines[1].detections.some((d: { label: string }) => d.label === 'sheep'));
  const written = (await fs.readdir(out)).sort();
  t.deepEqual(written, ['000000084533.jpg', '000000187334.jpg']);
  const meta = await sharp(path.join(out, written[0])).metadata();
  t.is(meta.width, lines[0].width);
  t.is(meta.height, lines[0].height);
  // The annotated image differs from the source where the boxes are drawn.
  const original = await sharp(path.join(images, written[0])).raw().toBuffer();
  const annotated = await sharp(path.join(out, written[0])).raw().toBuffer();
  let changed = 0;
  for (let i = 0; i < original.length; i += 3) if (Math.abs(original[i] - annotated[i]) > 60) changed++;
  t.true(changed > 1000, `${changed} pixels changed by the drawing`);

  const text = await runCli(['detect', path.join(images, '000000187334.jpg'), '-m', models.yoloxNano, '--classes', '18']);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /sheep 0\.\d\d \[\d+, \d+, \d+, \d+\]/);
});

test('bench --json prints latency percentiles and throughput for raw inference and detect()', async (t) => {
  const { code, stdout, stderr } = await runCli([
    'bench', '--model', models.yoloxNano, '--iterations', '4', '--rounds', '2', '--images', coco.evalImages, '--frames', '2', '--json',
  ]);
  t.is(code, 0, stderr);
  const r = JSON.parse(stdout);
  t.deepEqual(r.frame, { width: 640, height: 480, format: 'rgb' });
  for (const mode of [r.raw, r.detect]) {
    t.true(mode.latencyMs.p50 > 0 && mode.latencyMs.p50 <= mode.latencyMs.p90 && mode.latencyMs.p90 <= mode.latencyMs.p99);
    t.true(mode.throughput > 0);
  }
  t.true(r.throughputRatio > 0);
  t.is(typeof r.cpu.features.avx2, 'boolean');
});

test('probe --json reports every backend and the CPU', async (t) => {
  const { code, stdout, stderr } = await runCli(['probe', '--json']);
  t.is(code, 0, stderr);
  const report = JSON.parse(stdout);
  t.deepEqual(Object.keys(report.backends).sort(), ['onnxruntime', 'openvino', 'tensorrt', 'triton']);
  t.true(report.backends.onnxruntime.available);
  t.is(typeof report.auto.reason, 'string');
  t.truthy(report.cpu.int8Summary);
});

test('every command has --help, and mistakes exit non-zero with one line', async (t) => {
  for (const command of ['probe', 'detect', 'eval', 'bench']) {
    const help = await runCli([command, '--help']);
    t.is(help.code, 0);
    t.regex(help.stdout, new RegExp(`^Usage: int8-detect ${command}`));
  }
  const top = await runCli(['--help']);
  t.regex(top.stdout, /Commands:/);

  const noModel = await runCli(['eval', '--images', coco.evalImages, '--annotations', coco.evalAnnotations]);
  t.is(noModel.code, 2);
  t.regex(noModel.stderr, /--model is required/);
  const missing = await runCli(['detect', coco.evalImages, '--model', path.join(dir, 'nope.onnx')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^int8-detect detect: Cannot read the model .*nope\.onnx: no such file\n$/);
  const unknownFlag = await runCli(['bench', '--model', models.yoloxNano, '--iteration', '3']);
  t.is(unknownFlag.code, 2);
  t.regex(unknownFlag.stderr, /iteration/);
  const unknown = await runCli(['frobnicate']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown command 'frobnicate'/);
  const badAnnotations = await runCli(['eval', '-m', models.yoloxNano, '--images', coco.evalImages, '--annotations', path.join(dir, 'none.json')]);
  t.is(badAnnotations.code, 1);
  t.is(badAnnotations.stderr.trim().split('\n').length, 1);
});
