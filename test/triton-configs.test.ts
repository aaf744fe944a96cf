/**
 * The configurations export --triton writes for Triton's onnxruntime_onnx, openvino and
 * tensorrt_plan backends, checked by Triton 2.51 itself: it parses each one and fails only because
 * the backend is not in the pip wheel's build ("unable to find backend library for backend ...").
 * A configuration with a field outside the schema is the control: it fails earlier, at parsing.
 * A model that failed to load is also the "model not ready" fault: opening it names the reason.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runtimeStatusSync } from './helpers/runtime-status';
import { createTritonClient } from '../lib/runtimes/triton/client';
import { formatConfigPbtxt } from '../lib/runtimes/triton/export/config-pbtxt';
import { TritonSession } from '../lib/runtimes/triton/session';
import { coco, models } from './helpers/fixtures';
import { exportToRepository, startTriton, tritonSkipReason, type TritonServer } from './helpers/triton';

const skipReason = tritonSkipReason();
const openVinoLoaded = runtimeStatusSync('openvino').loaded;
const tritonTest = skipReason === undefined ? test.serial : test.skip;
if (skipReason !== undefined) console.log(`triton-configs tests skipped: ${skipReason}`);

let dir: string;
let server: TritonServer;
const MISSING_BACKEND = (backend: string) => `Invalid argument: unable to find backend library for backend '${backend}', try specifying runtime on the model configuration.`;

test.before(async () => {
  if (skipReason !== undefined) return;
  dir = mkdtempSync(path.join(tmpdir(), 'int8-detect-triton-configs-'));
  const repo = path.join(dir, 'repo');
  // onnxruntime_onnx: the INT8 export (the calibration's cache entry is shared with the other Triton tests).
  await exportToRepository(repo, ['--model', models.yoloxNano, '--backend', 'onnxruntime', '--calibration', coco.calibImages, '--no-search', '--name', 'yolox_onnxruntime']);
  // openvino: the IR export. Its configuration does not depend on the precision; FP32 saves OpenVINO's quantization here.
  if (openVinoLoaded) await exportToRepository(repo, ['--model', models.yoloxNano, '--backend', 'openvino', '--precision', 'fp32', '--name', 'yolox_openvino']);
  // tensorrt_plan: the plan cannot be built without TensorRT; the configuration export would write beside it.
  const tensors = { inputs: [{ name: 'images', datatype: 'FP32' as const, dims: [3, 416, 416] }], outputs: [{ name: 'output', datatype: 'FP32' as const, dims: [3549, 85] }] };
  const tensorrt = { name: 'yolox_tensorrt', flavour: 'tensorrt' as const, maxBatchSize: 8, ...tensors, dynamicBatching: { maxQueueDelayMicroseconds: 500 }, instances: 1, parameters: { 'int8_detect.family': 'yolox' } };
  mkdirSync(path.join(repo, 'yolox_tensorrt', '1'), { recursive: true });
  writeFileSync(path.join(repo, 'yolox_tensorrt', 'config.pbtxt'), formatConfigPbtxt(tensorrt));
  // The control: the same configuration with one field Triton's schema does not have.
  mkdirSync(path.join(repo, 'schema_violation', '1'), { recursive: true });
  writeFileSync(path.join(repo, 'schema_violation', 'config.pbtxt'), formatConfigPbtxt({ ...tensorrt, name: 'schema_violation' }).replace('max_batch_size: 8', 'max_batch_size: 8\nmax_batch_sise: 8'));
  server = await startTriton(repo, { wait: 'live', serverArgs: ['--exit-on-error=false'] });
});

test.after.always(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const flavours = [
  { model: 'yolox_onnxruntime', backend: 'onnxruntime', platform: 'onnxruntime_onnx' },
  { model: 'yolox_openvino', backend: 'openvino', platform: 'openvino' },
  { model: 'yolox_tensorrt', backend: 'tensorrt', platform: 'tensorrt_plan' },
];

for (const flavour of flavours) {
  const needsOpenVino = flavour.backend === 'openvino' && !openVinoLoaded;
  (needsOpenVino ? test.skip : tritonTest)(`Triton 2.51 parses the ${flavour.platform} configuration and fails only for the missing ${flavour.backend} backend`, async (t) => {
    const client = createTritonClient(server.httpUrl);
    try {
      const index = await client.repositoryIndex();
      const entry = index?.find((m) => m.name === flavour.model);
      t.is(entry?.state, 'UNAVAILABLE');
      t.is(entry?.reason, MISSING_BACKEND(flavour.backend));
      t.log(`Triton 2.51 on ${flavour.model} (${flavour.platform}): ${entry?.reason}`);
      t.true(server.log().includes(`failed to load '${flavour.model}' version 1: ${MISSING_BACKEND(flavour.backend)}`));
      t.false(server.log().includes(`Poll failed for model directory '${flavour.model}'`), 'parsed: no text-proto failure');
    } finally {
      client.close();
    }
  });
}

tritonTest('the control: a field outside the schema fails at parsing, before any backend is looked for', (t) => {
  t.true(server.log().includes(`Poll failed for model directory 'schema_violation': failed to read text proto from`), server.log().slice(-2000));
  t.false(server.log().includes(`failed to load 'schema_violation'`));
});

for (const protocol of ['http', 'grpc'] as const) {
  tritonTest(`${protocol}: opening a model that is not ready says so, with the reason Triton gives for each model`, async (t) => {
    const url = protocol === 'http' ? server.httpUrl : server.grpcUrl;
    const error = await t.throwsAsync(TritonSession.open({ url, model: 'yolox_onnxruntime' }));
    t.is((error as { code?: string }).code, 'ERR_BACKEND_UNAVAILABLE');
    t.true(
      error!.message.startsWith(`The Triton server at ${url} has model 'yolox_onnxruntime', but it is not ready; the models there: `),
      error!.message,
    );
    t.true(error!.message.includes(`yolox_onnxruntime (version 1) UNAVAILABLE: ${MISSING_BACKEND('onnxruntime')}`));
    t.true(error!.message.includes(`yolox_tensorrt (version 1) UNAVAILABLE: ${MISSING_BACKEND('tensorrt')}`));
  });
}
