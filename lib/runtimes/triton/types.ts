/**
 * What a KServe v2 client offers, whatever the transport (HTTP with the binary tensor extension,
 * or gRPC): the health, metadata and inference calls of the protocol, plus the two Triton
 * extensions int8-detect reads (model configuration, repository index), which other KServe
 * servers (OpenVINO Model Server) may not have: those return undefined there.
 */
import type { KserveDatatype } from './datatypes';

export type TritonProtocol = 'http' | 'grpc';

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface TensorMetadata {
  name: string;
  /** A KServe datatype ('FP32'); kept as the server spelled it, checked where it is used. */
  datatype: string;
  /** -1 marks a variable dimension (the batch of a model with max_batch_size > 0). */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface ConfigTensor {
  name: string;
  datatype: string;
  /** Without the batch dimension when maxBatchSize > 0, as config.pbtxt writes them. */
  dims: number[];
}

/** The part of a Triton model configuration int8-detect reads. */
export interface ModelConfigSummary {
  name: string;
  platform: string;
  backend: string;
  maxBatchSize: number;
  inputs: ConfigTensor[];
  outputs: ConfigTensor[];
  /** `parameters { key: ... value: { string_value: ... } }`: where export --triton puts the detector's profile. */
  parameters: Record<string, string>;
  dynamicBatching: boolean;
  /** Model instances over all instance groups. */
  instances: number;
}

export interface RepositoryModel {
  name: string;
  version?: string;
  /** READY, UNAVAILABLE, LOADING, UNLOADING; absent when the server does not say. */
  state?: string;
  /** Why a model is not ready (a load error). */
  reason?: string;
}

/** One tensor of a request or a response: its bytes as they travel (little-endian). */
export interface WireTensor {
  name: string;
  datatype: KserveDatatype;
  shape: number[];
  data: Uint8Array;
}

export interface InferRequest {
  model: string;
  version?: string;
  inputs: WireTensor[];
  /** Outputs to return; all of the model's when absent. */
  outputs?: string[];
}

export interface InferResponse {
  model: string;
  version: string;
  outputs: WireTensor[];
}

export interface CallOptions {
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
}

export interface TritonClient {
  readonly protocol: TritonProtocol;
  /** The server URL with credentials removed, for messages. */
  readonly displayUrl: string;
  serverLive(options?: CallOptions): Promise<boolean>;
  serverReady(options?: CallOptions): Promise<boolean>;
  serverMetadata(options?: CallOptions): Promise<ServerMetadata>;
  modelReady(model: string, version?: string, options?: CallOptions): Promise<boolean>;
  modelMetadata(model: string, version?: string, options?: CallOptions): Promise<ModelMetadata>;
  /** Triton's model configuration; undefined where the server has no such endpoint (OpenVINO Model Server). */
  modelConfig(model: string, version?: string, options?: CallOptions): Promise<ModelConfigSummary | undefined>;
  /** Triton's repository index; undefined where the server has none (OpenVINO Model Server). */
  repositoryIndex(options?: CallOptions): Promise<RepositoryModel[] | undefined>;
  infer(request: InferRequest, options?: CallOptions): Promise<InferResponse>;
  /** Closes connections; later calls fail. */
  close(): void;
}

export interface TritonClientOptions {
  /** Per-call deadline in milliseconds (default 30000). */
  timeoutMs?: number;
  /** Retries of idempotent calls (health, metadata, config, index) after a transport failure (default 3). */
  retries?: number;
  /** Largest response accepted, in bytes (default 256 MiB): a larger one is refused with a clear error. */
  maxResponseBytes?: number;
  /** Extra HTTP headers or gRPC metadata sent with every call (an API key, for instance). */
  headers?: Record<string, string>;
  /** Connections (HTTP) kept open per server; gRPC multiplexes on one. Default 16. */
  maxSockets?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 2 ** 20;
