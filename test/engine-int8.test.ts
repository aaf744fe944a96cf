import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendName } from '../lib/runtimes/backend';
import { createEngine, type Engine } from '../lib/engine';
import { resolveModelProfile } from '../lib/detect/profile';
import { readModelInfo } from '../lib/onnx/model-info';
import { calibratorFromAsyncFrames, calibratorFromFrames } from '../lib/quantize/calibrator';
import { int8CacheKey, resolveInt8Settings } from '../lib/engine/int8-settings';
import { lookupInt8Model, storeInt8Model } from '../lib/engine/int8-cache';
import type { Int8Summary } from '../lib/engine/int8-summary';
import { keyHash as int8KeyHash, sha256 } from '../lib/util/hash';
import { coco, models } from './helpers/fixtures';

// Every test shares one cache folder (INT8_DETECT_CACHE_DIR is read at each createEngine), so they run one at a time.
let cacheDir: string;
let files: string[];
test.before(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-engine-int8-'));
  process.env.INT8_DETECT_CACHE_DIR = cacheDir;
  // 16 images: 12 calibrate, 4 are held back for the label-free check. maxDrop 1 accepts the
  // all-INT8 model at once, so the tests do not wait for a sensitivity ranking.
  files = (await fs.readdir(coco.calibImages)).sort().slice(0, 16).map((f) => path.join(coco.calibImages, f));
});
test.after.always(async () => {
  await fs.rm(cacheDir, { recursive: true, force: true });
});

const base = { model: models.yoloxNano, backend: 'onnxruntime' as const, precision: 'int8' as const, maxDrop: 1 };

async function yoloxSpec() {
  const profile = resolveModelProfile({ info: readModelInfo(await fs.readFile(models.yoloxNano)) });
  return { preprocess: profile.preprocess, inputName: profile.inputName };
}

async function int8Files(): Promise<string[]> {
  return (await fs.readdir(path.join(cacheDir, 'int8')).catch(() => [] as string[])).sort();
}

async function detectOnce(engine: Engine) {
  return engine.detect(path.join(coco.evalImages, (await fs.readdir(coco.evalImages)).sort()[0]));
}

test.serial('precision int8 on a float model without a calibrator keeps its clear error', async (t) => {
  await t.throwsAsync(createEngine({ model: models.yoloxNano, backend: 'onnxruntime', precision: 'int8' }), { message: /float model.*calibrator/ });
});

test.serial('the first engine quantizes and caches; the second loads the cache without reading one frame', async (t) => {
  let read = 0;
  const calibrator = calibratorFromFrames(files, { ...(await yoloxSpec()), onProgress: () => read++ });
  const phases = new Set<string>();
  const first = await createEngine({ ...base, calibrator, quantization: { heldBack: 4 }, onProgress: (p) => phases.add(p.phase) });
  let firstDetections;
  try {
    const q = first.info.quantization!;
    t.is(first.info.precision, 'int8');
    t.true(first.info.model.quantized);
    t.is(q.source, 'quantized');
    t.true(read >= 12, `calibration frames were read (${read}, with the equalization pre-pass)`);
    t.is(q.calibrationFrames, 12, 'the 4 held-back frames were not calibrated on');
    t.is(q.agreement.heldBackFrames, 4);
    t.false(q.agreement.heldBackShared);
    t.true(q.agreement.floor > 0.5 && q.agreement.floor <= 1 && q.agreement.allInt8 > 0 && q.agreement.allInt8 <= 1, JSON.stringify(q.agreement));
    t.true(q.agreement.passed);
    t.deepEqual(q.keptFloat, []);
    t.true(q.floatNodes.length > 0 && q.floatNodes.every((n) => n.reason.length > 0), 'the head stays in float, each node with its reason');
    t.true(q.macs.int8Fraction > 0.9, `INT8 MAC fraction ${q.macs.int8Fraction}`);
    t.true(phases.has('collect') && phases.has('reference'), [...phases].join(','));
    t.regex(first.info.reasons.quantization!, /quantized on 12 calibration frames/);
    t.truthy(q.cachePath);
    t.deepEqual(await int8Files(), [path.basename(q.cachePath!), `${path.basename(q.cachePath!)}.json`]);
    firstDetections = await detectOnce(first);
    t.true(firstDetections.length > 0);
  } finally {
    await first.dispose();
  }

  read = 0;
  phases.clear();
  const second = await createEngine({ ...base, calibrator, quantization: { heldBack: 4 }, onProgress: (p) => phases.add(p.phase) });
  try {
    const q = second.info.quantization!;
    t.is(q.source, 'cache');
    t.is(read, 0, 'no calibration frame was read');
    t.is(phases.size, 0, 'no quantization progress');
    t.is(q.keyHash, first.info.quantization!.keyHash);
    t.deepEqual(q.agreement, first.info.quantization!.agreement, 'the summary comes back with the model');
    t.regex(second.info.reasons.quantization!, /loaded from the INT8 cache/);
    t.deepEqual(await detectOnce(second), firstDetections, 'the cached model is the quantized model');
  } finally {
    await second.dispose();
  }
});

test.serial('a truncated cache entry is reported, deleted and rebuilt, never loaded', async (t) => {
  const calibrator = calibratorFromFrames(files, await yoloxSpec());
  const options = { ...base, calibrator, quantization: { heldBack: 4 } };
  const probe = await createEngine(options);
  const cachePath = probe.info.quantization!.cachePath!;
  await probe.dispose();
  const whole = await fs.readFile(cachePath);
  await fs.writeFile(cachePath, whole.subarray(0, whole.length >> 1));

  const engine = await createEngine(options);
  try {
    t.is(engine.info.quantization!.source, 'quantized');
    t.regex(engine.info.reasons.quantization!, /not trusted and was rebuilt: .*truncated or replaced/);
    const manifest = JSON.parse(await fs.readFile(`${cachePath}.json`, 'utf8'));
    const rebuilt = await fs.readFile(cachePath);
    t.is(manifest.artefact.sha256, sha256(rebuilt));
    t.is(rebuilt.length, manifest.artefact.bytes);
  } finally {
    await engine.dispose();
  }
});

test.serial('a manifest that is not JSON, or is for other settings, is not trusted', async (t) => {
  const file = path.join(cacheDir, 'manifest-check', 'm.onnx');
  const key = { model: 'a' };
  await storeInt8Model(file, key, new Uint8Array([1, 2, 3]), { any: 1 } as unknown as Int8Summary);
  t.is((await lookupInt8Model(file, key)).status, 'hit');
  const other = await lookupInt8Model(file, { model: 'b' });
  t.is(other.status, 'stale');
  t.regex((other as { reason: string }).reason, /other settings/);
  await fs.writeFile(`${file}.json`, '{"format": "int8-detect-int8-mo');
  const broken = await lookupInt8Model(file, key);
  t.is(broken.status, 'stale');
  t.regex((broken as { reason: string }).reason, /not valid JSON/);
  await fs.rm(`${file}.json`);
  t.regex(((await lookupInt8Model(file, key)) as { reason: string }).reason, /has no manifest/);
});

test.serial('an abort half-way through calibration rejects and leaves no cache file', async (t) => {
  const before = await int8Files();
  const controller = new AbortController();
  // Other settings than the entries already cached, so nothing is found and calibration starts.
  const promise = createEngine({
    ...base,
    calibrator: files,
    quantization: { heldBack: 4, method: 'minmax' },
    signal: controller.signal,
    onProgress: (p) => {
      if (p.phase === 'collect' && (p.done ?? 0) >= 3) controller.abort('enough');
    },
  });
  await t.throwsAsync(promise, { message: /aborted: enough/ });
  t.deepEqual(await int8Files(), before, 'no new entry, no temporary file');
});

test.serial('a stream has no fingerprint: it is quantized, not cached, and engine.info says why', async (t) => {
  async function* frames() {
    yield* files;
  }
  const calibrator = calibratorFromAsyncFrames(frames, await yoloxSpec());
  t.is(calibrator.fingerprint, undefined);
  const before = await int8Files();
  const engine = await createEngine({ ...base, calibrator, quantization: { heldBack: 4 } });
  try {
    const q = engine.info.quantization!;
    t.is(q.source, 'quantized');
    t.is(q.cachePath, null);
    t.is(q.agreement.heldBackFrames, 4, 'every fourth frame of the stream was held back');
    t.is(q.calibrationFrames, 12);
    t.true(q.warnings.some((w) => /no fingerprint.*not cached/.test(w)), q.warnings.join('\n'));
    t.regex(engine.info.reasons.quantization!, /not cached/);
    t.deepEqual(await int8Files(), before);
  } finally {
    await engine.dispose();
  }
});

test.serial('every calibration setting and the frames themselves change the cache key', async (t) => {
  const spec = await yoloxSpec();
  const fingerprint = (list: readonly string[], extra = {}) => calibratorFromFrames(list, { ...spec, ...extra }).fingerprint!;
  t.is(fingerprint(files), fingerprint(files), 'the same files give the same fingerprint');
  t.not(fingerprint(files), fingerprint(files.slice(1)));
  t.not(fingerprint(files), fingerprint(files, { batchSize: 2 }));
  t.not(fingerprint(files), fingerprint(files, { preprocess: { ...spec.preprocess, width: 320 } }));
  const raw = { data: new Uint8Array(12), width: 2, height: 2, format: 'rgb' as const };
  t.not(calibratorFromFrames([raw], spec).fingerprint, calibratorFromFrames([{ ...raw, data: new Uint8Array(12).fill(1) }], spec).fingerprint);

  const parts = {
    modelSha256: 'ab'.repeat(32),
    modelBytes: 100,
    backend: 'onnxruntime' as BackendName,
    quantizer: 'onnxruntime 1.30.0',
    settings: resolveInt8Settings({}),
    frames: fingerprint(files),
    heldBack: 32,
    family: 'yolox' as const,
    preprocess: spec.preprocess,
    classes: 80,
  };
  const hash = (changes: Partial<typeof parts>) => int8KeyHash(int8CacheKey({ ...parts, ...changes }));
  const variants = [
    hash({}),
    hash({ modelSha256: 'cd'.repeat(32) }),
    hash({ quantizer: 'onnxruntime 1.31.0' }),
    hash({ frames: fingerprint(files.slice(2)) }),
    hash({ heldBack: 16 }),
    hash({ settings: resolveInt8Settings({ quantization: { method: 'entropy' } }) }),
    hash({ settings: resolveInt8Settings({ quantization: { activations: 'int8-symmetric' } }) }),
    hash({ settings: resolveInt8Settings({ quantization: { weightBits: 7 } }) }),
    hash({ settings: resolveInt8Settings({ quantization: { ignoredScope: { patterns: [/^Conv_4/] } } }) }),
    hash({ settings: resolveInt8Settings({ maxDrop: 0.02 }) }),
    hash({ settings: resolveInt8Settings({ quantization: { search: false } }) }),
    hash({ backend: 'openvino' }),
  ];
  t.is(new Set(variants).size, variants.length, 'every variant has its own key');
  t.is(hash({}), variants[0], 'and the same settings the same key');
});
