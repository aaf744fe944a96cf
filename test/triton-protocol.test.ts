/**
 * The triton backend without a Triton server: server URLs, the KServe v2 gRPC messages, the
 * config.pbtxt writer, the batch-dynamic rewrite (on the real YOLOX-Nano), and the faults a
 * server can cause, each against a misbehaving server of our own: one that accepts and never
 * answers (timeout), refuses connections, sends a response over the size limit, or sends
 * outputs of the wrong datatype, shape or byte count.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import { ProtoReader } from '../lib/onnx/protobuf';
import { ProtoWriter } from '../lib/onnx/writer';
import { readModelInfo } from '../lib/onnx/model-info';
import { createTritonClient } from '../lib/runtimes/triton/client';
import { decodeInferResponse, decodeModelConfigResponse, decodeModelMetadata, encodeInferRequest } from '../lib/runtimes/triton/grpc-messages';
import { parseServerUrl } from '../lib/runtimes/triton/server-url';
import { TritonSession } from '../lib/runtimes/triton/session';
import { formatConfigPbtxt, textFormatString } from '../lib/runtimes/triton/export/config-pbtxt';
import { batchDynamicBytes } from '../lib/onnx/dynamic-batch';
import { checkDynamicBatch } from '../lib/runtimes/triton/export/check-batch';
import { FAKE_MODEL, startFakeGrpcServer, startFakeHttpServer, startSilentServer, type SpoiledOutput } from './helpers/fake-kserve';
import { buildModelBytes, int, node } from './helpers/onnx-graph';
import { models } from './helpers/fixtures';
import { tinyModel } from './helpers/tiny-onnx';
import { freePort } from './helpers/video';
import { int64Tensor } from '../lib/onnx/model';
import { createEngine } from '../lib/engine';
import { chooseBackend, type ProbeReport } from '../lib/probe';
import { cpuInfo } from '../lib/hardware/cpu';

test('server URLs choose the protocol, carry credentials as Basic auth and never show the password', (t) => {
  const http = parseServerUrl('http://alice:s3cr%40t@triton.local:8000/proxy/');
  t.is(http.protocol, 'http');
  t.is(http.port, 8000);
  t.is(http.basePath, '/proxy');
  t.is(http.authorization, `Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
  t.is(http.display, 'http://alice:***@triton.local:8000/proxy/');
  const grpc = parseServerUrl('grpc://[::1]');
  t.deepEqual([grpc.protocol, grpc.host, grpc.port, grpc.tls], ['grpc', '::1', 8001, false]);
  t.true(parseServerUrl('grpcs://host').tls);
  const bad = t.throws(() => parseServerUrl('rtsp://bob:pw123@host:554'));
  t.is((bad as { code?: string }).code, 'ERR_ARGUMENT');
  t.regex(bad!.message, /http:\/\/, https:\/\/, grpc:\/\/ or grpcs:\/\//);
  t.false(bad!.message.includes('pw123'));
  t.throws(() => parseServerUrl('triton:8000'), { message: /scheme/ });
});

test('gRPC messages: an infer request reads back field by field; metadata and responses decode packed and unpacked shapes', (t) => {
  const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const request = encodeInferRequest({ model: 'm', version: '2', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data }], outputs: ['y'] });
  const seen: Record<number, unknown[]> = {};
  const r = new ProtoReader(request);
  while (r.next()) (seen[r.field] ??= []).push(r.wireType === 2 ? r.bytesField() : r.varint());
  t.deepEqual(Buffer.from(seen[1][0] as Uint8Array).toString(), 'm');
  t.deepEqual(Buffer.from(seen[2][0] as Uint8Array).toString(), '2');
  t.deepEqual(Array.from(seen[7][0] as Uint8Array), Array.from(data));
  const input = new ProtoReader(seen[5][0] as Uint8Array);
  const fields: unknown[] = [];
  while (input.next()) fields.push(input.field === 3 ? Array.from(input.bytesField()) : Buffer.from(input.bytesField()).toString());
  t.deepEqual(fields, ['x', 'FP32', [1, 2]]);

  // Metadata with the shape unpacked (one tag per value, -1 as a 10-byte varint) and an unknown field.
  const meta = new ProtoWriter().string(1, 'm').string(2, '1').string(3, 'onnxruntime_onnx');
  meta.message(4, (w) => w.string(1, 'images').string(2, 'FP32').int64(3, -1).int64(3, 3).int64(3, 416).int64(3, 416).string(99, 'ignored'));
  meta.message(5, (w) => w.string(1, 'output').string(2, 'FP32').packedInt64(3, [-1, 3549, 85]));
  const decoded = decodeModelMetadata(meta.finish());
  t.deepEqual(decoded.inputs[0], { name: 'images', datatype: 'FP32', shape: [-1, 3, 416, 416] });
  t.deepEqual(decoded.outputs[0].shape, [-1, 3549, 85]);

  const config = new ProtoWriter().message(1, (c) => {
    c.string(1, 'm').int64(4, 8).string(17, 'python');
    c.message(5, (i) => i.string(1, 'images').int64(2, 11).packedInt64(4, [3, 416, 416]));
    c.message(6, (o) => o.string(1, 'output').int64(2, 11).packedInt64(3, [3549, 85]));
    c.message(7, (g) => g.int64(2, 2));
    c.message(11, (d) => d.int64(2, 500));
    c.message(14, (p) => p.string(1, 'int8_detect.family').message(2, (v) => v.string(1, 'yolox')));
  });
  const summary = decodeModelConfigResponse(config.finish());
  t.deepEqual(summary, {
    name: 'm',
    platform: '',
    backend: 'python',
    maxBatchSize: 8,
    inputs: [{ name: 'images', datatype: 'FP32', dims: [3, 416, 416] }],
    outputs: [{ name: 'output', datatype: 'FP32', dims: [3549, 85] }],
    parameters: { 'int8_detect.family': 'yolox' },
    dynamicBatching: true,
    instances: 2,
  });

  const floats = new Float32Array([1.5, -2]);
  const response = new ProtoWriter().string(1, 'm').string(2, '1');
  response.message(5, (o) => o.string(1, 'y').string(2, 'FP32').packedInt64(3, [1, 2]));
  response.bytes(6, new Uint8Array(floats.buffer));
  const out = decodeInferResponse(response.finish());
  t.deepEqual(Array.from(new Float32Array(out.outputs[0].data.slice().buffer)), [1.5, -2]);
});

test('config.pbtxt: the schema fields, dynamic batching, instances and parameters escaped for the text format', (t) => {
  const text = formatConfigPbtxt({
    name: 'det',
    flavour: 'onnxruntime',
    maxBatchSize: 8,
    inputs: [{ name: 'images', datatype: 'FP32', dims: [3, 416, 416] }],
    outputs: [{ name: 'output', datatype: 'FP32', dims: [3549, 85] }],
    dynamicBatching: { maxQueueDelayMicroseconds: 250 },
    instances: 2,
    parameters: { labels: '["a \\"quoted\\" café"]' },
  });
  t.regex(text, /^name: "det"$/m);
  t.regex(text, /^platform: "onnxruntime_onnx"$/m);
  t.regex(text, /^max_batch_size: 8$/m);
  t.regex(text, /data_type: TYPE_FP32\n\s+dims: \[ 3, 416, 416 \]/);
  t.regex(text, /dynamic_batching \{\n\s+max_queue_delay_microseconds: 250\n\}/);
  t.regex(text, /count: 2\n\s+kind: KIND_CPU/);
  t.true(text.includes(`string_value: ${textFormatString('["a \\"quoted\\" café"]')}`));
  t.is(textFormatString('café "x"\\'), '"caf\\303\\251 \\"x\\"\\\\"');
  t.throws(() => formatConfigPbtxt({ name: 'd', flavour: 'python', maxBatchSize: 0, inputs: [{ name: 'x', datatype: 'FP32', dims: [0] }], outputs: [], instances: 1, parameters: {} }), {
    message: /each must be a positive size or -1/,
  });
  const tensorrt = formatConfigPbtxt({ name: 'd', flavour: 'tensorrt', maxBatchSize: 0, inputs: [], outputs: [], instances: 1, parameters: {} });
  t.regex(tensorrt, /platform: "tensorrt_plan"/);
  t.regex(tensorrt, /kind: KIND_GPU/);
  t.notRegex(tensorrt, /dynamic_batching/);
});

test('the batch of YOLOX-Nano is made dynamic: inputs and outputs say batch, three head Reshapes copy it, a batch of two matches two single runs', async (t) => {
  const original = await fs.readFile(models.yoloxNano);
  const result = batchDynamicBytes(original);
  t.deepEqual(result.reshapes, ['Reshape_405', 'Reshape_413', 'Reshape_421']);
  const info = readModelInfo(result.bytes);
  t.deepEqual(info.inputs[0].dims, ['batch', 3, 416, 416]);
  t.deepEqual(info.outputs[0].dims, ['batch', 3549, 85]);
  const check = await checkDynamicBatch(original, result.bytes, { inputHigh: 255 });
  t.true(check.relativeDifference <= 1e-6, `relative difference ${check.relativeDifference}`);
});

test('a graph that mixes the frames of a batch is refused by the batch check; a Reshape with allowzero = 1 by the rewrite', async (t) => {
  // ReduceMean over every axis: one value for the whole batch, so a batch of two cannot match.
  const mixing = tinyModel({ inputDims: [1, 3, 8, 8], outputDims: [1, 4, 6], scale: new Float32Array(24).fill(1) });
  const rewritten = batchDynamicBytes(mixing);
  const error = await t.throwsAsync(checkDynamicBatch(mixing, rewritten.bytes, { inputHigh: 255 }));
  t.regex(error!.message, /The batch rewrite changed output 'output'|disagrees with the original/);

  const allowZero = buildModelBytes({
    nodes: [{ ...node('Reshape', ['x', 'shape'], ['y']), attributes: [int('allowzero', 1)] }],
    initializers: [int64Tensor('shape', [2], [1, -1])],
    input: { name: 'x', dims: [1, 4, 2] },
    outputs: ['y'],
    opset: 14,
  });
  t.throws(() => batchDynamicBytes(allowZero), { message: /Reshape node 'y' reshapes to \[1, -1\] with allowzero set and a -1 already/ });
});

const goodOutput = (): SpoiledOutput => ({ datatype: 'FP32', shape: [1, 2], data: Buffer.from(new Float32Array([0.25, 4]).buffer) });
const input = { x: { data: new Float32Array([1, 2, 3, 4]), dims: [1, 4] } };

for (const protocol of ['http', 'grpc'] as const) {
  test(`${protocol}: a server that accepts the connection and never answers fails each call with a timeout naming the URL`, async (t) => {
    const silent = await startSilentServer();
    try {
      const url = `${protocol}://user:topsecret@127.0.0.1:${silent.port}`;
      const started = Date.now();
      const error = await t.throwsAsync(TritonSession.open({ url, model: 'fake', client: { timeoutMs: 600 } }));
      const elapsed = Date.now() - started;
      t.is((error as { code?: string }).code, 'ERR_BACKEND_UNAVAILABLE');
      t.regex(error!.message, new RegExp(`The Triton server at ${protocol}://user:\\*\\*\\*@127\\.0\\.0\\.1:${silent.port} did not answer server metadata within 600 ms \\(timeout\\)`));
      t.false(error!.message.includes('topsecret'));
      // One deadline, not one per retry: timeouts are not retried.
      t.true(elapsed >= 550 && elapsed < 3000, `took ${elapsed} ms`);
    } finally {
      await silent.close();
    }
  });

  test(`${protocol}: a refused connection is ERR_BACKEND_UNAVAILABLE naming the URL without its password, after the retries`, async (t) => {
    const port = await freePort();
    const error = await t.throwsAsync(TritonSession.open({ url: `${protocol}://ops:hunter22@127.0.0.1:${port}`, model: 'fake', client: { retries: 2, timeoutMs: 2000 } }));
    t.is((error as { code?: string }).code, 'ERR_BACKEND_UNAVAILABLE');
    t.regex(error!.message, new RegExp(`The Triton server at ${protocol}://ops:\\*\\*\\*@127\\.0\\.0\\.1:${port} cannot be reached`));
    t.false(error!.message.includes('hunter22'));
  });

  test(`${protocol}: wrongly typed, misshapen, short and oversized responses are clear errors, and the session keeps working`, async (t) => {
    let next: () => SpoiledOutput = goodOutput;
    const server = protocol === 'http' ? await startFakeHttpServer(() => next()) : await startFakeGrpcServer(() => next());
    const session = await TritonSession.open({ url: `${protocol}://127.0.0.1:${server.port}`, model: FAKE_MODEL.name, client: { maxResponseBytes: 64 * 1024 } });
    try {
      const good = await session.run(input);
      t.deepEqual(Array.from(good.outputs.y.data as Float32Array), [0.25, 4]);
      t.is(session.details.config, undefined, 'no configuration endpoint: read as absent, as on OpenVINO Model Server');

      const cases: { spoil: SpoiledOutput; message: RegExp }[] = [
        { spoil: { datatype: 'FP64', shape: [1, 2], data: Buffer.from(new Float64Array([0.25, 4]).buffer) }, message: /output 'y' came back as FP64, but the model's metadata says FP32/ },
        { spoil: { datatype: 'FP32', shape: [1, 3], data: Buffer.alloc(12) }, message: /output 'y' has the shape \[1, 3\], but the model's metadata says \[-1, 2\]/ },
        { spoil: { datatype: 'FP32', shape: [1, 2], data: Buffer.alloc(5) }, message: /output 'y' is FP32 \[1, 2\], 8 bytes, but 5 came/ },
        { spoil: { datatype: 'BYTES', shape: [1, 2], data: Buffer.alloc(8) }, message: /BYTES|cannot read/ },
        { spoil: { datatype: 'FP32', shape: [1, 2], data: Buffer.alloc(100 * 1024) }, message: /more than the limit of 65536 bytes \(maxResponseBytes\)/ },
      ];
      for (const { spoil, message } of cases) {
        next = () => spoil;
        const error = await t.throwsAsync(session.run(input));
        t.is((error as { code?: string }).code, 'ERR_INFERENCE', spoil.datatype);
        t.regex(error!.message, message);
        t.regex(error!.message, new RegExp(`The Triton server at ${protocol}://127\\.0\\.0\\.1:${server.port}`));
      }
      next = goodOutput;
      t.deepEqual(Array.from((await session.run(input)).outputs.y.data as Float32Array), [0.25, 4], 'a good response after the bad ones');
    } finally {
      await session.dispose();
      await server.close();
    }
  });
}

test('http: a response body that is not the binary extension it claims is a clear error', async (t) => {
  let body: { headers?: Record<string, string>; body: Buffer } = { body: Buffer.from('not json') };
  const server = await startFakeHttpServer(() => body);
  const client = createTritonClient(`http://127.0.0.1:${server.port}`);
  try {
    const request = { model: 'fake', inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 4], data: new Uint8Array(16) }] };
    await t.throwsAsync(client.infer(request), { message: /the body is not JSON/ });
    const header = Buffer.from(JSON.stringify({ outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 64 } }] }));
    body = { headers: { 'inference-header-content-length': String(header.byteLength) }, body: Buffer.concat([header, Buffer.alloc(8)]) };
    await t.throwsAsync(client.infer(request), { message: /output 'y' declares 64 binary bytes but only 8 follow the header/ });
    body = { headers: { 'inference-header-content-length': '999999' }, body: header };
    await t.throwsAsync(client.infer(request), { message: /inference-header-content-length is 999999 for a body of \d+ bytes/ });
    body = { body: Buffer.from(JSON.stringify({ outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], data: [0.5, 1.5] }] })) };
    const json = await client.infer(request);
    t.deepEqual(Array.from(new Float32Array(json.outputs[0].data.slice().buffer)), [0.5, 1.5], 'plain JSON outputs are read too');
  } finally {
    client.close();
    await server.close();
  }
});

test("createEngine({ backend: 'triton' }): the URL, its option group and what does not apply to a served model are checked first", async (t) => {
  const saved = process.env.INT8_DETECT_TRITON_URL;
  delete process.env.INT8_DETECT_TRITON_URL;
  try {
    await t.throwsAsync(createEngine({ backend: 'triton', model: 'yolox_nano' }), { code: 'ERR_ARGUMENT', message: /Expected a Triton server URL for options\.triton\.url .* INT8_DETECT_TRITON_URL is not set/ });
  } finally {
    if (saved !== undefined) process.env.INT8_DETECT_TRITON_URL = saved;
  }
  await t.throwsAsync(createEngine({ backend: 'triton', model: 'm', triton: { url: 'ftp://host' } }), { code: 'ERR_ARGUMENT', message: /for options\.triton\.url/ });
  await t.throwsAsync(createEngine({ backend: 'triton', model: 'm', triton: { urll: 'http://h' } as never }), { code: 'ERR_ARGUMENT', message: /did you mean 'url'/ });
  await t.throwsAsync(createEngine({ backend: 'triton', model: 'm', triton: { url: 'http://h', version: 'latest' } }), { code: 'ERR_ARGUMENT', message: /options\.triton\.version/ });
  await t.throwsAsync(createEngine({ backend: 'triton', model: 'm', calibrator: 'calib/', triton: { url: 'http://h' } }), { code: 'ERR_ARGUMENT', message: /calibrator does not apply/ });
  // A model that is not a detector: the profile fails, the session is closed, the error says why.
  const server = await startFakeHttpServer(goodOutput);
  try {
    const error = await t.throwsAsync(createEngine({ backend: 'triton', model: FAKE_MODEL.name, triton: { url: `http://127.0.0.1:${server.port}` } }));
    t.is((error as { code?: string }).code, 'ERR_MODEL');
    t.regex(error!.message, /The model input x \[batch,4\] is not an image tensor/);
  } finally {
    await server.close();
  }
});

test("backend 'auto' never picks the server backend, even where it is the only one that answers", (t) => {
  const only = { available: true, version: 'triton 2.51.0', devices: ['http://h:8000: yolox_nano (version 1)'] };
  const report = { backends: { triton: only } as unknown as ProbeReport['backends'], core: { reason: 'test' }, cpu: cpuInfo(), cuda: { available: false, reason: 'test', devices: [] }, jetson: null, platform: 'linux', arch: 'x64', node: '20' } as ProbeReport;
  t.throws(() => chooseBackend(report), { code: 'ERR_BACKEND_UNAVAILABLE', message: "No backend can run here. Skipped Triton Inference Server: it runs models on a server, by name, only when asked for (backend 'triton')." });
});
