/**
 * What an ONNX file says about itself, read straight from the protobuf bytes: versions, opsets,
 * metadata_props and the graph's real inputs and outputs. Nodes and weights are skipped, never
 * decoded, so this is cheap even for large models and needs no ONNX library.
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import { ProtoReader } from './protobuf';

/** One dimension: a fixed size, or the name of a symbolic one ('batch'); '?' when the file gives neither. */
export type ModelDim = number | string;

export interface ModelTensorInfo {
  name: string;
  /** ONNX TensorProto.DataType code (1 = float, 2 = uint8, ...); 0 when not a tensor or not stated. */
  elemType: number;
  /** The element type in ONNX Runtime's words ('float32', 'uint8', ...), or 'undefined'. */
  type: string;
  /** The shape, or null when the file states no shape (unknown rank). */
  dims: ModelDim[] | null;
}

export interface OpsetImport {
  /** '' is the default ONNX domain ('ai.onnx'). */
  domain: string;
  version: number;
}

export interface ModelInfo {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImports: OpsetImport[];
  metadata: Record<string, string>;
  /** Graph inputs that are fed at run time: initializers listed as inputs (old exporters do this) are left out. */
  inputs: ModelTensorInfo[];
  outputs: ModelTensorInfo[];
}

const ELEMENT_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

/** Field numbers from onnx.proto3, only those this reader needs. */
const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
  // ModelProto uses fields up to 26 (configuration) today; leave room for a few more before
  // calling a field number foreign.
  highestKnownField: 40,
};
const GRAPH = { initializer: 5, input: 11, output: 12, sparseInitializer: 15 };
const TENSOR = { name: 8 };
const SPARSE_TENSOR = { values: 1 };
const VALUE_INFO = { name: 1, type: 2 };
const TYPE = { tensorType: 1, sparseTensorType: 8 };
const TENSOR_TYPE = { elemType: 1, shape: 2 };
const SHAPE = { dim: 1 };
const DIM = { value: 1, param: 2 };
const OPSET = { domain: 1, version: 2 };
const ENTRY = { key: 1, value: 2 };

/**
 * Read an ONNX model's header and graph signature. Throws Int8DetectError('ERR_MODEL') saying
 * whether the bytes are not an ONNX model at all or a model cut short (with the byte offset).
 */
export function readModelInfo(bytes: Uint8Array): ModelInfo {
  if (!(bytes instanceof Uint8Array)) {
    throw invalidArgument("a Uint8Array of an ONNX file's bytes", 'bytes', bytes);
  }
  if (bytes.length === 0) throw new Int8DetectError('ERR_MODEL', 'Not an ONNX model: the file is empty');
  const fields: ModelFields = {
    irVersion: undefined,
    producerName: '',
    producerVersion: '',
    opsetImports: [],
    metadata: {},
    graph: undefined,
  };
  try {
    readModelFields(new ProtoReader(bytes), fields);
  } catch (err) {
    if (!(err instanceof Int8DetectError)) throw err;
    // Random bytes also "run past the end" sooner or later: only a file that began like a model
    // (a plausible ir_version, which every writer puts first) is called a cut-short model.
    const truncated = err.message.startsWith('truncated at byte') && isPlausibleIrVersion(fields.irVersion);
    const kind = truncated ? 'Not a complete ONNX model' : 'Not an ONNX model';
    throw new Int8DetectError('ERR_MODEL', `${kind} (${bytes.length} bytes): ${err.message}`, { cause: err });
  }
  const { irVersion, graph, ...rest } = fields;
  // Any byte string can parse as some protobuf; these two fields are what make it a model.
  if (!isPlausibleIrVersion(irVersion)) {
    throw new Int8DetectError('ERR_MODEL', `Not an ONNX model (${bytes.length} bytes): no valid ir_version (read ${String(irVersion)})`);
  }
  if (!graph) throw new Int8DetectError('ERR_MODEL', `Not an ONNX model (${bytes.length} bytes): it has no graph`);
  return { irVersion, ...rest, ...graph };
}

interface ModelFields extends Omit<ModelInfo, 'irVersion' | 'inputs' | 'outputs'> {
  irVersion: number | undefined;
  graph: Pick<ModelInfo, 'inputs' | 'outputs'> | undefined;
}

function isPlausibleIrVersion(irVersion: number | undefined): irVersion is number {
  return irVersion !== undefined && irVersion >= 1 && irVersion <= 100;
}

function readModelFields(r: ProtoReader, fields: ModelFields): void {
  while (r.next()) {
    switch (r.field) {
      case MODEL.irVersion:
        fields.irVersion = r.int64();
        break;
      case MODEL.producerName:
        fields.producerName = r.string();
        break;
      case MODEL.producerVersion:
        fields.producerVersion = r.string();
        break;
      case MODEL.graph:
        fields.graph = readGraphSignature(r.message());
        break;
      case MODEL.opsetImport:
        fields.opsetImports.push(readOpset(r.message()));
        break;
      case MODEL.metadataProps: {
        const [key, value] = readEntry(r.message());
        fields.metadata[key] = value;
        break;
      }
      default:
        if (r.field > MODEL.highestKnownField) {
          throw new Int8DetectError('ERR_MODEL', `top-level field ${r.field} at byte ${r.fieldStart} is not a ModelProto field`);
        }
        r.skip();
    }
  }
}

function readOpset(r: ProtoReader): OpsetImport {
  let domain = '';
  let version = 0;
  while (r.next()) {
    if (r.field === OPSET.domain) domain = r.string();
    else if (r.field === OPSET.version) version = r.int64();
    else r.skip();
  }
  return { domain, version };
}

function readEntry(r: ProtoReader): [string, string] {
  let key = '';
  let value = '';
  while (r.next()) {
    if (r.field === ENTRY.key) key = r.string();
    else if (r.field === ENTRY.value) value = r.string();
    else r.skip();
  }
  return [key, value];
}

function readGraphSignature(r: ProtoReader): { inputs: ModelTensorInfo[]; outputs: ModelTensorInfo[] } {
  const declaredInputs: ModelTensorInfo[] = [];
  const outputs: ModelTensorInfo[] = [];
  const initializerNames = new Set<string>();
  while (r.next()) {
    switch (r.field) {
      case GRAPH.input:
        declaredInputs.push(readValueInfo(r.message()));
        break;
      case GRAPH.output:
        outputs.push(readValueInfo(r.message()));
        break;
      case GRAPH.initializer:
        initializerNames.add(readTensorName(r.message()));
        break;
      case GRAPH.sparseInitializer:
        initializerNames.add(readSparseTensorName(r.message()));
        break;
      default:
        r.skip();
    }
  }
  return { inputs: declaredInputs.filter((input) => !initializerNames.has(input.name)), outputs };
}

function readTensorName(r: ProtoReader): string {
  let name = '';
  while (r.next()) {
    if (r.field === TENSOR.name) name = r.string();
    else r.skip();
  }
  return name;
}

function readSparseTensorName(r: ProtoReader): string {
  let name = '';
  while (r.next()) {
    if (r.field === SPARSE_TENSOR.values) name = readTensorName(r.message());
    else r.skip();
  }
  return name;
}

function readValueInfo(r: ProtoReader): ModelTensorInfo {
  const info: ModelTensorInfo = { name: '', elemType: 0, type: 'undefined', dims: null };
  while (r.next()) {
    if (r.field === VALUE_INFO.name) info.name = r.string();
    else if (r.field === VALUE_INFO.type) readType(r.message(), info);
    else r.skip();
  }
  return info;
}

function readType(r: ProtoReader, info: ModelTensorInfo): void {
  while (r.next()) {
    // A sparse tensor type has the same elem_type/shape layout as a dense one.
    if (r.field === TYPE.tensorType || r.field === TYPE.sparseTensorType) readTensorType(r.message(), info);
    else r.skip();
  }
}

function readTensorType(r: ProtoReader, info: ModelTensorInfo): void {
  while (r.next()) {
    if (r.field === TENSOR_TYPE.elemType) {
      info.elemType = r.int64();
      info.type = ELEMENT_TYPES[info.elemType] ?? 'undefined';
    } else if (r.field === TENSOR_TYPE.shape) {
      info.dims = readShape(r.message());
    } else {
      r.skip();
    }
  }
}

function readShape(r: ProtoReader): ModelDim[] {
  const dims: ModelDim[] = [];
  while (r.next()) {
    if (r.field === SHAPE.dim) dims.push(readDim(r.message()));
    else r.skip();
  }
  return dims;
}

function readDim(r: ProtoReader): ModelDim {
  let dim: ModelDim = '?';
  while (r.next()) {
    if (r.field === DIM.value) dim = r.int64();
    else if (r.field === DIM.param) dim = r.string();
    else r.skip();
  }
  return dim;
}
