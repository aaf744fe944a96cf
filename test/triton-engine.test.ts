/**
 * backend: 'triton' behind the Engine, against a real tritonserver serving the repository made by
 * `export --triton --backend python`: detections equal to the local INT8 engine's (the same
 * quantized model from the INT8 cache), `eval --backend triton` within 0.001 mAP of the local
 * run over HTTP and over gRPC, four Node processes with four requests in flight each giving what
 * serial calls give, `watch --backend triton` frame for frame like a local engine, and probe().
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Detection } from '../lib/detect/types';
import { createEngine, type Engine } from '../lib/engine';
import { loadCocoDataset } from '../lib/eval/coco';
import { COCO_EVAL_DETECT_OPTIONS, evaluateEngine } from '../lib/eval/evaluate-engine';
import { listImages } from '../lib/util/files';
import { probe } from '../lib/probe';
import { runCli, cliPath } from './helpers/cli';
import { coco, models } from './helpers/fixtures';
import { exportToRepository, startTriton, tritonSkipReason, type ExportedModel, type TritonServer } from './helpers/triton';
import { makeTestMedia, type TestMedia } from './helpers/video';

const skipReason = tritonSkipReason();
const tritonTest = skipReason === undefined ? test.serial : test.skip;
if (skipReason !== undefined) console.log(`triton-engine tests skipped: ${skipReason}`);

let dir: string;
let exported: ExportedModel;
let server: TritonServer;
let local: Engine;
let images: string[];
const PROTOCOLS = ['http', 'grpc'] as const;
const urlOf = (protocol: (typeof PROTOCOLS)[number]) => (protocol === 'http' ? server.httpUrl : server.grpcUrl);

test.before(async () => {
  if (skipReason !== undefined) return;
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-triton-engine-'));
  const repo = path.join(dir, 'repo');
  exported = await exportToRepository(repo, ['--model', models.yoloxNano, '--backend', 'python', '--calibration', coco.calibImages, '--no-search']);
  server = await startTriton(repo);
  // The same float model, calibration folder and settings (--no-search: every activation INT8, so
  // the suite skips minutes of mixed-precision search): createEngine finds the INT8 model export --triton used.
  local = await createEngine({ model: models.yoloxNano, backend: 'onnxruntime', precision: 'int8', calibrator: coco.calibImages, quantization: { search: false } });
  images = (await listImages(coco.evalImages)).slice(0, 8);
});

test.after.always(async () => {
  await local?.dispose();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function closeTo(a: Detection[], b: Detection[], tolerance: number): string | undefined {
  if (a.length !== b.length) return `${a.length} detections against ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i].classId !== b[i].classId || a[i].label !== b[i].label) return `detection ${i}: class ${a[i].label} against ${b[i].label}`;
    const worst = Math.max(Math.abs(a[i].score - b[i].score), ...(['x1', 'y1', 'x2', 'y2'] as const).map((k) => Math.abs(a[i].box[k] - b[i].box[k])));
    if (worst > tolerance) return `detection ${i}: off by ${worst}`;
  }
  return undefined;
}

tritonTest('the local engine runs the very INT8 model export --triton wrote (one INT8 cache entry)', (t) => {
  t.is(local.info.quantization?.source, 'cache');
  t.is(exported.precision, 'int8');
});

for (const protocol of PROTOCOLS) {
  tritonTest(`${protocol}: createEngine({ backend: 'triton' }) needs no model file: profile from the configuration, detections equal to the local engine's`, async (t) => {
    const engine = await createEngine({ backend: 'triton', model: 'yolox_nano', triton: { url: urlOf(protocol) } });
    try {
      const { info } = engine;
      t.is(info.backend, 'triton');
      t.is(info.precision, 'int8');
      t.is(info.model.family, 'yolox');
      t.deepEqual(info.preprocess, local.info.preprocess);
      t.deepEqual(info.labels, local.info.labels);
      t.regex(info.runtimeVersion, /^triton 2\.51\.0$/);
      t.regex(info.reasons.backend, new RegExp(`^Using triton 2\\.51\\.0 at ${protocol}://127\\.0\\.0\\.1:\\d+ over ${protocol === 'http' ? 'HTTP' : 'gRPC'} \\(KServe v2; model yolox_nano, platform python\\), as requested\\.$`));
      t.regex(info.reasons.model, /^the detector profile \(family, preprocess, labels\) from the model's configuration on the server; /);
      t.is(info.model.path, `${urlOf(protocol)}/v2/models/yolox_nano`);
      for (const image of images) {
        const remote = await engine.detect(image);
        const here = await local.detect(image);
        t.true(here.length > 0 || remote.length === 0);
        const why = closeTo(remote, here, 1e-3);
        t.is(why, undefined, `${path.basename(image)}: ${why}`);
      }
    } finally {
      await engine.dispose();
    }
  });
}

tritonTest('eval --backend triton is within 0.001 mAP of the local INT8 engine on coco/eval, over HTTP and over gRPC', async (t) => {
  const dataset = await loadCocoDataset(coco.evalAnnotations);
  const here = await evaluateEngine(local, { imagesDir: coco.evalImages, dataset, detectOptions: COCO_EVAL_DETECT_OPTIONS });
  for (const protocol of PROTOCOLS) {
    const result = await runCli(['eval', '--backend', 'triton', '--url', urlOf(protocol), '--model', 'yolox_nano', '--images', coco.evalImages, '--annotations', coco.evalAnnotations, '--json'], { timeoutMs: 600_000 });
    t.is(result.code, 0, result.stderr);
    const remote = JSON.parse(result.stdout) as { mAP: number; AP50: number; backend: string; images: number };
    t.is(remote.backend, 'triton');
    t.is(remote.images, dataset.images.length);
    const difference = Math.abs(remote.mAP - here.metrics.mAP);
    t.log(`${protocol}: mAP@[.5:.95] ${remote.mAP.toFixed(6)} (AP50 ${remote.AP50.toFixed(6)}) through Triton, ${here.metrics.mAP.toFixed(6)} (AP50 ${here.metrics.AP50.toFixed(6)}) local; difference ${difference.toFixed(6)}`);
    t.true(difference <= 0.001, `${protocol}: ${remote.mAP} against ${here.metrics.mAP}`);
  }
});

tritonTest('4 Node processes x 4 requests in flight against one server give what serial calls give', async (t) => {
  const serialEngine = await createEngine({ backend: 'triton', model: 'yolox_nano', triton: { url: server.httpUrl } });
  const serial: Detection[][] = [];
  try {
    for (const image of images) serial.push(await serialEngine.detect(image));
  } finally {
    await serialEngine.dispose();
  }
  const script = path.join(path.dirname(cliPath), '..', '..', 'test', 'helpers', 'triton-client-process.js');
  const runs = await Promise.all(
    [server.httpUrl, server.grpcUrl, server.httpUrl, server.grpcUrl].map(
      (url) =>
        new Promise<{ pid: number; stable: boolean; detections: Detection[][] }>((resolve, reject) =>
          execFile(process.execPath, [script, url, 'yolox_nano', '4', '2', ...images], { timeout: 600_000, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) =>
            err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
          ),
        ),
    ),
  );
  t.is(new Set(runs.map((r) => r.pid)).size, 4);
  for (const [i, run] of runs.entries()) {
    t.true(run.stable, `process ${i}: both rounds gave the same`);
    run.detections.forEach((detections, j) => t.deepEqual(detections, JSON.parse(JSON.stringify(serial[j])), `process ${i}, image ${j}`));
  }
});

tritonTest('watch --backend triton gives, frame for frame, the detections of a local engine on the same INT8 model', async (t) => {
  const media: TestMedia = await makeTestMedia(path.join(dir, 'media'), 4, 1);
  const watch = async (args: string[]) => {
    const result = await runCli(['watch', media.slideshow, '--json', '--drop-policy', 'keep-all', ...args], { timeoutMs: 600_000 });
    t.is(result.code, 0, result.stderr);
    return result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event?: string; pts?: number; detections?: unknown[] })
      .filter((e) => e.event === undefined);
  };
  const remote = await watch(['--backend', 'triton', '--url', server.grpcUrl, '--model', 'yolox_nano', '--concurrency', '2']);
  const here = await watch(['--backend', 'onnxruntime', '--model', path.join(exported.modelDir, '1', 'model.onnx')]);
  t.is(remote.length, here.length);
  t.true(remote.length >= 40, `${remote.length} frames`);
  t.true(remote.some((frame) => (frame.detections?.length ?? 0) > 0));
  remote.forEach((frame, i) => t.deepEqual({ pts: frame.pts, detections: frame.detections }, { pts: here[i].pts, detections: here[i].detections }, `frame ${i}`));
});

tritonTest('probe() lists the configured server and its models; INT8_DETECT_TRITON_URL configures the CLI', async (t) => {
  const report = await probe({ triton: { url: server.httpUrl } });
  t.true(report.backends.triton.available);
  t.is(report.backends.triton.version, 'triton 2.51.0');
  t.deepEqual(report.backends.triton.devices, [`${server.httpUrl}: yolox_nano (version 1)`]);
  // 'auto' never picks a server: it needs a model name, and frames would leave the machine unasked.
  const auto = await createEngine({ model: models.yoloxNano });
  t.not(auto.info.backend, 'triton');
  await auto.dispose();
  const result = await runCli(['probe', '--json'], { env: { INT8_DETECT_TRITON_URL: server.grpcUrl } });
  t.is(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as { backends: { triton: { available: boolean; devices: string[] } } };
  t.true(json.backends.triton.available);
  t.deepEqual(json.backends.triton.devices, [`${server.grpcUrl}: yolox_nano (version 1)`]);
  const none = await probe({ refresh: true });
  t.false(none.backends.triton.available);
  t.regex(none.backends.triton.reason ?? '', /no Triton server is configured/);
});
