/**
 * A real tritonserver (npm run setup:triton) serving YOLOX-Nano in INT8 from a repository made by
 * `int8-detect export --triton --backend python`: metadata and configuration over HTTP and gRPC,
 * outputs equal to ONNX Runtime running the exported model here, requests in flight at once,
 * a wrong model name, and the server killed mid-run and restarted.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as OnnxRuntime from 'onnxruntime-node';
import { preprocessFrame, tensorSize } from '../lib/detect/preprocess';
import type { PreprocessSpec } from '../lib/detect/types';
import { validateRawFrame } from '../lib/image/frame';
import { decodeImage } from '../lib/image/decode';
import { listImages } from '../lib/util/files';
import { createTritonClient } from '../lib/runtimes/triton/client';
import { PARAMETER_KEYS } from '../lib/runtimes/triton/profile-parameters';
import { TritonSession } from '../lib/runtimes/triton/session';
import { coco, models } from './helpers/fixtures';
import { delay } from './helpers/video';
import { exportToRepository, startTriton, tritonSkipReason, type ExportedModel, type TritonServer } from './helpers/triton';

const skipReason = tritonSkipReason();
const tritonTest = skipReason === undefined ? test.serial : test.skip;
if (skipReason !== undefined) console.log(`triton-server tests skipped: ${skipReason}`);

let dir: string;
let exported: ExportedModel;
let server: TritonServer;
let frames: Float32Array[];
let reference: Float32Array[];
const PROTOCOLS = ['http', 'grpc'] as const;
const urlOf = (protocol: (typeof PROTOCOLS)[number]) => (protocol === 'http' ? server.httpUrl : server.grpcUrl);

test.before(async () => {
  if (skipReason !== undefined) return;
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-triton-'));
  exported = await exportToRepository(path.join(dir, 'repo'), ['--model', models.yoloxNano, '--backend', 'python', '--calibration', coco.calibImages, '--no-search', '--max-batch', '8']);
  server = await startTriton(path.join(dir, 'repo'));
  // Six eval images, preprocessed as the configuration says, and ONNX Runtime's outputs on the exported model.
  const config = await createTritonClient(server.httpUrl).modelConfig(exported.name);
  const spec = JSON.parse(config!.parameters[PARAMETER_KEYS.preprocess]) as PreprocessSpec;
  frames = [];
  for (const image of (await listImages(coco.evalImages)).slice(0, 6)) {
    const buffer = new Float32Array(tensorSize(spec));
    await preprocessFrame(validateRawFrame(await decodeImage(image)), spec, buffer);
    frames.push(buffer);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof OnnxRuntime;
  const local = await ort.InferenceSession.create(await readFile(path.join(exported.modelDir, '1', 'model.onnx')));
  reference = [];
  for (const frame of frames) {
    const out = await local.run({ images: new ort.Tensor('float32', frame, [1, 3, 416, 416]) });
    reference.push(out.output.data as Float32Array);
  }
  await local.release();
});

test.after.always(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function maxDifference(a: Float32Array, b: Float32Array): number {
  let worst = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

tritonTest('export --triton --backend python wrote an INT8 YOLOX model with dynamic batching that Triton serves', (t) => {
  t.is(exported.name, 'yolox_nano');
  t.is(exported.family, 'yolox');
  t.is(exported.precision, 'int8');
  t.is(exported.maxBatchSize, 8);
  t.deepEqual([...exported.files].sort(), ['1/model.onnx', '1/model.py', 'config.pbtxt']);
});

for (const protocol of PROTOCOLS) {
  tritonTest(`${protocol}: server and model metadata, the configuration with the detector profile, the repository index`, async (t) => {
    const client = createTritonClient(urlOf(protocol));
    try {
      const meta = await client.serverMetadata();
      t.is(meta.name, 'triton');
      t.is(meta.version, '2.51.0');
      t.true(meta.extensions.includes('binary_tensor_data'));
      t.true(await client.serverReady());
      t.true(await client.modelReady('yolox_nano'));
      t.false(await client.modelReady('no_such_model'));
      const model = await client.modelMetadata('yolox_nano');
      t.deepEqual(model.inputs, [{ name: 'images', datatype: 'FP32', shape: [-1, 3, 416, 416] }]);
      t.deepEqual(model.outputs, [{ name: 'output', datatype: 'FP32', shape: [-1, 3549, 85] }]);
      const config = await client.modelConfig('yolox_nano');
      t.is(config?.backend, 'python');
      t.is(config?.maxBatchSize, 8);
      t.true(config?.dynamicBatching);
      t.is(config?.instances, 1);
      t.is(config?.parameters[PARAMETER_KEYS.family], 'yolox');
      t.is(config?.parameters[PARAMETER_KEYS.precision], 'int8');
      t.is((JSON.parse(config!.parameters[PARAMETER_KEYS.labels]) as string[])[0], 'person');
      t.like(JSON.parse(config!.parameters[PARAMETER_KEYS.preprocess]), { width: 416, height: 416, channelOrder: 'bgr', placement: 'topleft', scale: 1 });
      t.deepEqual(await client.repositoryIndex(), [{ name: 'yolox_nano', version: '1', state: 'READY' }]);
    } finally {
      client.close();
    }
  });

  tritonTest(`${protocol}: Triton's outputs equal ONNX Runtime running the exported model here; 4 in flight at once match too`, async (t) => {
    const session = await TritonSession.open({ url: urlOf(protocol), model: 'yolox_nano', concurrency: 4 });
    try {
      t.is(session.precision, 'int8');
      t.deepEqual(session.inputs[0].dims, ['batch', 3, 416, 416]);
      const serial: Float32Array[] = [];
      for (const frame of frames) {
        const result = await session.run({ images: { data: frame, dims: [1, 3, 416, 416] } });
        t.deepEqual(result.outputs.output.dims, [1, 3549, 85]);
        serial.push(result.outputs.output.data as Float32Array);
      }
      serial.forEach((out, i) => t.true(maxDifference(out, reference[i]) <= 1e-5, `frame ${i}: ${maxDifference(out, reference[i])}`));
      // 24 requests through 4 slots: Triton batches some of them; every result is its own frame's.
      const concurrent = await Promise.all(Array.from({ length: 24 }, (_, i) => session.run({ images: { data: frames[i % frames.length], dims: [1, 3, 416, 416] } })));
      concurrent.forEach((r, i) => t.true(maxDifference(r.outputs.output.data as Float32Array, serial[i % frames.length]) <= 1e-5, `request ${i}`));
    } finally {
      await session.dispose();
    }
  });

  tritonTest(`${protocol}: a wrong model name is ERR_MODEL naming the models that are there`, async (t) => {
    const error = await t.throwsAsync(TritonSession.open({ url: urlOf(protocol), model: 'yolox_tiny' }));
    t.is((error as { code?: string }).code, 'ERR_MODEL');
    t.is(error!.message, `The Triton server at ${urlOf(protocol)} has no model 'yolox_tiny'; the models there: yolox_nano (version 1) READY`);
    const version = await t.throwsAsync(TritonSession.open({ url: urlOf(protocol), model: 'yolox_nano', version: '7' }));
    t.regex(version!.message, /has model 'yolox_nano' version 7, but it is not ready; the models there: yolox_nano \(version 1\) READY/);
  });
}

tritonTest('the server killed mid-run: requests fail with ERR_BACKEND_UNAVAILABLE naming the server, then recover once it is back', async (t) => {
  const sessions = await Promise.all(PROTOCOLS.map((protocol) => TritonSession.open({ url: urlOf(protocol), model: 'yolox_nano', concurrency: 2, client: { timeoutMs: 10_000 } })));
  const run = (i: number) => sessions[i].run({ images: { data: frames[0], dims: [1, 3, 416, 416] } });
  try {
    for (let i = 0; i < sessions.length; i++) t.true(maxDifference((await run(i)).outputs.output.data as Float32Array, reference[0]) <= 1e-5);
    // Requests in flight when the server dies, and requests sent while it is gone.
    const inFlight = sessions.map((_, i) => run(i).then(() => 'ok', (err: Error) => err));
    await server.kill();
    for (let i = 0; i < sessions.length; i++) {
      const during = await inFlight[i];
      const after = await run(i).then(() => 'ok', (err: Error) => err);
      for (const outcome of [during, after]) {
        if (outcome === 'ok') continue; // a request the server answered just before it died
        t.is((outcome as { code?: string }).code, 'ERR_BACKEND_UNAVAILABLE', (outcome as Error).message);
        t.regex((outcome as Error).message, new RegExp(`The Triton server at ${PROTOCOLS[i]}://127\\.0\\.0\\.1:\\d+ cannot be reached`));
      }
      t.not(after, 'ok', `${PROTOCOLS[i]}: a request while the server is down must fail`);
    }
    await server.restart();
    for (let i = 0; i < sessions.length; i++) {
      let recovered: Float32Array | undefined;
      for (let attempt = 0; attempt < 40 && !recovered; attempt++) {
        recovered = await run(i).then((r) => r.outputs.output.data as Float32Array, async () => {
          await delay(250);
          return undefined;
        });
      }
      t.truthy(recovered, `${PROTOCOLS[i]} recovered`);
      t.true(maxDifference(recovered!, reference[0]) <= 1e-5);
    }
  } finally {
    await Promise.all(sessions.map((s) => s.dispose()));
  }
});
