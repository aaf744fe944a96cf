import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { COCO_CLASS_NAMES } from '../lib/detect/coco-names';
import { labelsFromMap, parseLabelsText, parseUltralyticsNames, readLabelsFile, resolveLabels } from '../lib/detect/labels';
import { letterboxGeometry } from '../lib/detect/letterbox';
import { boxIou } from '../lib/detect/nms';
import { postprocess, resolveDetectOptions } from '../lib/detect/postprocess';
import { resolveModelProfile, type ModelOverrides } from '../lib/detect/profile';
import type { PreprocessSpec } from '../lib/detect/types';
import { readModelInfo, type ModelInfo, type ModelTensorInfo } from '../lib/onnx/model-info';
import { coco, models } from './helpers/fixtures';

const yoloxInfo = readModelInfo(fs.readFileSync(models.yoloxNano));
const yolov8Info = readModelInfo(fs.readFileSync(models.yolov8n));

const tensor = (name: string, dims: (number | string)[], type = 'float32'): ModelTensorInfo => ({ name, elemType: 1, type, dims });

function syntheticInfo(inputDims: (number | string)[], outputDims: (number | string)[], metadata: Record<string, string> = {}): ModelInfo {
  return {
    irVersion: 8,
    producerName: 'test',
    producerVersion: '',
    opsetImports: [{ domain: '', version: 17 }],
    metadata,
    inputs: [tensor('images', inputDims)],
    outputs: [tensor('output0', outputDims)],
  };
}

const pythonNames = (names: string[]) => `{${names.map((n, i) => `${i}: '${n}'`).join(', ')}}`;
const ultralyticsMeta = (names: string[], extra: Record<string, string> = {}) => ({
  description: 'Ultralytics YOLOv8n model',
  author: 'Ultralytics',
  stride: '32',
  task: 'detect',
  imgsz: '[640, 640]',
  names: pythonNames(names),
  ...extra,
});

// --- recognition of the fixture models ---

test('the YOLOX-Nano fixture is recognised as yolox with BGR, raw, top-left preprocessing and COCO labels', (t) => {
  const profile = resolveModelProfile({ info: yoloxInfo });
  t.is(profile.family, 'yolox');
  t.is(profile.decoder.family, 'yolox');
  t.is(profile.outputName, 'output');
  t.is(profile.inputName, 'images');
  t.is(profile.numClasses, 80);
  t.deepEqual(profile.preprocess, {
    width: 416,
    height: 416,
    layout: 'nchw',
    dtype: 'float32',
    channelOrder: 'bgr',
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    padValue: 114,
    placement: 'topleft',
  } satisfies PreprocessSpec);
  t.deepEqual(profile.labels, [...COCO_CLASS_NAMES]);
  t.is(
    profile.reason,
    'yolox head recognised from output [1,3549,85] (one row per grid cell, no Ultralytics metadata) as a yolox head with 80 classes, the count COCO has ' +
      "(output [1,3549,85] also fits a transposed yolov8 head with 81 classes; pass family: 'yolox' | 'yolov5' | 'yolov8' if it is one); " +
      'YOLOX preprocessing (BGR, raw 0..255, top-left letterbox padded with 114) at 416x416 from the input images [1,3,416,416]; ' +
      'COCO labels for its 80 classes.',
  );
});

test('the YOLOv8n fixture is recognised as yolov8 with Ultralytics preprocessing and its metadata names', (t) => {
  const profile = resolveModelProfile({ info: yolov8Info });
  t.is(profile.family, 'yolov8');
  t.is(profile.outputName, 'output0');
  t.is(profile.numClasses, 80);
  t.like(profile.preprocess, { width: 640, height: 640, layout: 'nchw', channelOrder: 'rgb', scale: 1 / 255, padValue: 114, placement: 'center' });
  t.is(profile.labels.length, 80);
  t.is(profile.labels[0], 'person');
  t.is(profile.labels[79], 'toothbrush');
  t.is(
    profile.reason,
    'yolov8 head recognised from output0 [1,84,8400] and Ultralytics metadata; ' +
      'Ultralytics preprocessing (RGB, /255, centred letterbox padded with 114) at 640x640 from the input images [1,3,640,640]; ' +
      'labels from model metadata (80 names).',
  );
});

test('the runtime-reported shapes take the place of the file ones', (t) => {
  const profile = resolveModelProfile({
    info: { ...yolov8Info, inputs: [], outputs: [] },
    inputs: [{ name: 'images', dims: [1, 3, 640, 640] }],
    outputs: [{ name: 'output0', dims: [1, 84, 8400] }],
  });
  t.is(profile.family, 'yolov8');
});

// --- recognition of synthetic shapes ---

test('[1, 3 x grid, 5+C] is yolov5, with Ultralytics preprocessing and its names', (t) => {
  const names = ['cat', 'dog'];
  const profile = resolveModelProfile({ info: syntheticInfo([1, 3, 640, 640], [1, 25200, 7], { stride: '32', names: pythonNames(names) }) });
  t.is(profile.family, 'yolov5');
  t.is(profile.numClasses, 2);
  t.deepEqual(profile.labels, names);
  t.like(profile.preprocess, { channelOrder: 'rgb', scale: 1 / 255, placement: 'center' });
  t.regex(profile.reason, /^yolov5 head recognised from output0 \[1,25200,7\] \(3 anchors per grid cell\) and Ultralytics metadata; .*labels from model metadata \(2 names\)\.$/);
});

test('[1, grid, 4+C] with Ultralytics metadata is a transposed yolov8, and decodes as one', (t) => {
  // A 64x32 input has 32 + 8 + 2 = 42 grid cells.
  const profile = resolveModelProfile({ info: syntheticInfo([1, 3, 32, 64], [1, 42, 84], ultralyticsMeta(COCO_CLASS_NAMES as string[])) });
  t.is(profile.family, 'yolov8');
  t.is(profile.numClasses, 80);
  t.like(profile.preprocess, { width: 64, height: 32 });
  t.regex(profile.reason, /^yolov8 head \(transposed, one row per anchor\) recognised from output0 \[1,42,84\] and Ultralytics metadata; /);
  const data = new Float32Array(42 * 84);
  data.set([32, 16, 10, 20], 5 * 84);
  data[5 * 84 + 4 + 16] = 0.9;
  const candidates = profile.decoder.decode({ name: 'output0', dims: [1, 42, 84], data }, 64, 32, 0.25);
  t.is(candidates.count, 1);
  t.is(candidates.classIds[0], 16);
  t.deepEqual(Array.from(candidates.boxes.subarray(0, 4)), [27, 6, 37, 26]);
});

test('[1, grid, K] without Ultralytics metadata: the reading with COCO\'s 80 classes; family decides otherwise', (t) => {
  // 84 columns: a transposed yolov8 head with 80 classes rather than a yolox head with 79.
  const info = syntheticInfo([1, 3, 640, 640], [1, 8400, 84]);
  const guessed = resolveModelProfile({ info });
  t.is(guessed.family, 'yolov8');
  t.is(guessed.numClasses, 80);
  t.regex(guessed.reason, /also fits a yolox head with 79 classes; pass family/);
  const asYolox = resolveModelProfile({ info, overrides: { family: 'yolox' } });
  t.is(asYolox.family, 'yolox');
  t.is(asYolox.numClasses, 79);
  const asYolov8 = resolveModelProfile({ info, overrides: { family: 'yolov8' } });
  t.is(asYolov8.family, 'yolov8');
  t.is(asYolov8.numClasses, 80);
  t.regex(asYolov8.reason, /^yolov8 head as the family option says, reading output0 \[1,8400,84\] laid out as its shape \(anchors-first\)/);
  t.like(asYolov8.preprocess, { channelOrder: 'rgb', placement: 'center' });
});

test('a dynamic yolov8 export: symbolic anchors, input size from imgsz', (t) => {
  const profile = resolveModelProfile({
    info: syntheticInfo(['batch', 3, 'height', 'width'], ['batch', 84, 'anchors'], ultralyticsMeta(COCO_CLASS_NAMES as string[], { imgsz: '[480, 640]' })),
  });
  t.is(profile.family, 'yolov8');
  t.like(profile.preprocess, { width: 640, height: 480 });
  t.regex(profile.reason, /at 640x480 from the imgsz metadata \(the input images \[batch,3,height,width\] is symbolic\)/);
});

test('symbolic input without imgsz defaults to 640, and the grid is checked at that size', (t) => {
  // 480x640 input -> 60x80 + 30x40 + 15x20 = 6300 cells: recognised only once the size is known.
  const info = syntheticInfo([1, 3, 'h', 'w'], [1, 84, 6300]);
  t.throws(() => resolveModelProfile({ info }), { message: /8400 grid cells/ });
  const profile = resolveModelProfile({ info, overrides: { preprocess: { width: 640, height: 480 } } });
  t.is(profile.family, 'yolov8');
  t.regex(profile.reason, /centred letterbox padded with 114\) at 640x480 from the options; /);
});

test('an NHWC uint8 input is read as such', (t) => {
  const info = syntheticInfo([1, 416, 416, 3], [1, 3549, 85]);
  info.inputs[0].type = 'uint8';
  const profile = resolveModelProfile({ info });
  t.like(profile.preprocess, { layout: 'nhwc', dtype: 'uint8', width: 416, height: 416, channelOrder: 'bgr' });
});

test('a P6 model (stride 64 metadata) counts its fourth grid', (t) => {
  // 1280: 160^2 + 80^2 + 40^2 + 20^2 = 34000.
  const profile = resolveModelProfile({ info: syntheticInfo([1, 3, 1280, 1280], [1, 84, 34000], ultralyticsMeta(COCO_CLASS_NAMES as string[], { stride: '64' })) });
  t.is(profile.family, 'yolov8');
});

test('an unknown output shape names the output and the shapes that are recognised', (t) => {
  const err = t.throws(() => resolveModelProfile({ info: syntheticInfo([1, 3, 640, 640], [1, 100, 6]) }));
  t.is((err as { code?: string }).code, 'ERR_DECODER');
  t.regex(err!.message, /output0 \[1,100,6\]/);
  t.regex(err!.message, /\[1, 4\+C, 8400\] \(yolov8\/YOLO11\), \[1, 25200, 5\+C\] \(yolov5\), \[1, 8400, 5\+C\] \(yolox\)/);
  t.regex(err!.message, /pass family: 'yolox' \| 'yolov5' \| 'yolov8'/);
});

test('yolov8 forced on a shape that does not say which way round it is needs outputLayout', (t) => {
  const info = syntheticInfo([1, 3, 640, 640], [1, 84, 1000]);
  const err = t.throws(() => resolveModelProfile({ info, overrides: { family: 'yolov8' } }));
  t.is((err as { code?: string }).code, 'ERR_DECODER');
  t.regex(err!.message, /output0 \[1,84,1000\].*outputLayout/);
  const profile = resolveModelProfile({ info, overrides: { family: 'yolov8', outputLayout: 'channels-first' } });
  t.is(profile.numClasses, 80);
  t.regex(profile.reason, /the outputLayout option \(channels-first\)/);
});

test('Ultralytics models for other tasks are refused', (t) => {
  const info = syntheticInfo([1, 3, 640, 640], [1, 116, 8400], ultralyticsMeta(COCO_CLASS_NAMES as string[], { task: 'segment' }));
  t.throws(() => resolveModelProfile({ info }), { code: 'ERR_DECODER', message: /"segment" model/ });
});

test('overrides replace single preprocessing fields and are validated', (t) => {
  const profile = resolveModelProfile({ info: yoloxInfo, overrides: { preprocess: { channelOrder: 'rgb', padValue: 0 } } });
  t.like(profile.preprocess, { channelOrder: 'rgb', padValue: 0, scale: 1, placement: 'topleft' });
  t.regex(profile.reason, /with channelOrder, padValue from the options/);

  const bad = (overrides: ModelOverrides) => t.throws(() => resolveModelProfile({ info: yoloxInfo, overrides }), { code: 'ERR_ARGUMENT' })!.message;
  t.is(bad({ preprocess: { channelOrder: 'xyz' as 'rgb' } }), `Expected 'rgb', 'bgr' or 'gray' for preprocess.channelOrder but received "xyz" (string)`);
  t.regex(bad({ preprocess: { colour: 'rgb' } as Partial<PreprocessSpec> }), /Unknown option 'colour' for preprocess options: the options are width, height/);
  t.regex(bad({ family: 'yolov9' as 'yolov8' }), /for family but received "yolov9"/);
  t.regex(bad({ preprocess: { width: 640 } }), /Expected the model's fixed input width 416 .* for preprocess.width but received 640/);
});

// --- labels ---

test('the fixture names metadata parses to the 80 COCO names in order', (t) => {
  const names = parseUltralyticsNames(yolov8Info.metadata.names);
  t.truthy(names);
  t.deepEqual(labelsFromMap(names!, 80), [...COCO_CLASS_NAMES]);
});

test('COCO names follow the fixture annotations category order', (t) => {
  const categories = (JSON.parse(fs.readFileSync(coco.evalAnnotations, 'utf8')) as { categories: { name: string }[] }).categories;
  t.deepEqual(categories.map((c) => c.name), [...COCO_CLASS_NAMES]);
});

test('Python dict literals with tricky names', (t) => {
  const text = `{0: 'a, b', 1: "it's", 2: 'x: y', 3: 'back\\\\slash', 4: 'q\\'uote', 5: '{curly}', 7: 'caf\\xe9'}`;
  const map = parseUltralyticsNames(text)!;
  t.deepEqual(labelsFromMap(map, 8), ['a, b', "it's", 'x: y', 'back\\slash', "q'uote", '{curly}', 'class 6', 'café']);
  t.deepEqual(labelsFromMap(parseUltralyticsNames("['person', \"car\"]")!, 2), ['person', 'car']);
  t.deepEqual(labelsFromMap(parseUltralyticsNames('{"0": "person", "1": "car"}')!, 2), ['person', 'car']);
  for (const bad of ['', 'person', "{0: 'a'", "{0: 'a' 1: 'b'}", "{x: 'a'}", "{0: 'a'} trailing"]) {
    t.is(parseUltralyticsNames(bad), null, bad);
  }
});

test('labels files: lines, JSON arrays, JSON objects and Python literals', (t) => {
  t.deepEqual(labelsFromMap(parseLabelsText('\uFEFFperson\r\nbicycle\n\n  car  \n'), 3), ['person', 'bicycle', 'car']);
  t.deepEqual(labelsFromMap(parseLabelsText('["a", "b"]'), 3), ['a', 'b', 'class 2']);
  t.deepEqual(labelsFromMap(parseLabelsText('{"0": "a", "2": "c"}'), 3), ['a', 'class 1', 'c']);
  t.deepEqual(labelsFromMap(parseLabelsText("{0: 'a', 1: 'b'}"), 2), ['a', 'b']);
  t.throws(() => parseLabelsText('{"zero": "a"}', 'x.json'), { code: 'ERR_ARGUMENT', message: /class ids as non-negative integer keys for x.json/ });
  t.throws(() => parseLabelsText('[1, 2]', 'x.json'), { code: 'ERR_ARGUMENT', message: /x.json\[0\]/ });
  t.throws(() => parseLabelsText('[broken', 'x.json'), { code: 'ERR_ARGUMENT', message: /neither valid JSON nor a Python literal/ });
});

test('labels come from the option, a file, metadata, COCO, then class ids', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-labels-'));
  try {
    const file = path.join(dir, 'labels.txt');
    fs.writeFileSync(file, 'x\ny\n');
    t.deepEqual(resolveLabels({ numClasses: 2, override: file }).labels, ['x', 'y']);
    // A list must name every class; keyed labels may leave gaps.
    t.throws(() => resolveLabels({ numClasses: 3, override: file }), { message: /labels\.txt has 2 names, but the model has 3 classes/ });
    const keyed = path.join(dir, 'labels.json');
    fs.writeFileSync(keyed, JSON.stringify({ 0: 'x', 1: 'y' }));
    t.deepEqual(resolveLabels({ numClasses: 3, override: keyed }).labels, ['x', 'y', 'class 2']);
    t.deepEqual(resolveLabels({ numClasses: 2, override: ['p', 'q'], metadata: { names: "{0: 'm'}" } }).labels, ['p', 'q']);
    t.deepEqual(resolveLabels({ numClasses: 2, metadata: { names: "{0: 'm'}" } }).labels, ['m', 'class 1']);
    t.deepEqual(resolveLabels({ numClasses: 80, metadata: { names: 'not a dict' } }).labels, [...COCO_CLASS_NAMES]);
    t.regex(resolveLabels({ numClasses: 80, metadata: { names: 'not a dict' } }).description, /could not be parsed/);
    t.deepEqual(resolveLabels({ numClasses: 3 }).labels, ['class 0', 'class 1', 'class 2']);

    const missing = path.join(dir, 'missing.txt');
    const err = t.throws(() => readLabelsFile(missing));
    t.is((err as { code?: string }).code, 'ERR_ARGUMENT');
    t.is(err!.message, `Cannot read the labels file ${missing}: it does not exist`);
    const viaProfile = t.throws(() => resolveModelProfile({ info: yoloxInfo, overrides: { labels: missing } }));
    t.regex(viaProfile!.message, new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

    const profile = resolveModelProfile({ info: yoloxInfo, overrides: { labels: keyed } });
    t.deepEqual(profile.labels.slice(0, 3), ['x', 'y', 'class 2']);
    t.regex(profile.reason, /labels from .*labels\.json \(2 names\)\.$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// --- detect options and postprocess ---

test('detect options: defaults and validation', (t) => {
  t.deepEqual(resolveDetectOptions(), { scoreThreshold: 0.25, iouThreshold: 0.45, maxDetections: 300, classAgnostic: false, multiLabel: false });
  t.deepEqual(resolveDetectOptions({ scoreThreshold: 0, classes: [0, 2] }).classes, [0, 2]);
  const message = (o: unknown) => t.throws(() => resolveDetectOptions(o as Parameters<typeof resolveDetectOptions>[0]), { code: 'ERR_ARGUMENT' })!.message;
  t.is(message({ scoreThreshold: 1.5 }), 'Expected a number between 0 and 1 for scoreThreshold but received 1.5 (number)');
  t.is(message({ iouThreshold: Number.NaN }), 'Expected a number between 0 and 1 for iouThreshold but received NaN (number)');
  t.is(message({ maxDetections: 0 }), 'Expected an integer from 1 to 30000 (the most candidates NMS considers) for maxDetections but received 0 (number)');
  t.is(message({ maxDetections: 2.5 }), 'Expected an integer from 1 to 30000 (the most candidates NMS considers) for maxDetections but received 2.5 (number)');
  t.is(message({ classes: [0, -1] }), 'Expected a non-negative integer class id for classes[1] but received -1 (number)');
  t.is(message({ classes: 3 }), 'Expected an array of class ids for classes but received 3 (number)');
  t.is(message({ classAgnostic: 'yes' }), 'Expected a boolean for classAgnostic but received "yes" (string)');
});

test('postprocess decodes, suppresses, maps boxes to source pixels and labels them', (t) => {
  // A 64x64 yolov8 head (84 cells, 2 classes) fed with a centred letterbox of a 128x64 frame:
  // scale 0.5, image 64x32 at offset (0, 16).
  const profile = resolveModelProfile({ info: syntheticInfo([1, 3, 64, 64], [1, 6, 84], ultralyticsMeta(['cat', 'dog'])) });
  const geometry = letterboxGeometry(128, 64, 64, 64, 'center');
  t.like(geometry, { scale: 0.5, offsetX: 0, offsetY: 16, resizedWidth: 64, resizedHeight: 32 });
  const n = 84;
  const data = new Float32Array(6 * n);
  const put = (i: number, cx: number, cy: number, w: number, h: number, cat: number, dog: number) => {
    [cx, cy, w, h, cat, dog].forEach((v, row) => (data[row * n + i] = v));
  };
  put(0, 20, 30, 8, 8, 0.9, 0.1); // cat at (16,26)-(24,34) -> source (32,20)-(48,36)
  put(1, 21, 30, 8, 8, 0.8, 0.1); // overlaps the first cat: suppressed
  put(2, 21, 30, 8, 8, 0.1, 0.7); // same place, but a dog
  put(3, 62, 46, 8, 8, 0.6, 0.0); // straddles the right and bottom edges of the image: clipped
  const detections = postprocess([{ name: 'output0', dims: [1, 6, n], data }], profile, geometry, resolveDetectOptions());
  t.is(detections.length, 3);
  t.deepEqual(detections.map((d) => d.label), ['cat', 'dog', 'cat']);
  t.deepEqual(detections[0].box, { x1: 32, y1: 20, x2: 48, y2: 36 });
  t.deepEqual(detections[2].box, { x1: 116, y1: 52, x2: 128, y2: 64 });
  t.is(detections[0].score, Math.fround(0.9));

  const agnostic = postprocess([{ name: 'output0', dims: [1, 6, n], data }], profile, geometry, resolveDetectOptions({ classAgnostic: true }));
  t.deepEqual(agnostic.map((d) => d.label), ['cat', 'cat']);
  const dogsOnly = postprocess([{ name: 'output0', dims: [1, 6, n], data }], profile, geometry, resolveDetectOptions({ classes: [1] }));
  t.deepEqual(dogsOnly.map((d) => d.label), ['dog']);
  const missing = t.throws(() => postprocess([{ name: 'other', dims: [1], data }, { name: 'x', dims: [1], data }], profile, geometry, resolveDetectOptions()));
  t.regex(missing!.message, /reads output "output0" but the model returned "other", "x"/);
});

// --- end to end with ONNX Runtime on a COCO image ---

interface CocoGroundTruth {
  images: { id: number; file_name: string }[];
  annotations: { image_id: number; category_id: number; bbox: [number, number, number, number]; iscrowd: number }[];
  categories: { id: number; name: string }[];
}

/** Letterbox an image the way the profile asks, in plain JS (sharp only resizes), as an NCHW float tensor. */
async function letterboxTensor(file: string, spec: PreprocessSpec) {
  const meta = await sharp(file).metadata();
  const geometry = letterboxGeometry(meta.width!, meta.height!, spec.width, spec.height, spec.placement);
  const { data } = await sharp(file)
    .removeAlpha()
    .resize(geometry.resizedWidth, geometry.resizedHeight, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = spec.width * spec.height;
  const input = new Float32Array(3 * plane).fill(spec.padValue * spec.scale);
  for (let y = 0; y < geometry.resizedHeight; y++) {
    for (let x = 0; x < geometry.resizedWidth; x++) {
      const src = (y * geometry.resizedWidth + x) * 3;
      const dst = (y + geometry.offsetY) * spec.width + x + geometry.offsetX;
      for (let c = 0; c < 3; c++) {
        const from = spec.channelOrder === 'bgr' ? 2 - c : c;
        input[c * plane + dst] = data[src + from] * spec.scale;
      }
    }
  }
  return { input, geometry };
}

for (const [name, modelPath] of [
  ['yolox_nano', models.yoloxNano],
  ['yolov8n', models.yolov8n],
] as const) {
  test(`${name} finds the person and the dog of a COCO image where its ground truth says`, async (t) => {
    const ort = await import('onnxruntime-node');
    const gt = JSON.parse(fs.readFileSync(coco.evalAnnotations, 'utf8')) as CocoGroundTruth;
    const fileName = '000000069468.jpg';
    const image = gt.images.find((i) => i.file_name === fileName)!;
    const categoryName = new Map(gt.categories.map((c) => [c.id, c.name]));
    const expected = gt.annotations
      .filter((a) => a.image_id === image.id && !a.iscrowd && ['person', 'dog'].includes(categoryName.get(a.category_id)!))
      .map((a) => ({ label: categoryName.get(a.category_id)!, box: { x1: a.bbox[0], y1: a.bbox[1], x2: a.bbox[0] + a.bbox[2], y2: a.bbox[1] + a.bbox[3] } }));
    t.is(expected.length, 2);

    const profile = resolveModelProfile({ info: readModelInfo(fs.readFileSync(modelPath)) });
    const { input, geometry } = await letterboxTensor(path.join(coco.evalImages, fileName), profile.preprocess);
    const session = await ort.InferenceSession.create(modelPath);
    try {
      const feeds = { [profile.inputName]: new ort.Tensor('float32', input, [1, 3, profile.preprocess.height, profile.preprocess.width]) };
      const results = await session.run(feeds);
      const outputs = Object.entries(results).map(([outputName, v]) => ({ name: outputName, dims: v.dims, data: v.data as Float32Array }));
      const detections = postprocess(outputs, profile, geometry, resolveDetectOptions());
      for (const object of expected) {
        const best = Math.max(0, ...detections.filter((d) => d.label === object.label).map((d) => boxIou(d.box, object.box)));
        t.true(best > 0.5, `${object.label}: best IoU ${best.toFixed(2)} among ${JSON.stringify(detections)}`);
      }
      for (const d of detections) {
        t.true(d.box.x1 >= 0 && d.box.y1 >= 0 && d.box.x2 <= geometry.srcWidth && d.box.y2 <= geometry.srcHeight);
      }
    } finally {
      await session.release();
    }
  });
}
