/**
 * `int8-detect detect` never overwrites or loses a user's file, and one bad image does not stop a
 * folder (issue 14, items 2 and 3).
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { resolveModelProfile } from '../lib/detect/profile';
import { decodeImage } from '../lib/image/decode';
import { readModelInfo } from '../lib/onnx/model-info';
import { calibratorFromFolder } from '../lib/quantize/calibrator';
import { listImages } from '../lib/util/files';
import { runCli } from './helpers/cli';
import { coco, models } from './helpers/fixtures';

const MOTORCYCLE = path.join(coco.evalImages, '000000084533.jpg');
const SHEEP = path.join(coco.evalImages, '000000187334.jpg');

let dir: string;
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-cli-files-'));
});
test.after.always(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function folderDigest(folder: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(folder)).sort()) out[name] = createHash('sha256').update(await fs.readFile(path.join(folder, name))).digest('hex');
  return out;
}

async function photos(name: string, files: Record<string, string>): Promise<string> {
  const folder = path.join(dir, name);
  await fs.mkdir(folder, { recursive: true });
  for (const [to, from] of Object.entries(files)) await fs.copyFile(from, path.join(folder, to));
  return folder;
}

test('detect DIR --out DIR (the same folder) is refused and the photos are left as they were', async (t) => {
  const folder = await photos('same', { 'a.jpg': MOTORCYCLE, 'b.jpg': SHEEP });
  const before = await folderDigest(folder);
  for (const extra of [[], ['--force']]) {
    const result = await runCli(['detect', folder, '--model', models.yoloxNano, '--out', folder, ...extra]);
    t.is(result.code, 2, result.stderr);
    t.regex(result.stderr, /--out .* holds the input images: the annotated copies would replace them; give another folder/);
    t.deepEqual(await folderDigest(folder), before, 'no input was touched');
  }
  // The same folder written another way (a trailing slash, ./) is still the same folder.
  const other = await runCli(['detect', path.join(folder, 'a.jpg'), '--model', models.yoloxNano, '--out', `${folder}/./`]);
  t.is(other.code, 2, other.stderr);
  t.deepEqual(await folderDigest(folder), before);
});

test('gif, tiff, webp and avif inputs of one name keep their own extension: nothing is lost', async (t) => {
  const folder = path.join(dir, 'formats');
  await fs.mkdir(folder);
  const picture = sharp(SHEEP).resize(320);
  await picture.clone().gif().toFile(path.join(folder, 'photo.gif'));
  await picture.clone().tiff().toFile(path.join(folder, 'photo.tiff'));
  await picture.clone().webp().toFile(path.join(folder, 'photo.webp'));
  await picture.clone().avif().toFile(path.join(folder, 'photo.avif'));
  const out = path.join(dir, 'formats-out');
  const result = await runCli(['detect', folder, '--model', models.yoloxNano, '--out', out]);
  t.is(result.code, 0, result.stderr);
  t.deepEqual((await fs.readdir(out)).sort(), ['photo.avif', 'photo.gif', 'photo.tiff', 'photo.webp']);
  for (const [name, format] of [['photo.avif', 'heif'], ['photo.gif', 'gif'], ['photo.tiff', 'tiff'], ['photo.webp', 'webp']] as const) {
    t.is((await sharp(path.join(out, name)).metadata()).format, format, `${name} is written as ${format}`);
  }
});

test('an existing output file is not replaced without --force, and --out naming a file is a clear error', async (t) => {
  const folder = await photos('existing', { 'a.jpg': MOTORCYCLE, 'b.jpg': SHEEP });
  const out = path.join(dir, 'existing-out');
  await fs.mkdir(out);
  await fs.writeFile(path.join(out, 'b.jpg'), 'my own file');
  const refused = await runCli(['detect', folder, '--model', models.yoloxNano, '--out', out]);
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /1 file in --out .* already exists \(b\.jpg\); pass --force to replace it/);
  t.is(await fs.readFile(path.join(out, 'b.jpg'), 'utf8'), 'my own file');
  t.deepEqual(await fs.readdir(out), ['b.jpg'], 'nothing was written before the refusal');

  const forced = await runCli(['detect', folder, '--model', models.yoloxNano, '--out', out, '--force']);
  t.is(forced.code, 0, forced.stderr);
  t.is((await sharp(path.join(out, 'b.jpg')).metadata()).format, 'jpeg');

  const file = path.join(dir, 'not-a-folder.txt');
  await fs.writeFile(file, 'x');
  const onFile = await runCli(['detect', folder, '--model', models.yoloxNano, '--out', file]);
  t.is(onFile.code, 2, onFile.stderr);
  t.regex(onFile.stderr, /^int8-detect detect: --out .*not-a-folder\.txt is a file, not a folder/);
  t.notRegex(onFile.stderr, /EEXIST|ENOTDIR/);
  t.is(await fs.readFile(file, 'utf8'), 'x');
});

test('one bad image does not stop a folder: it is reported, the rest run, and the exit code counts it', async (t) => {
  const folder = await photos('bad', { 'a.jpg': MOTORCYCLE, 'c.jpg': SHEEP });
  await fs.writeFile(path.join(folder, 'b.jpg'), 'this is not a JPEG');
  const result = await runCli(['detect', folder, '--model', models.yoloxNano, '--json']);
  t.is(result.code, 1, result.stderr);
  const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string });
  t.deepEqual(lines.map((l) => path.basename(l.image)), ['a.jpg', 'c.jpg'], 'the image after the bad one was processed');
  t.regex(result.stderr, /b\.jpg/);
  t.regex(result.stderr, /1 of 3 images could not be read/);

  const failFast = await runCli(['detect', folder, '--model', models.yoloxNano, '--json', '--fail-fast']);
  t.is(failFast.code, 1);
  t.deepEqual(failFast.stdout.trim().split('\n').map((l) => path.basename((JSON.parse(l) as { image: string }).image)), ['a.jpg']);
  t.regex(failFast.stderr, /Could not decode the image .*b\.jpg/);
});

test('only image types sharp decodes are listed: every listed extension decodes', async (t) => {
  const folder = path.join(dir, 'types');
  await fs.mkdir(folder);
  const picture = sharp(SHEEP).resize(64);
  const writers: Record<string, (s: Sharp) => Sharp> = {
    jpg: (s) => s.jpeg(), jpeg: (s) => s.jpeg(), png: (s) => s.png(), webp: (s) => s.webp(), tif: (s) => s.tiff(), tiff: (s) => s.tiff(), gif: (s) => s.gif(), avif: (s) => s.avif(),
  };
  for (const [ext, write] of Object.entries(writers)) await write(picture.clone()).toFile(path.join(folder, `x.${ext}`));
  // A BMP header: sharp has no BMP decoder, so a .bmp file must not be offered as an image.
  await fs.writeFile(path.join(folder, 'x.bmp'), Buffer.from('424d', 'hex'));
  const listed = await listImages(folder);
  t.deepEqual(listed.map((f) => path.extname(f)).sort(), Object.keys(writers).map((e) => `.${e}`).sort());
  for (const file of listed) t.is((await decodeImage(file)).width, 64, file);
});

test('no command writes over its own input: quantize --out the model, eval --save-detections the annotations, watch --out the video', async (t) => {
  const folder = path.join(dir, 'inputs');
  await fs.mkdir(folder);
  const model = path.join(folder, 'model.onnx');
  await fs.copyFile(models.yoloxNano, model);
  const annotations = path.join(folder, 'instances.json');
  await fs.copyFile(coco.evalAnnotations, annotations);
  const video = path.join(folder, 'clip.mp4');
  await fs.writeFile(video, 'not really a video, and it must stay as it is');
  const before = await folderDigest(folder);
  const cases: Array<[string[], RegExp]> = [
    [['quantize', '--model', model, '--calib', coco.calibImages, '--out', path.join(folder, '.', 'model.onnx')], /--out .*model\.onnx is the --model file: writing it would replace that input/],
    [['quantize', '--model', model, '--calib', coco.calibImages, '--out', path.join(dir, 'q.onnx'), '--plan', model], /--plan .* is the --model file/],
    [['eval', '--model', models.yoloxNano, '--images', coco.evalImages, '--annotations', annotations, '--save-detections', annotations], /--save-detections .* is the --annotations file/],
    [['watch', video, '--model', models.yoloxNano, '--out', video], /--out .*clip\.mp4 is one of the sources: writing it would replace that input/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, pattern);
  }
  t.deepEqual(await folderDigest(folder), before, 'every input is as it was');
});

test('one undecodable calibration image is skipped with a warning naming it, not the end of calibration', async (t) => {
  const folder = path.join(dir, 'calib-bad');
  await fs.mkdir(folder);
  const names = (await fs.readdir(coco.calibImages)).sort().slice(0, 3);
  for (const name of names) await fs.copyFile(path.join(coco.calibImages, name), path.join(folder, name));
  await fs.writeFile(path.join(folder, 'broken.jpg'), 'this is not a JPEG');
  const profile = resolveModelProfile({ info: readModelInfo(await fs.readFile(models.yoloxNano)) });
  const warnings: string[] = [];
  const calibrator = await calibratorFromFolder(folder, { preprocess: profile.preprocess, inputName: profile.inputName, onWarning: (w) => warnings.push(w) });
  let frames = 0;
  for await (const batch of calibrator) frames += batch.dims[0];
  t.is(frames, 3, 'the three good images calibrate');
  t.true(warnings.some((w) => /skipped a calibration image that cannot be used: Could not decode the image .*broken\.jpg/.test(w)), warnings.join('\n'));
});
