/**
 * KServe v2 over HTTP/1.1 with keep-alive connections and the binary tensor extension: the
 * request is a JSON header (its length in Inference-Header-Content-Length) followed by the raw
 * input bytes, and outputs come back the same way, so a 2 MB image tensor is never turned into
 * JSON numbers. A server that answers in plain JSON ("data" arrays) is read too.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { bytesPerElement, isKserveDatatype, typedArrayFromBytes, bytesOf, type KserveDatatype } from './datatypes';
import { protocolError, timedOut, tooLarge, TritonServerError, TritonUnavailableError, unreachable } from './errors';
import { JsonReader, parseJsonBody, readModelConfig, readModelMetadata, readRepositoryIndex, readServerMetadata } from './json-messages';
import { withRetries, type RetryPolicy } from './retry';
import type { ServerUrl } from './server-url';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type CallOptions,
  type InferRequest,
  type InferResponse,
  type ModelConfigSummary,
  type ModelMetadata,
  type RepositoryModel,
  type ServerMetadata,
  type TritonClient,
  type TritonClientOptions,
  type WireTensor,
} from './types';

const HEADER_LENGTH = 'inference-header-content-length';

interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function modelPath(model: string, version: string | undefined): string {
  return `/v2/models/${encodeURIComponent(model)}${version ? `/versions/${encodeURIComponent(version)}` : ''}`;
}

export class TritonHttpClient implements TritonClient {
  readonly protocol = 'http' as const;
  readonly displayUrl: string;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxResponseBytes: number;
  private readonly headers: Record<string, string>;
  private closed = false;

  constructor(
    private readonly url: ServerUrl,
    options: TritonClientOptions = {},
  ) {
    this.displayUrl = url.display;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.headers = { ...(url.authorization ? { authorization: url.authorization } : {}), ...options.headers };
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 };
    this.agent = url.tls ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  async serverLive(options?: CallOptions): Promise<boolean> {
    return (await this.get('/v2/health/live', 'the liveness check', options)).status === 200;
  }

  async serverReady(options?: CallOptions): Promise<boolean> {
    return (await this.get('/v2/health/ready', 'the readiness check', options)).status === 200;
  }

  async serverMetadata(options?: CallOptions): Promise<ServerMetadata> {
    const reply = this.ok(await this.get('/v2', 'server metadata', options), 'server metadata');
    return readServerMetadata(this.displayUrl, parseJsonBody(this.displayUrl, 'server metadata', reply.body));
  }

  async modelReady(model: string, version?: string, options?: CallOptions): Promise<boolean> {
    return (await this.get(`${modelPath(model, version)}/ready`, `the readiness of model '${model}'`, options)).status === 200;
  }

  async modelMetadata(model: string, version?: string, options?: CallOptions): Promise<ModelMetadata> {
    const what = `metadata of model '${model}'`;
    const reply = this.ok(await this.get(modelPath(model, version), what, options), what);
    return readModelMetadata(this.displayUrl, parseJsonBody(this.displayUrl, what, reply.body));
  }

  async modelConfig(model: string, version?: string, options?: CallOptions): Promise<ModelConfigSummary | undefined> {
    const what = `configuration of model '${model}'`;
    const reply = await this.get(`${modelPath(model, version)}/config`, what, options);
    // OpenVINO Model Server has no configuration endpoint.
    if (reply.status === 404 || reply.status === 405 || reply.status === 501) return undefined;
    return readModelConfig(this.displayUrl, parseJsonBody(this.displayUrl, what, this.ok(reply, what).body));
  }

  async repositoryIndex(options?: CallOptions): Promise<RepositoryModel[] | undefined> {
    const what = 'the repository index';
    const reply = await withRetries(this.retries, 'idempotent', () => this.send('POST', '/v2/repository/index', [Buffer.from('{}')], { 'content-type': 'application/json' }, what, options));
    if (reply.status === 404 || reply.status === 405 || reply.status === 501) return undefined;
    return readRepositoryIndex(this.displayUrl, parseJsonBody(this.displayUrl, what, this.ok(reply, what).body));
  }

  async infer(request: InferRequest, options?: CallOptions): Promise<InferResponse> {
    const header = Buffer.from(
      JSON.stringify({
        inputs: request.inputs.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: t.data.byteLength } })),
        ...(request.outputs
          ? { outputs: request.outputs.map((name) => ({ name, parameters: { binary_data: true } })) }
          : { parameters: { binary_data_output: true } }),
      }),
    );
    const what = `inference on model '${request.model}'`;
    const reply = await withRetries(this.retries, 'unsent-only', () =>
      this.send(
        'POST',
        `${modelPath(request.model, request.version)}/infer`,
        [header, ...request.inputs.map((t) => t.data)],
        { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(header.byteLength) },
        what,
        options,
      ),
    );
    return this.readInferReply(this.ok(reply, what), request.model);
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private get(path: string, what: string, options: CallOptions | undefined, policy: RetryPolicy = 'idempotent'): Promise<HttpReply> {
    return withRetries(this.retries, policy, () => this.send('GET', path, [], {}, what, options));
  }

  /** A reply with a 2xx status, or the server's error as a TritonServerError. */
  private ok(reply: HttpReply, what: string): HttpReply {
    if (reply.status >= 200 && reply.status < 300) return reply;
    let message = reply.body.toString('utf8').slice(0, 500);
    try {
      const parsed = JSON.parse(message) as { error?: unknown };
      if (typeof parsed.error === 'string') message = parsed.error;
    } catch {
      // not JSON: the raw text is the message
    }
    const notFound = reply.status === 404 || /unknown model|not found/i.test(message);
    throw new TritonServerError(`The Triton server at ${this.displayUrl} refused ${what} (HTTP ${reply.status}): ${message}`, String(reply.status), notFound);
  }

  private send(method: string, path: string, body: Uint8Array[], headers: Record<string, string>, what: string, options?: CallOptions): Promise<HttpReply> {
    if (this.closed) return Promise.reject(new TritonUnavailableError(`The client of ${this.displayUrl} has been closed`, { retryable: false }));
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const length = body.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    return new Promise<HttpReply>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, reply?: HttpReply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(reply!);
      };
      const transport = this.url.tls ? https : http;
      const req = transport.request({
        host: this.url.host,
        port: this.url.port,
        path: `${this.url.basePath}${path}`,
        method,
        agent: this.agent,
        headers: { ...this.headers, ...headers, 'content-length': String(length) },
      });
      const timer = setTimeout(() => {
        finish(timedOut(this.displayUrl, what, timeoutMs));
        req.destroy();
      }, timeoutMs);
      req.on('error', (err) => finish(unreachable(this.displayUrl, err)));
      req.on('response', (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > this.maxResponseBytes) {
          finish(tooLarge(this.displayUrl, declared, this.maxResponseBytes));
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.byteLength;
          if (received > this.maxResponseBytes) {
            finish(tooLarge(this.displayUrl, undefined, this.maxResponseBytes));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => finish(unreachable(this.displayUrl, err)));
        res.on('end', () => {
          if (!res.complete) finish(unreachable(this.displayUrl, new Error(`the connection closed ${received} bytes into the response`)));
          else finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received) });
        });
      });
      for (const chunk of body) req.write(chunk);
      req.end();
    });
  }

  private readInferReply(reply: HttpReply, model: string): InferResponse {
    const display = this.displayUrl;
    const headerLengthText = reply.headers[HEADER_LENGTH];
    const headerLength = headerLengthText === undefined ? reply.body.byteLength : Number(headerLengthText);
    if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > reply.body.byteLength) {
      throw protocolError(display, `${HEADER_LENGTH} is ${String(headerLengthText)} for a body of ${reply.body.byteLength} bytes`);
    }
    const what = `the inference response of model '${model}'`;
    const r = new JsonReader(display, what);
    const json = r.object(parseJsonBody(display, what, reply.body.subarray(0, headerLength)), 'the body');
    let offset = headerLength;
    const outputs: WireTensor[] = r.array(json.outputs, 'outputs').map((value, i) => {
      const field = `outputs[${i}]`;
      const o = r.object(value, field);
      const name = r.string(o.name, `${field}.name`);
      const datatype = r.string(o.datatype, `${field}.datatype`);
      if (!isKserveDatatype(datatype) || bytesPerElement(datatype) === 0) throw protocolError(display, `output '${name}' has the datatype ${datatype}, which int8-detect cannot read`);
      const shape = r.array(o.shape, `${field}.shape`).map((d, j) => r.number(d, `${field}.shape[${j}]`));
      const parameters = o.parameters === undefined ? {} : r.object(o.parameters, `${field}.parameters`);
      let data: Uint8Array;
      if (parameters.binary_data_size !== undefined) {
        const size = r.number(parameters.binary_data_size, `${field}.parameters.binary_data_size`);
        if (size < 0 || offset + size > reply.body.byteLength) {
          throw protocolError(display, `output '${name}' declares ${size} binary bytes but only ${reply.body.byteLength - offset} follow the header`);
        }
        data = reply.body.subarray(offset, offset + size);
        offset += size;
      } else {
        data = jsonTensorBytes(r, datatype, o.data, `${field}.data`);
      }
      return { name, datatype, shape, data };
    });
    if (offset !== reply.body.byteLength) throw protocolError(display, `${reply.body.byteLength - offset} bytes follow the last output`);
    return {
      model: r.string(json.model_name, 'model_name', model),
      version: String(json.model_version ?? ''),
      outputs,
    };
  }
}

/** A tensor sent as JSON numbers (nested or flat, row-major), as little-endian bytes. */
function jsonTensorBytes(r: JsonReader, datatype: KserveDatatype, value: unknown, field: string): Uint8Array {
  if (datatype === 'FP16' || datatype === 'BF16') throw protocolError(r.display, `${field}: ${datatype} sent as JSON numbers cannot be read; ask for binary outputs`);
  const flat = r.array(value, field).flat(Infinity) as unknown[];
  const size = bytesPerElement(datatype);
  const bytes = new Uint8Array(flat.length * size);
  const view = typedArrayFromBytes(datatype, bytes);
  flat.forEach((v, i) => {
    if (view instanceof BigInt64Array) view[i] = BigInt(r.number(v, `${field}[${i}]`));
    else if (datatype === 'BOOL') view[i] = v === true ? 1 : 0;
    else (view as Exclude<typeof view, BigInt64Array>)[i] = r.number(v, `${field}[${i}]`);
  });
  return bytesOf(view);
}
