/**
 * Family recognition says when it guesses (issue 14, item 7). [1, cells, K] without metadata fits
 * both a YOLOX head (5 + C columns) and a transposed YOLOv8 head (4 + C): a YOLOv8 export with its
 * output transposed and its metadata stripped used to be read as YOLOX with 79 classes and found
 * nothing, silently.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { Int8DetectError } from '../lib/util/errors';
import { decodeModel, encodeModel } from '../lib/onnx/model';
import { fromXywh, iou } from './helpers/boxes';
import { coco, models } from './helpers/fixtures';
import { node, shapedType } from './helpers/onnx-graph';
import { gridCells, tinyModel } from './helpers/tiny-onnx';

let dir: string;
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-family-'));
});
test.after.always(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** The YOLOv8n fixture with a Transpose after its head ([1, 84, 8400] -> [1, 8400, 84]) and no metadata. */
async function transposedYolov8WithoutMetadata(): Promise<string> {
  const model = decodeModel(await fs.readFile(models.yolov8n));
  const head = model.graph.outputs[0].name;
  model.graph.nodes.push({ ...node('Transpose', [head], ['anchors_first']), attributes: [{ name: 'perm', type: 7, ints: [0, 2, 1], extra: [] }] });
  model.graph.outputs = [{ name: 'anchors_first', type: shapedType([1, 8400, 84]), extra: [] }];
  model.metadata = [];
  const file = path.join(dir, 'yolov8n-transposed-no-metadata.onnx');
  await fs.writeFile(file, encodeModel(model));
  return file;
}

/** Int8DetectWarnings emitted while `work` runs. */
async function warningsDuring(work: () => Promise<void>): Promise<Error[]> {
  const seen: Error[] = [];
  const listener = (w: Error) => seen.push(w);
  process.on('warning', listener);
  try {
    await work();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
  } finally {
    process.off('warning', listener);
  }
  return seen.filter((w) => w.name === 'Int8DetectWarning');
}

test.serial('a transposed YOLOv8 export without metadata is read as yolov8 with 80 classes, and the reason says what else it fits', async (t) => {
  const file = await transposedYolov8WithoutMetadata();
  const engine = await createEngine({ model: file, threads: 1 });
  try {
    t.is(engine.info.model.family, 'yolov8');
    t.is(engine.info.labels.length, 80);
    t.regex(engine.info.reasons.model, /also fits a yolox head with 79 classes; pass family: 'yolox' \| 'yolov5' \| 'yolov8' if it is one/);
    const found = await engine.detect(path.join(coco.evalImages, '000000187334.jpg'));
    const sheep = found.find((d) => d.label === 'sheep');
    t.truthy(sheep, JSON.stringify(found));
    t.true(iou(sheep!.box, fromXywh([118, 165, 325, 235])) > 0.8);
  } finally {
    await engine.dispose();
  }
});

test.serial('where no reading is more likely, the family is a guess: the reason says so and a warning names family', async (t) => {
  // 7 columns: a yolox head with 2 classes, or a transposed yolov8 head with 3.
  const file = path.join(dir, 'ambiguous.onnx');
  await fs.writeFile(file, tinyModel({ inputDims: [1, 3, 32, 32], outputDims: [1, gridCells(32, 32), 7] }));
  let reason = '';
  const warnings = await warningsDuring(async () => {
    const engine = await createEngine({ model: file, threads: 1 });
    reason = engine.info.reasons.model;
    await engine.dispose();
  });
  t.regex(reason, /Guessed: output \[1,21,7\] fits both a yolox and a transposed yolov8 head: it was read as a yolox head with 2 classes, but it may be a transposed yolov8 head with 3 classes; pass family/);
  t.is(warnings.length, 1, warnings.map((w) => w.message).join('\n'));
  t.true(warnings[0] instanceof Int8DetectError);
  t.is((warnings[0] as Int8DetectError).option, 'family');
  t.regex(warnings[0].message, /pass family: 'yolox' \| 'yolov5' \| 'yolov8' to say which/);
  // With the family given there is nothing to guess.
  const quiet = await warningsDuring(async () => {
    const engine = await createEngine({ model: file, family: 'yolov8', threads: 1 });
    t.is(engine.info.labels.length, 3);
    t.notRegex(engine.info.reasons.model, /[Gg]uess/);
    await engine.dispose();
  });
  t.deepEqual(quiet, []);
});

test.serial('the YOLOX fixture (85 columns: 80 classes as YOLOX) is recognised without a warning', async (t) => {
  const warnings = await warningsDuring(async () => {
    const engine = await createEngine({ model: models.yoloxNano, threads: 1 });
    t.is(engine.info.model.family, 'yolox');
    t.is(engine.info.labels.length, 80);
    t.regex(engine.info.reasons.model, /also fits a transposed yolov8 head with 81 classes/);
    await engine.dispose();
  });
  t.deepEqual(warnings, []);
});
