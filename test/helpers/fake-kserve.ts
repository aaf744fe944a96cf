/**
 * Misbehaving KServe v2 servers for the fault tests (127.0.0.1, free ports): one that accepts
 * connections and never answers, and HTTP and gRPC servers that answer the health and metadata
 * calls correctly and then send an inference response a test has spoiled on purpose.
 */
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as net from 'node:net';
import { ProtoWriter } from '../../lib/onnx/writer';

export interface FakeServer {
  port: number;
  close(): Promise<void>;
}

/** Accepts every connection, reads whatever comes, never writes a byte. */
export async function startSilentServer(): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The model every fake server describes: one FP32 input [-1, 4], one FP32 output [-1, 2]. */
export const FAKE_MODEL = {
  name: 'fake',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
};

export interface SpoiledOutput {
  datatype: string;
  shape: number[];
  data: Buffer;
}

/** HTTP: health and metadata as Triton answers them; /infer gets the body `infer` returns (binary extension). */
export async function startFakeHttpServer(infer: () => { headers?: Record<string, string>; body: Buffer } | SpoiledOutput): Promise<FakeServer> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      if (url === '/v2') return json(res, { name: 'fake', version: '0', extensions: ['binary_tensor_data'] });
      if (url.endsWith('/ready')) return json(res, {});
      if (url === `/v2/models/${FAKE_MODEL.name}`) return json(res, { name: FAKE_MODEL.name, versions: ['1'], platform: 'fake', inputs: FAKE_MODEL.inputs, outputs: FAKE_MODEL.outputs });
      if (url.endsWith('/config')) {
        res.writeHead(404);
        return res.end();
      }
      if (url.endsWith('/infer')) {
        const reply = infer();
        if ('body' in reply) {
          res.writeHead(200, reply.headers ?? {});
          return res.end(reply.body);
        }
        const header = Buffer.from(JSON.stringify({ model_name: FAKE_MODEL.name, outputs: [{ name: 'y', datatype: reply.datatype, shape: reply.shape, parameters: { binary_data_size: reply.data.byteLength } }] }));
        res.writeHead(200, { 'inference-header-content-length': String(header.byteLength), 'content-type': 'application/octet-stream' });
        return res.end(Buffer.concat([header, reply.data]));
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: http.ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function buffer(w: ProtoWriter): Buffer {
  const bytes = w.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function tensorMetadata(w: ProtoWriter, field: number, t: { name: string; datatype: string; shape: number[] }): void {
  w.message(field, (m) => m.string(1, t.name).string(2, t.datatype).packedInt64(3, t.shape));
}

/** gRPC: the same model; ModelConfig and RepositoryIndex unimplemented (as on OpenVINO Model Server). */
export async function startFakeGrpcServer(infer: () => SpoiledOutput): Promise<FakeServer> {
  const server = new grpc.Server();
  const replies: Record<string, () => Buffer> = {
    ServerMetadata: () => buffer(new ProtoWriter().string(1, 'fake').string(2, '0')),
    ModelReady: () => buffer(new ProtoWriter().int64(1, 1)),
    ModelMetadata: () => {
      const w = new ProtoWriter().string(1, FAKE_MODEL.name).string(2, '1').string(3, 'fake');
      for (const t of FAKE_MODEL.inputs) tensorMetadata(w, 4, t);
      for (const t of FAKE_MODEL.outputs) tensorMetadata(w, 5, t);
      return buffer(w);
    },
    ModelInfer: () => {
      const out = infer();
      const w = new ProtoWriter().string(1, FAKE_MODEL.name).string(2, '1');
      tensorMetadata(w, 5, { name: 'y', datatype: out.datatype, shape: out.shape });
      w.bytes(6, out.data);
      return buffer(w);
    },
  };
  const same = (b: Buffer) => b;
  const definition: grpc.ServiceDefinition = Object.fromEntries(
    Object.keys(replies).map((name) => [
      name,
      { path: `/inference.GRPCInferenceService/${name}`, requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same },
    ]),
  );
  const implementation: grpc.UntypedServiceImplementation = Object.fromEntries(
    Object.entries(replies).map(([name, reply]) => [name, (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, reply())]),
  );
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    port,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
