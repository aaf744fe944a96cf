/**
 * Options are checked strictly (issue 14, item 5): a misspelt key is refused naming the closest
 * known one, numbers above a sane bound are refused saying the bound, a class filter or a labels
 * list that does not fit the model is refused, and outputLayout (which error messages suggest)
 * really is an option.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchmarkEngine } from '../lib/bench';
import { resolveModelProfile } from '../lib/detect/profile';
import { loadCocoDataset } from '../lib/eval/coco';
import { evaluateEngine } from '../lib/eval/evaluate-engine';
import { createEngine, type Engine, type EngineOptions } from '../lib/engine';
import type { ModelInfo } from '../lib/onnx/model-info';
import { Int8DetectError } from '../lib/util/errors';
import type { RawFrame } from '../lib/image/frame';
import { probe } from '../lib/probe';
import { calibratorFromFrames } from '../lib/quantize/calibrator';
import { createPipeline, type PipelineOptions } from '../lib/video/pipeline';
import { coco, models } from './helpers/fixtures';
import { gridCells, tinyModel } from './helpers/tiny-onnx';

let dir: string;
let yolox: Engine;
const frame: RawFrame = { data: Buffer.alloc(64 * 48 * 3, 90), width: 64, height: 48, format: 'rgb' };

test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-options-'));
  yolox = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime', threads: 1 });
});
test.after.always(async () => {
  await yolox?.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

function expectArgumentError(t: import('ava').ExecutionContext, err: unknown, pattern: RegExp, option?: string): void {
  t.true(err instanceof Int8DetectError, String(err));
  const e = err as Int8DetectError;
  t.is(e.code, 'ERR_ARGUMENT', e.message);
  t.regex(e.message, pattern);
  if (option !== undefined) t.is(e.option, option);
}

test('a misspelt detect() option is refused, naming the closest known option', async (t) => {
  const err = await t.throwsAsync(yolox.detect(frame, { scoreTreshold: 0.5 } as never));
  expectArgumentError(t, err, /^Unknown option 'scoreTreshold' for detect options: did you mean 'scoreThreshold'\?$/, 'scoreTreshold');
  const far = await t.throwsAsync(yolox.detect(frame, { colour: 'red' } as never));
  expectArgumentError(t, far, /Unknown option 'colour' for detect options: the options are scoreThreshold, iouThreshold/);
  // The engine-wide defaults are checked when the engine is made, before any model is read.
  const atCreate = await t.throwsAsync(createEngine({ model: models.yoloxNano, detect: { maxDetection: 5 } } as never));
  expectArgumentError(t, atCreate, /Unknown option 'maxDetection' for detect options: did you mean 'maxDetections'\?/);
});

test('maxDetections above the bound is refused, saying the bound', async (t) => {
  const err = await t.throwsAsync(yolox.detect(frame, { maxDetections: 1e9 }));
  expectArgumentError(t, err, /an integer from 1 to 30000 \(the most candidates NMS considers\) for maxDetections but received 1000000000/);
});

test('classes naming a class the model does not have are refused: classes [999] on an 80-class model', async (t) => {
  const err = await t.throwsAsync(yolox.detect(frame, { classes: [0, 999] }));
  expectArgumentError(t, err, /Expected a class id from 0 to 79 \(the model has 80 classes\) for classes\[1\] but received 999/, 'classes[1]');
  t.deepEqual(await yolox.detect(frame, { classes: [79] }), [], 'the last class id is fine');
});

test('a labels list or file whose length differs from the class count is refused', async (t) => {
  const list = await t.throwsAsync(createEngine({ model: models.yoloxNano, labels: ['cat', 'dog'] }));
  expectArgumentError(t, list, /the labels option has 2 names, but the model has 80 classes/, 'labels');
  const names = (await fs.readFile(models.cocoClasses, 'utf8')).trim().split('\n');
  const longer = path.join(dir, 'labels-81.txt');
  await fs.writeFile(longer, [...names, 'extra'].join('\n'));
  const file = await t.throwsAsync(createEngine({ model: models.yoloxNano, labels: longer }));
  expectArgumentError(t, file, /labels-81\.txt has 81 names, but the model has 80 classes/, 'labels');
  const keyed = path.join(dir, 'labels-keyed.json');
  await fs.writeFile(keyed, JSON.stringify({ 0: 'person', 90: 'hair brush' }));
  const beyond = await t.throwsAsync(createEngine({ model: models.yoloxNano, labels: keyed }));
  expectArgumentError(t, beyond, /names class id 90, but the model has 80 classes \(ids 0 to 79\)/, 'labels');
  // Keyed labels may be sparse: that is a legitimate use (name the classes you care about).
  const sparse = path.join(dir, 'labels-sparse.json');
  await fs.writeFile(sparse, JSON.stringify({ 0: 'human', 2: 'automobile' }));
  const engine = await createEngine({ model: models.yoloxNano, labels: sparse, threads: 1 });
  try {
    t.deepEqual(engine.info.labels.slice(0, 3), ['human', 'class 1', 'automobile']);
  } finally {
    await engine.dispose();
  }
});

test('outputLayout is a real option: it decides a yolov8 head whose shape does not, and a bad value is refused', async (t) => {
  // A 32x32 input has 21 grid cells; an output of [1, 30, 50] fits neither way round by its grid.
  const file = path.join(dir, 'ambiguous-yolov8.onnx');
  await fs.writeFile(file, tinyModel({ inputDims: [1, 3, 32, 32], outputDims: [1, 30, 50] }));
  const undecided = await t.throwsAsync(createEngine({ model: file, family: 'yolov8' }));
  t.is((undecided as Int8DetectError).code, 'ERR_DECODER');
  t.regex(undecided!.message, /Pass outputLayout: 'channels-first' for \[1, 4\+C, N\] or outputLayout: 'anchors-first'/);
  for (const [outputLayout, classes] of [['channels-first', 26], ['anchors-first', 46]] as const) {
    const engine = await createEngine({ model: file, family: 'yolov8', outputLayout, threads: 1 });
    try {
      t.is(engine.info.labels.length, classes, outputLayout);
      t.regex(engine.info.reasons.model, new RegExp(`the outputLayout option \\(${outputLayout}\\)`));
    } finally {
      await engine.dispose();
    }
  }
  const bogus = await t.throwsAsync(createEngine({ model: file, family: 'yolov8', outputLayout: 'bogus' } as unknown as EngineOptions));
  expectArgumentError(t, bogus, /Expected 'channels-first' or 'anchors-first' for outputLayout but received "bogus"/);
});

test('a symbolic class count is taken from the labels, as the error message suggests', (t) => {
  // The head's last dimension is symbolic and there is no names metadata: only the labels can say
  // how many classes it scores, and the error says to pass them.
  const info: ModelInfo = {
    irVersion: 8,
    producerName: 'test',
    producerVersion: '',
    opsetImports: [{ domain: '', version: 17 }],
    metadata: {},
    inputs: [{ name: 'images', elemType: 1, type: 'float32', dims: [1, 3, 32, 32] }],
    outputs: [{ name: 'output', elemType: 1, type: 'float32', dims: [1, gridCells(32, 32), 'features'] }],
  };
  const err = t.throws(() => resolveModelProfile({ info, overrides: { family: 'yolox' } }));
  t.regex(err!.message, /Cannot tell how many classes output scores.*pass labels with one name per class/);
  t.is((err as Int8DetectError).option, 'labels');
  const profile = resolveModelProfile({ info, overrides: { family: 'yolox', labels: ['a', 'b'] } });
  t.is(profile.numClasses, 2);
  t.deepEqual(profile.labels, ['a', 'b']);
});

test('a misspelt preprocess option names the closest one', async (t) => {
  const err = await t.throwsAsync(createEngine({ model: models.yoloxNano, preprocess: { channelorder: 'rgb' } as never }));
  expectArgumentError(t, err, /Unknown option 'channelorder' for preprocess options: did you mean 'channelOrder'\?/, 'preprocess.channelorder');
});

test('pipeline and source options: unknown keys name the closest one, numbers are bounded', (t) => {
  const base: PipelineOptions = { engine: yolox, sources: ['/nonexistent/video.mp4'], statsIntervalMs: 0 };
  const cases: Array<[Record<string, unknown>, RegExp, string]> = [
    [{ maxFPS: 5 }, /Unknown option 'maxFPS' for createPipeline options: did you mean 'maxFps'\?/, 'maxFPS'],
    [{ sources: [{ url: 'a.mp4', ffmpegPth: '/usr/bin/ffmpeg' }] }, /Unknown option 'ffmpegPth' for source options: did you mean 'ffmpegPath'\?/, 'sources[0].ffmpegPth'],
    [{ queueSize: 1e6 }, /an integer from 1 to 1000 .* for queueSize but received 1000000/, 'queueSize'],
    [{ sources: [{ url: 'a.mp4', maxRetries: -1 }] }, /an integer >= 0 .*for sources\[0\]\.maxRetries but received -1/, 'sources[0].maxRetries'],
    [{ sources: [{ url: 'a.mp4', connectTimeoutMs: 0 }] }, /for sources\[0\]\.connectTimeoutMs but received 0/, 'sources[0].connectTimeoutMs'],
    [{ sources: [{ url: 'a.mp4', backoffInitialMs: 10, backoffMaxMs: 5 }] }, /backoffMaxMs/, 'sources[0].backoffMaxMs'],
    [{ sources: [{ url: 'a.mp4', decoder: 'vlc' }] }, /'ffmpeg' or 'gstreamer' for sources\[0\]\.decoder/, 'sources[0].decoder'],
    [{ sources: [{ url: 'a.mp4', rtspTransport: 'http' }] }, /'tcp' or 'udp' for sources\[0\]\.rtspTransport/, 'sources[0].rtspTransport'],
    [{ sources: [{ url: 'a.mp4', format: 'rgb' }] }, /'nv12' or 'bgr' for sources\[0\]\.format/, 'sources[0].format'],
    [{ sources: [{ url: 'a.mp4', inputArgs: '-re' }] }, /an array of strings for sources\[0\]\.inputArgs/, 'sources[0].inputArgs'],
    [{ detect: { scoreTreshold: 0.3 } }, /did you mean 'scoreThreshold'/, 'scoreTreshold'],
  ];
  for (const [extra, pattern, option] of cases) {
    const err = t.throws(() => createPipeline({ ...base, ...extra } as PipelineOptions), undefined, JSON.stringify(extra));
    expectArgumentError(t, err, pattern, option);
  }
});

test('probe() options and calibrator options refuse unknown keys', async (t) => {
  const err = await t.throwsAsync(async () => probe({ refesh: true } as never));
  expectArgumentError(t, err, /Unknown option 'refesh' for probe\(\): did you mean 'refresh'\?/);
  const calibrator = t.throws(() =>
    calibratorFromFrames([path.join(coco.evalImages, '000000187334.jpg')], { preprocess: yolox.info.preprocess, inputName: 'images', shuffleSeeds: 3 } as never),
  );
  expectArgumentError(t, calibrator, /Unknown option 'shuffleSeeds' for calibrator options: did you mean 'shuffleSeed'\?/);
});

test('quantization settings refuse unknown keys before any calibration runs', async (t) => {
  const started = Date.now();
  const err = await t.throwsAsync(
    createEngine({ model: models.yoloxNano, precision: 'int8', calibrator: coco.calibImages, quantization: { methd: 'minmax' } as never }),
  );
  expectArgumentError(t, err, /Unknown option 'methd' for quantization options: did you mean 'method'\?/, 'quantization.methd');
  t.true(Date.now() - started < 20_000, 'refused up front, not after calibrating');
});

test('benchmarkEngine and evaluateEngine refuse unknown keys and unbounded counts', async (t) => {
  const frames = [frame];
  const bench = await t.throwsAsync(benchmarkEngine(yolox, { frames, iteration: 3 } as never));
  expectArgumentError(t, bench, /Unknown option 'iteration' for benchmarkEngine options: did you mean 'iterations'\?/);
  const huge = await t.throwsAsync(benchmarkEngine(yolox, { frames, iterations: 1e12 }));
  expectArgumentError(t, huge, /an integer from 1 to 1000000 for iterations but received 1000000000000/);
  const none = await t.throwsAsync(benchmarkEngine(yolox, { frames: [] }));
  expectArgumentError(t, none, /a non-empty array of raw frames for frames but received an array of length 0/);
  const dataset = await loadCocoDataset(coco.evalAnnotations);
  const evaluation = await t.throwsAsync(evaluateEngine(yolox, { imagesDir: coco.evalImages, dataset, limt: 3 } as never));
  expectArgumentError(t, evaluation, /Unknown option 'limt' for evaluateEngine options: did you mean 'limit'\?/);
  const limit = await t.throwsAsync(evaluateEngine(yolox, { imagesDir: coco.evalImages, dataset, limit: 0 }));
  expectArgumentError(t, limit, /an integer >= 1 for limit but received 0/);
});
