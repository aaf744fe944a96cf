/**
 * A model on a Triton server (or any KServe v2 server) as a session: opened only when the server
 * answers and the model is ready, its inputs and outputs read from the server's metadata, its
 * detector profile from the configuration's parameters (export --triton writes them), and runs
 * sent `concurrency` at a time. Every response is checked against the metadata (names, datatype,
 * shape, byte count) before the decoders see it.
 */
import type { InputTensor, Precision, RawTensor, RunResult, TensorInfo } from '../backend';
import type { BackendSession } from '../session';
import type { ModelInfo, ModelTensorInfo } from '../../onnx/model-info';
import { Int8DetectError, invalidArgument } from '../../util/errors';
import { ItemPool } from '../../util/pool';
import { bytesOf, bytesPerElement, datatypeOfData, elementTypeOf, isKserveDatatype, typedArrayFromBytes } from './datatypes';
import { createTritonClient } from './client';
import { protocolError } from './errors';
import { PARAMETER_KEYS, readDetectorParameters, type DetectorParameters } from './profile-parameters';
import type { ModelConfigSummary, ModelMetadata, RepositoryModel, ServerMetadata, TensorMetadata, TritonClient, TritonClientOptions } from './types';

export interface TritonSessionOptions {
  /** http(s)://host:8000 for KServe v2 over HTTP, grpc(s)://host:8001 for gRPC. */
  url: string;
  /** The model's name on the server. */
  model: string;
  /** A version; the server's latest ready one when absent. */
  version?: string;
  /** Requests in flight at once (default 1). */
  concurrency?: number;
  client?: TritonClientOptions;
}

/** What the server says about the model it serves. */
export interface TritonModelDetails {
  name: string;
  version?: string;
  platform: string;
  server: ServerMetadata;
  /** Triton's configuration; absent on servers without the endpoint (OpenVINO Model Server). */
  config?: ModelConfigSummary;
}

function describeModel(m: RepositoryModel): string {
  const state = m.state ?? 'state unknown';
  return `${m.name}${m.version ? ` (version ${m.version})` : ''} ${state}${m.reason ? `: ${m.reason}` : ''}`;
}

/** The repository index, or undefined where the server has none or does not answer it. */
async function indexOrUndefined(client: TritonClient): Promise<RepositoryModel[] | undefined | Error> {
  try {
    return await client.repositoryIndex({ timeoutMs: 5000 });
  } catch (err) {
    return err as Error;
  }
}

/** "the models there: a (version 1) READY; b (version 1) UNAVAILABLE: ..." or why they cannot be listed. */
function listModels(index: RepositoryModel[] | undefined | Error): string {
  if (index instanceof Error) return `its models could not be listed: ${index.message}`;
  if (index === undefined) return 'the server does not list its models (no repository index: not a Triton server?)';
  if (index.length === 0) return 'the server has no models';
  return `the models there: ${index.map(describeModel).join('; ')}`;
}

function tensorInfo(t: TensorMetadata): TensorInfo {
  return { name: t.name, type: isKserveDatatype(t.datatype) ? elementTypeOf(t.datatype) : t.datatype, dims: t.shape.map((d, i) => (d >= 0 ? d : i === 0 ? 'batch' : `dim${i}`)) };
}

function modelTensorInfo(t: TensorMetadata): ModelTensorInfo {
  const info = tensorInfo(t);
  return { name: info.name, elemType: 0, type: info.type, dims: [...info.dims] };
}

export class TritonSession implements BackendSession {
  readonly backend = 'triton' as const;
  readonly device: string;
  readonly precision: Precision;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly concurrency: number;
  readonly runtimeVersion: string;
  readonly precisionDetail: string;
  readonly details: TritonModelDetails;
  /** The server URL, credentials removed. */
  readonly url: string;
  readonly protocol: 'http' | 'grpc';
  /** The detector profile the configuration carries (each part absent when it does not). */
  readonly detector: Partial<DetectorParameters>;
  /** A ModelInfo for the profile resolver, built from the server's metadata (no model file here). */
  readonly modelInfo: ModelInfo;
  private readonly slots: ItemPool<number>;
  private readonly metadata: ModelMetadata;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private disposing: Promise<void> | undefined;

  private constructor(
    private readonly client: TritonClient,
    private readonly version: string | undefined,
    metadata: ModelMetadata,
    server: ServerMetadata,
    config: ModelConfigSummary | undefined,
    concurrency: number,
  ) {
    this.metadata = metadata;
    this.url = client.displayUrl;
    this.protocol = client.protocol;
    this.details = { name: metadata.name, ...(version ? { version } : {}), platform: metadata.platform || config?.backend || '', server, ...(config ? { config } : {}) };
    this.inputs = metadata.inputs.map(tensorInfo);
    this.outputs = metadata.outputs.map(tensorInfo);
    this.concurrency = concurrency;
    this.slots = new ItemPool(Array.from({ length: concurrency }, (_, i) => i));
    this.runtimeVersion = `${server.name}${server.version ? ` ${server.version}` : ''}`;
    this.device = `${client.displayUrl} (${client.protocol === 'grpc' ? 'gRPC' : 'HTTP'}, model ${metadata.name}${version ? ` version ${version}` : ''}, ${this.details.platform || 'platform unknown'})`;
    const served = config?.parameters[PARAMETER_KEYS.precision];
    this.precision = served === 'int8' || served === 'fp16' || served === 'fp32' ? served : 'fp32';
    this.precisionDetail = served
      ? `the server runs the model in ${served.toUpperCase()} (its configuration says so; exported by ${config?.parameters[PARAMETER_KEYS.exporter] ?? 'int8-detect'})`
      : `the server runs the model as it holds it (its configuration does not say the precision; reported as FP32)`;
    this.detector = config ? readDetectorParameters(config.parameters, metadata.name) : {};
    this.modelInfo = {
      irVersion: 0,
      producerName: this.details.platform,
      producerVersion: '',
      opsetImports: [],
      metadata: {},
      inputs: metadata.inputs.map(modelTensorInfo),
      outputs: metadata.outputs.map(modelTensorInfo),
    };
  }

  static async open(options: TritonSessionOptions): Promise<TritonSession> {
    if (typeof options.model !== 'string' || options.model === '') throw invalidArgument("the model's name on the server", 'options.model', options.model);
    if (options.version !== undefined && (typeof options.version !== 'string' || !/^\d+$/.test(options.version))) {
      throw invalidArgument('a version number as a string', 'options.version', options.version);
    }
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw invalidArgument('a positive integer', 'options.concurrency', concurrency);
    const client = createTritonClient(options.url, { maxSockets: concurrency, ...options.client });
    try {
      const server = await client.serverMetadata();
      const { model, version } = options;
      if (!(await client.modelReady(model, version))) {
        const index = await indexOrUndefined(client);
        const listing = listModels(index);
        const known = Array.isArray(index) && index.some((m) => m.name === model);
        const what = `model '${model}'${version ? ` version ${version}` : ''}`;
        throw known
          ? new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `The Triton server at ${client.displayUrl} has ${what}, but it is not ready; ${listing}`)
          : new Int8DetectError('ERR_MODEL', `The Triton server at ${client.displayUrl} has no ${what}; ${listing}`);
      }
      const metadata = await client.modelMetadata(model, version);
      const config = await client.modelConfig(model, version);
      if (metadata.inputs.length === 0 || metadata.outputs.length === 0) {
        throw protocolError(client.displayUrl, `model '${model}' reports ${metadata.inputs.length} inputs and ${metadata.outputs.length} outputs`);
      }
      return new TritonSession(client, version, metadata, server, config, concurrency);
    } catch (err) {
      client.close();
      throw err;
    }
  }

  async run(inputs: Record<string, InputTensor>): Promise<RunResult> {
    if (this.disposing) throw new Int8DetectError('ERR_DISPOSED', 'This Triton session has been disposed');
    this.inFlight++;
    try {
      const wire = Object.entries(inputs).map(([name, tensor]) => {
        const expected = this.metadata.inputs.find((m) => m.name === name);
        if (!expected) throw new Int8DetectError('ERR_ARGUMENT', `Triton model '${this.metadata.name}' has no input '${name}' (its inputs: ${this.metadata.inputs.map((m) => m.name).join(', ')})`);
        const datatype = datatypeOfData(tensor.data);
        if (datatype !== expected.datatype) {
          throw new Int8DetectError('ERR_ARGUMENT', `Triton model '${this.metadata.name}' expects ${expected.datatype} for input '${name}' but received ${datatype}`);
        }
        return { name, datatype, shape: [...tensor.dims], data: bytesOf(tensor.data) };
      });
      const slot = await this.slots.acquire();
      try {
        const response = await this.client.infer({ model: this.metadata.name, ...(this.version ? { version: this.version } : {}), inputs: wire });
        return { outputs: this.checkOutputs(response.outputs), inputs };
      } finally {
        this.slots.release(slot);
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.idle) this.idle();
    }
  }

  dispose(): Promise<void> {
    if (!this.disposing) {
      this.disposing = (async () => {
        if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
        this.client.close();
      })();
    }
    return this.disposing;
  }

  /** Every output the metadata names, each with its datatype, a compatible shape and exactly its bytes. */
  private checkOutputs(outputs: readonly { name: string; datatype: string; shape: number[]; data: Uint8Array }[]): Record<string, RawTensor> {
    const display = this.client.displayUrl;
    const byName: Record<string, RawTensor> = {};
    for (const output of outputs) {
      const expected = this.metadata.outputs.find((m) => m.name === output.name);
      if (!expected) throw protocolError(display, `an output '${output.name}' that model '${this.metadata.name}' does not have (its outputs: ${this.metadata.outputs.map((m) => m.name).join(', ')})`);
      if (output.datatype !== expected.datatype || !isKserveDatatype(output.datatype)) {
        throw protocolError(display, `output '${output.name}' came back as ${output.datatype}, but the model's metadata says ${expected.datatype}`);
      }
      const rankMatches = output.shape.length === expected.shape.length;
      const mismatch = expected.shape.findIndex((d, i) => d >= 0 && output.shape[i] !== d);
      if (!rankMatches || mismatch >= 0 || output.shape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw protocolError(display, `output '${output.name}' has the shape [${output.shape.join(', ')}], but the model's metadata says [${expected.shape.join(', ')}]`);
      }
      const bytes = output.shape.reduce((a, b) => a * b, 1) * bytesPerElement(output.datatype);
      if (output.data.byteLength !== bytes) {
        throw protocolError(display, `output '${output.name}' is ${output.datatype} [${output.shape.join(', ')}], ${bytes} bytes, but ${output.data.byteLength} came`);
      }
      byName[output.name] = { name: output.name, type: elementTypeOf(output.datatype), dims: output.shape, data: typedArrayFromBytes(output.datatype, output.data) };
    }
    for (const expected of this.metadata.outputs) {
      if (!byName[expected.name]) throw protocolError(display, `the response lacks output '${expected.name}'`);
    }
    return byName;
  }
}

