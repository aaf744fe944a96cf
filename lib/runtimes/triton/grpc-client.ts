/**
 * KServe v2 over gRPC (`inference.GRPCInferenceService`) with @grpc/grpc-js: one HTTP/2 channel
 * multiplexes every call; messages are encoded and decoded by grpc-messages.ts, so no .proto file
 * is loaded. Tensors travel as raw_input_contents / raw_output_contents.
 */
import * as grpc from '@grpc/grpc-js';
import { Int8DetectError } from '../../util/errors';
import { protocolError, timedOut, tooLarge, TritonServerError, TritonUnavailableError } from './errors';
import {
  decodeFlag,
  decodeInferResponse,
  decodeModelConfigResponse,
  decodeModelMetadata,
  decodeRepositoryIndex,
  decodeServerMetadata,
  encodeEmpty,
  encodeInferRequest,
  encodeModelRef,
  encodeRepositoryIndexRequest,
  GrpcMessageError,
} from './grpc-messages';
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
} from './types';

const SERVICE = '/inference.GRPCInferenceService';
const identity = (buffer: Buffer) => buffer;

export class TritonGrpcClient implements TritonClient {
  readonly protocol = 'grpc' as const;
  readonly displayUrl: string;
  private readonly client: grpc.Client;
  private readonly metadata: grpc.Metadata;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxResponseBytes: number;
  private closed = false;

  constructor(url: ServerUrl, options: TritonClientOptions = {}) {
    this.displayUrl = url.display;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.metadata = new grpc.Metadata();
    if (url.authorization) this.metadata.set('authorization', url.authorization);
    for (const [key, value] of Object.entries(options.headers ?? {})) this.metadata.set(key.toLowerCase(), value);
    const host = url.host.includes(':') ? `[${url.host}]` : url.host;
    this.client = new grpc.Client(`${host}:${url.port}`, url.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': this.maxResponseBytes,
      'grpc.max_send_message_length': -1,
      // A restarted server is found again within a second, not grpc's default of up to two minutes.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      // Retries are ours (idempotent calls only), not the channel's.
      'grpc.enable_retries': 0,
    });
  }

  async serverLive(options?: CallOptions): Promise<boolean> {
    return decodeFlag(await this.call('ServerLive', encodeEmpty(), 'the liveness check', options));
  }

  async serverReady(options?: CallOptions): Promise<boolean> {
    return decodeFlag(await this.call('ServerReady', encodeEmpty(), 'the readiness check', options));
  }

  async serverMetadata(options?: CallOptions): Promise<ServerMetadata> {
    return this.decode('server metadata', decodeServerMetadata, await this.call('ServerMetadata', encodeEmpty(), 'server metadata', options));
  }

  async modelReady(model: string, version?: string, options?: CallOptions): Promise<boolean> {
    try {
      return decodeFlag(await this.call('ModelReady', encodeModelRef({ name: model, version }), `the readiness of model '${model}'`, options));
    } catch (err) {
      // Triton answers an unknown model's readiness with an error rather than "not ready".
      if (err instanceof TritonServerError && err.notFound) return false;
      throw err;
    }
  }

  async modelMetadata(model: string, version?: string, options?: CallOptions): Promise<ModelMetadata> {
    const what = `metadata of model '${model}'`;
    return this.decode(what, decodeModelMetadata, await this.call('ModelMetadata', encodeModelRef({ name: model, version }), what, options));
  }

  async modelConfig(model: string, version?: string, options?: CallOptions): Promise<ModelConfigSummary | undefined> {
    const what = `configuration of model '${model}'`;
    const reply = await this.optionalCall('ModelConfig', encodeModelRef({ name: model, version }), what, options);
    return reply === undefined ? undefined : this.decode(what, decodeModelConfigResponse, reply);
  }

  async repositoryIndex(options?: CallOptions): Promise<RepositoryModel[] | undefined> {
    const reply = await this.optionalCall('RepositoryIndex', encodeRepositoryIndexRequest(), 'the repository index', options);
    return reply === undefined ? undefined : this.decode('the repository index', decodeRepositoryIndex, reply);
  }

  async infer(request: InferRequest, options?: CallOptions): Promise<InferResponse> {
    const what = `inference on model '${request.model}'`;
    const reply = await this.call('ModelInfer', encodeInferRequest(request), what, options, 'unsent-only');
    return this.decode(what, decodeInferResponse, reply);
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }

  /** A Triton extension: undefined where the server does not implement it (OpenVINO Model Server). */
  private async optionalCall(method: string, message: Buffer, what: string, options?: CallOptions): Promise<Buffer | undefined> {
    try {
      return await this.call(method, message, what, options);
    } catch (err) {
      if (err instanceof TritonServerError && err.status === 'UNIMPLEMENTED') return undefined;
      throw err;
    }
  }

  private decode<T>(what: string, decoder: (bytes: Uint8Array) => T, bytes: Buffer): T {
    try {
      return decoder(bytes);
    } catch (err) {
      if (err instanceof GrpcMessageError || err instanceof Int8DetectError) throw protocolError(this.displayUrl, `${what}: ${err.message}`);
      throw err;
    }
  }

  private call(method: string, message: Buffer, what: string, options: CallOptions | undefined, policy: RetryPolicy = 'idempotent'): Promise<Buffer> {
    return withRetries(this.retries, policy, () => this.callOnce(method, message, what, options));
  }

  private callOnce(method: string, message: Buffer, what: string, options: CallOptions | undefined): Promise<Buffer> {
    if (this.closed) return Promise.reject(new TritonUnavailableError(`The client of ${this.displayUrl} has been closed`, { retryable: false }));
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `${SERVICE}/${method}`,
        identity,
        identity,
        message,
        this.metadata,
        { deadline: Date.now() + timeoutMs },
        (err, reply) => {
          if (err) reject(this.statusError(err, what, timeoutMs));
          else if (!reply) reject(protocolError(this.displayUrl, `${what}: an empty reply`));
          else resolve(reply);
        },
      );
    });
  }

  private statusError(err: grpc.ServiceError, what: string, timeoutMs: number): Error {
    const details = err.details || err.message;
    switch (err.code) {
      case grpc.status.DEADLINE_EXCEEDED:
        return timedOut(this.displayUrl, what, timeoutMs);
      case grpc.status.UNAVAILABLE:
        return new TritonUnavailableError(`The Triton server at ${this.displayUrl} cannot be reached: ${details}`, {
          cause: err,
          // grpc-js fails a call at once, before sending it, while the channel has no connection.
          neverSent: /no connection established|failed to connect|ECONNREFUSED/i.test(details),
        });
      case grpc.status.RESOURCE_EXHAUSTED:
        if (/larger than max/i.test(details)) return tooLarge(this.displayUrl, undefined, this.maxResponseBytes);
        break;
      default:
        break;
    }
    const status = grpc.status[err.code] ?? String(err.code);
    const notFound = err.code === grpc.status.NOT_FOUND || /unknown model|not found/i.test(details);
    return new TritonServerError(`The Triton server at ${this.displayUrl} refused ${what} (gRPC ${status}): ${details}`, status, notFound);
  }
}
