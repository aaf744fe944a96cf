/**
 * The KServe v2 gRPC messages int8-detect sends and reads, written from the protocol's published
 * specification (the "inference" package: GRPCInferenceService), plus the two Triton extensions
 * read here (ModelConfig, RepositoryIndex), on the project's own protobuf wire reader and writer.
 * Only the fields used are encoded; unknown fields are skipped when reading, as protobuf requires.
 *
 * Field numbers (name = number):
 * - ModelReadyRequest, ModelMetadataRequest, ModelConfigRequest: name = 1, version = 2
 * - ServerLiveResponse.live, ServerReadyResponse.ready, ModelReadyResponse.ready = 1
 * - ServerMetadataResponse: name = 1, version = 2, extensions = 3 (repeated)
 * - ModelMetadataResponse: name = 1, versions = 2, platform = 3, inputs = 4, outputs = 5;
 *   TensorMetadata: name = 1, datatype = 2, shape = 3 (repeated int64)
 * - ModelInferRequest: model_name = 1, model_version = 2, id = 3, parameters = 4, inputs = 5,
 *   outputs = 6, raw_input_contents = 7; InferInputTensor: name = 1, datatype = 2, shape = 3,
 *   parameters = 4, contents = 5; InferRequestedOutputTensor: name = 1, parameters = 2
 * - ModelInferResponse: model_name = 1, model_version = 2, id = 3, parameters = 4, outputs = 5,
 *   raw_output_contents = 6; InferOutputTensor as InferInputTensor
 * - InferTensorContents: bool = 1, int = 2, int64 = 3, uint = 4, uint64 = 5, fp32 = 6, fp64 = 7, bytes = 8
 * - Triton ModelConfigResponse: config = 1; ModelConfig: name = 1, platform = 2, max_batch_size = 4,
 *   input = 5, output = 6, instance_group = 7, dynamic_batching = 11, parameters = 14 (map of
 *   ModelParameter { string_value = 1 }), backend = 17; ModelInput: name = 1, data_type = 2,
 *   dims = 4; ModelOutput: name = 1, data_type = 2, dims = 3; ModelInstanceGroup: count = 2
 * - Triton RepositoryIndexRequest: repository_name = 1, ready = 2; RepositoryIndexResponse:
 *   models = 1; ModelIndex: name = 1, version = 2, state = 3, reason = 4
 */
import { ProtoReader, WireType } from '../../onnx/protobuf';
import { ProtoWriter } from '../../onnx/writer';
import { bytesOf, datatypeOfConfigType, isKserveDatatype, type KserveDatatype } from './datatypes';
import type { ConfigTensor, InferRequest, ModelConfigSummary, ModelMetadata, RepositoryModel, ServerMetadata, TensorMetadata, WireTensor } from './types';

/** A decoded message that breaks the protocol: the client turns it into an error naming the server. */
export class GrpcMessageError extends Error {}

function finish(w: ProtoWriter): Buffer {
  const bytes = w.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeEmpty(): Buffer {
  return Buffer.alloc(0);
}

/** ModelReadyRequest, ModelMetadataRequest and ModelConfigRequest share one shape. */
export function encodeModelRef(model: { name: string; version?: string }): Buffer {
  const w = new ProtoWriter().string(1, model.name);
  if (model.version) w.string(2, model.version);
  return finish(w);
}

export function encodeRepositoryIndexRequest(): Buffer {
  return encodeEmpty();
}

export function encodeInferRequest(request: InferRequest): Buffer {
  const w = new ProtoWriter().string(1, request.model);
  if (request.version) w.string(2, request.version);
  for (const input of request.inputs) {
    w.message(5, (t) => t.string(1, input.name).string(2, input.datatype).packedInt64(3, input.shape));
  }
  for (const name of request.outputs ?? []) w.message(6, (t) => t.string(1, name));
  for (const input of request.inputs) w.bytes(7, input.data);
  return finish(w);
}

/** Repeated int64 fields may arrive packed (proto3's default) or one value per tag. */
function readInt64s(r: ProtoReader, out: number[]): void {
  if (r.wireType === WireType.LengthDelimited) {
    const inner = r.message();
    while (inner.pos < inner.end) out.push(inner.varint());
  } else {
    out.push(r.int64());
  }
}

function readBool(r: ProtoReader): boolean {
  return r.int64() !== 0;
}

/** A response with one bool in field 1 (ServerLive, ServerReady, ModelReady). */
export function decodeFlag(bytes: Uint8Array): boolean {
  const r = new ProtoReader(bytes);
  let flag = false;
  while (r.next()) {
    if (r.field === 1) flag = readBool(r);
    else r.skip();
  }
  return flag;
}

export function decodeServerMetadata(bytes: Uint8Array): ServerMetadata {
  const r = new ProtoReader(bytes);
  const out: ServerMetadata = { name: '', version: '', extensions: [] };
  while (r.next()) {
    if (r.field === 1) out.name = r.string();
    else if (r.field === 2) out.version = r.string();
    else if (r.field === 3) out.extensions.push(r.string());
    else r.skip();
  }
  return out;
}

function decodeTensorMetadata(r: ProtoReader): TensorMetadata {
  const out: TensorMetadata = { name: '', datatype: '', shape: [] };
  while (r.next()) {
    if (r.field === 1) out.name = r.string();
    else if (r.field === 2) out.datatype = r.string();
    else if (r.field === 3) readInt64s(r, out.shape);
    else r.skip();
  }
  return out;
}

export function decodeModelMetadata(bytes: Uint8Array): ModelMetadata {
  const r = new ProtoReader(bytes);
  const out: ModelMetadata = { name: '', versions: [], platform: '', inputs: [], outputs: [] };
  while (r.next()) {
    if (r.field === 1) out.name = r.string();
    else if (r.field === 2) out.versions.push(r.string());
    else if (r.field === 3) out.platform = r.string();
    else if (r.field === 4) out.inputs.push(decodeTensorMetadata(r.message()));
    else if (r.field === 5) out.outputs.push(decodeTensorMetadata(r.message()));
    else r.skip();
  }
  return out;
}

function decodeConfigTensor(r: ProtoReader, dimsField: number): ConfigTensor {
  let name = '';
  let type = 0;
  const dims: number[] = [];
  while (r.next()) {
    if (r.field === 1) name = r.string();
    else if (r.field === 2) type = r.int64();
    else if (r.field === dimsField) readInt64s(r, dims);
    else r.skip();
  }
  return { name, datatype: datatypeOfConfigType(type) ?? `TYPE ${type}`, dims };
}

/** A map<string, ModelParameter> entry: key = 1, value = 2 { string_value = 1 }. */
function decodeParameterEntry(r: ProtoReader): [string, string] {
  let key = '';
  let value = '';
  while (r.next()) {
    if (r.field === 1) key = r.string();
    else if (r.field === 2) {
      const parameter = r.message();
      while (parameter.next()) {
        if (parameter.field === 1) value = parameter.string();
        else parameter.skip();
      }
    } else r.skip();
  }
  return [key, value];
}

function decodeInstanceCount(r: ProtoReader): number {
  // count defaults to 1 when the group does not state it (Triton fills it in, but be safe).
  let count = 1;
  while (r.next()) {
    if (r.field === 2) count = r.int64();
    else r.skip();
  }
  return count;
}

/** Triton's ModelConfigResponse { config = 1 }. */
export function decodeModelConfigResponse(bytes: Uint8Array): ModelConfigSummary {
  const outer = new ProtoReader(bytes);
  const out: ModelConfigSummary = { name: '', platform: '', backend: '', maxBatchSize: 0, inputs: [], outputs: [], parameters: {}, dynamicBatching: false, instances: 0 };
  while (outer.next()) {
    if (outer.field !== 1) {
      outer.skip();
      continue;
    }
    const r = outer.message();
    while (r.next()) {
      switch (r.field) {
        case 1:
          out.name = r.string();
          break;
        case 2:
          out.platform = r.string();
          break;
        case 4:
          out.maxBatchSize = r.int64();
          break;
        case 5:
          out.inputs.push(decodeConfigTensor(r.message(), 4));
          break;
        case 6:
          out.outputs.push(decodeConfigTensor(r.message(), 3));
          break;
        case 7:
          out.instances += decodeInstanceCount(r.message());
          break;
        case 11:
          out.dynamicBatching = true;
          r.skip();
          break;
        case 14: {
          const [key, value] = decodeParameterEntry(r.message());
          out.parameters[key] = value;
          break;
        }
        case 17:
          out.backend = r.string();
          break;
        default:
          r.skip();
      }
    }
  }
  return out;
}

export function decodeRepositoryIndex(bytes: Uint8Array): RepositoryModel[] {
  const r = new ProtoReader(bytes);
  const models: RepositoryModel[] = [];
  while (r.next()) {
    if (r.field !== 1) {
      r.skip();
      continue;
    }
    const m = r.message();
    const model: RepositoryModel = { name: '' };
    while (m.next()) {
      if (m.field === 1) model.name = m.string();
      else if (m.field === 2) model.version = m.string();
      else if (m.field === 3) model.state = m.string();
      else if (m.field === 4) {
        const reason = m.string();
        if (reason) model.reason = reason;
      } else m.skip();
    }
    models.push(model);
  }
  return models;
}

interface DecodedOutput {
  name: string;
  datatype: string;
  shape: number[];
  /** Typed contents (InferTensorContents), when the server did not use raw_output_contents. */
  contents?: Uint8Array;
}

/** InferTensorContents as little-endian bytes of the output's datatype (servers that skip raw contents). */
function decodeContents(r: ProtoReader, datatype: string): Uint8Array {
  const ints: number[] = [];
  let floats: Uint8Array | undefined;
  while (r.next()) {
    if ((r.field === 6 && datatype === 'FP32') || (r.field === 7 && datatype === 'FP64')) {
      // Packed fixed-width values are already the little-endian bytes of the tensor.
      floats = r.wireType === WireType.LengthDelimited ? r.bytesField() : undefined;
      if (!floats) throw new GrpcMessageError(`${datatype} contents not packed`);
    } else if (r.field === 2 || r.field === 3 || r.field === 4 || r.field === 5 || r.field === 1) readInt64s(r, ints);
    else r.skip();
  }
  if (floats) return new Uint8Array(floats);
  switch (datatype) {
    case 'INT32':
      return bytesOf(Int32Array.from(ints));
    case 'INT64':
    case 'UINT64':
      return bytesOf(BigInt64Array.from(ints, (v) => BigInt(v)));
    case 'UINT8':
    case 'BOOL':
      return Uint8Array.from(ints);
    case 'INT8':
      return bytesOf(Int8Array.from(ints));
    case 'INT16':
      return bytesOf(Int16Array.from(ints));
    case 'UINT16':
      return bytesOf(Uint16Array.from(ints));
    case 'UINT32':
      return bytesOf(Uint32Array.from(ints));
    default:
      throw new GrpcMessageError(`${datatype} outputs sent as typed contents cannot be read; raw_output_contents can`);
  }
}

function decodeOutput(r: ProtoReader): DecodedOutput {
  const out: DecodedOutput = { name: '', datatype: '', shape: [] };
  let contents: ProtoReader | undefined;
  while (r.next()) {
    if (r.field === 1) out.name = r.string();
    else if (r.field === 2) out.datatype = r.string();
    else if (r.field === 3) readInt64s(r, out.shape);
    else if (r.field === 5) contents = r.message();
    else r.skip();
  }
  if (contents) out.contents = decodeContents(contents, out.datatype);
  return out;
}

export interface DecodedInferResponse {
  model: string;
  version: string;
  outputs: WireTensor[];
}

/**
 * ModelInferResponse: outputs take raw_output_contents in order (the i-th raw block belongs to
 * the i-th output), or their own typed contents.
 */
export function decodeInferResponse(bytes: Uint8Array): DecodedInferResponse {
  const r = new ProtoReader(bytes);
  let model = '';
  let version = '';
  const outputs: DecodedOutput[] = [];
  const raw: Uint8Array[] = [];
  while (r.next()) {
    if (r.field === 1) model = r.string();
    else if (r.field === 2) version = r.string();
    else if (r.field === 5) outputs.push(decodeOutput(r.message()));
    else if (r.field === 6) raw.push(r.bytesField());
    else r.skip();
  }
  if (raw.length > 0 && raw.length !== outputs.length) {
    throw new GrpcMessageError(`${outputs.length} outputs but ${raw.length} raw_output_contents`);
  }
  return {
    model,
    version,
    outputs: outputs.map((o, i) => {
      if (!isKserveDatatype(o.datatype)) throw new GrpcMessageError(`output '${o.name}' has the datatype '${o.datatype}', which int8-detect cannot read`);
      const data = raw.length > 0 ? raw[i] : o.contents;
      if (!data) throw new GrpcMessageError(`output '${o.name}' came without contents`);
      return { name: o.name, datatype: o.datatype as KserveDatatype, shape: o.shape, data };
    }),
  };
}
