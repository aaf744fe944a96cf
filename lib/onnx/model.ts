/**
 * An ONNX ModelProto as an editable structure: graph nodes, initializers, inputs, outputs,
 * value_info, opset imports and metadata, decoded from the protobuf bytes, and encoded back.
 *
 * Only what the quantizer edits is interpreted. Every other field of every message (doc strings,
 * training info, functions, sparse initializers, subgraphs inside attributes...) is kept as its
 * raw wire bytes in `extra` and written back as it came, so decode -> encode is faithful.
 * Initializers stored as float_data/int32_data/int64_data/double_data/uint64_data are turned into
 * raw_data (the same values, little-endian), the form every runtime reads fastest.
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import { ProtoReader, WireType } from './protobuf';
import { ProtoWriter } from './writer';

/** ONNX TensorProto.DataType codes this module reads or writes. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/** AttributeProto.AttributeType codes. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** The values as little-endian bytes; undefined for external or string data (then kept in `extra`). */
  raw: Uint8Array | undefined;
  /** Fields not interpreted here, as wire bytes. */
  extra: Uint8Array[];
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  strings?: string[];
  /** Subgraphs, sparse tensors, type protos, doc strings...: kept verbatim. */
  extra: Uint8Array[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  /** '' for the default domain (ai.onnx). */
  domain: string;
  /** Input tensor names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
  extra: Uint8Array[];
}

export interface OnnxValueInfo {
  name: string;
  /** The TypeProto's bytes, kept verbatim; undefined when the file gives no type. */
  type: Uint8Array | undefined;
  extra: Uint8Array[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
  extra: Uint8Array[];
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImports: { domain: string; version: number }[];
  metadata: { key: string; value: string }[];
  graph: OnnxGraph;
  extra: Uint8Array[];
}

/** The wire bytes of the field whose tag the reader just read, from its tag to its end. */
function keepField(r: ProtoReader): Uint8Array {
  const start = r.fieldStart;
  r.skip();
  return r.bytes.slice(start, r.pos);
}

function readPackedOrSingle(r: ProtoReader, read: (inner: ProtoReader) => number, out: number[]): void {
  if (r.wireType === WireType.LengthDelimited) {
    const inner = r.message();
    while (inner.pos < inner.end) out.push(read(inner));
  } else {
    out.push(read(r));
  }
}

const readVarint = (r: ProtoReader) => r.varint();

function readFixed32Float(r: ProtoReader): number {
  const view = new DataView(r.bytes.buffer, r.bytes.byteOffset);
  if (r.pos + 4 > r.end) throw new Int8DetectError('ERR_MODEL', `a float runs past the end of its message at byte ${r.pos}`);
  const value = view.getFloat32(r.pos, true);
  r.pos += 4;
  return value;
}

function readFixed64Double(r: ProtoReader): number {
  const view = new DataView(r.bytes.buffer, r.bytes.byteOffset);
  if (r.pos + 8 > r.end) throw new Int8DetectError('ERR_MODEL', `a double runs past the end of its message at byte ${r.pos}`);
  const value = view.getFloat64(r.pos, true);
  r.pos += 8;
  return value;
}

/** A varint read as an unsigned 64-bit value (uint64_data), as a BigInt. */
function readUint64(r: ProtoReader): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (r.pos >= r.end) throw new Int8DetectError('ERR_MODEL', `a varint runs past the end of its message at byte ${r.pos}`);
    const byte = r.bytes[r.pos++];
    result |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return result;
    shift += 7n;
  }
}

function decodeTensor(r: ProtoReader): OnnxTensor {
  const tensor: OnnxTensor = { name: '', dataType: 0, dims: [], raw: undefined, extra: [] };
  const floats: number[] = [];
  const int32s: number[] = [];
  const int64s: number[] = [];
  const doubles: number[] = [];
  const uint64s: bigint[] = [];
  while (r.next()) {
    switch (r.field) {
      case 1:
        readPackedOrSingle(r, readVarint, tensor.dims);
        break;
      case 2:
        tensor.dataType = r.int64();
        break;
      case 4:
        readPackedOrSingle(r, readFixed32Float, floats);
        break;
      case 5:
        readPackedOrSingle(r, readVarint, int32s);
        break;
      case 7:
        readPackedOrSingle(r, readVarint, int64s);
        break;
      case 8:
        tensor.name = r.string();
        break;
      case 9:
        tensor.raw = r.bytesField().slice();
        break;
      case 10:
        readPackedOrSingle(r, readFixed64Double, doubles);
        break;
      case 11:
        if (r.wireType === WireType.LengthDelimited) {
          const inner = r.message();
          while (inner.pos < inner.end) uint64s.push(readUint64(inner));
        } else {
          uint64s.push(readUint64(r));
        }
        break;
      default:
        tensor.extra.push(keepField(r));
    }
  }
  if (tensor.raw === undefined) tensor.raw = typedFieldsToRaw(tensor, { floats, int32s, int64s, doubles, uint64s });
  return tensor;
}

/** The typed repeated fields of a TensorProto as raw little-endian bytes of its data type. */
function typedFieldsToRaw(
  tensor: OnnxTensor,
  fields: { floats: number[]; int32s: number[]; int64s: number[]; doubles: number[]; uint64s: bigint[] },
): Uint8Array | undefined {
  const count = fields.floats.length + fields.int32s.length + fields.int64s.length + fields.doubles.length + fields.uint64s.length;
  const elements = tensor.dims.reduce((a, b) => a * b, 1);
  if (count === 0) {
    // An empty tensor of a numeric type still has (zero bytes of) data; a string tensor or one
    // stored outside the file has none here.
    const external = tensor.extra.length > 0 || tensor.dataType === DataType.STRING;
    return elements === 0 && !external ? new Uint8Array(0) : undefined;
  }
  const size = ELEMENT_BYTES[tensor.dataType];
  if (size === undefined) throw new Int8DetectError('ERR_MODEL', `initializer '${tensor.name}' has data type ${tensor.dataType}, which this reader does not convert`);
  const out = new Uint8Array(count * size);
  const view = new DataView(out.buffer);
  switch (tensor.dataType) {
    case DataType.FLOAT:
      fields.floats.forEach((v, i) => view.setFloat32(i * 4, v, true));
      break;
    case DataType.DOUBLE:
      fields.doubles.forEach((v, i) => view.setFloat64(i * 8, v, true));
      break;
    case DataType.INT64:
      fields.int64s.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
      break;
    case DataType.UINT32:
      fields.uint64s.forEach((v, i) => view.setUint32(i * 4, Number(v), true));
      break;
    case DataType.UINT64:
      fields.uint64s.forEach((v, i) => view.setBigUint64(i * 8, v, true));
      break;
    default:
      // int32_data carries INT32, and the narrower integer, bool and 16-bit float types as their bit patterns.
      fields.int32s.forEach((v, i) => {
        if (size === 4) view.setInt32(i * 4, v, true);
        else if (size === 2) view.setUint16(i * 2, v & 0xffff, true);
        else view.setUint8(i, v & 0xff);
      });
  }
  return out;
}

function decodeAttribute(r: ProtoReader): OnnxAttribute {
  const attribute: OnnxAttribute = { name: '', type: 0, extra: [] };
  while (r.next()) {
    switch (r.field) {
      case 1:
        attribute.name = r.string();
        break;
      case 20:
        attribute.type = r.int64();
        break;
      case 2:
        r.expectWireType(WireType.Fixed32);
        attribute.f = readFixed32Float(r);
        break;
      case 3:
        attribute.i = r.int64();
        break;
      case 4:
        attribute.s = r.string();
        break;
      case 5:
        attribute.t = decodeTensor(r.message());
        break;
      case 7:
        readPackedOrSingle(r, readFixed32Float, (attribute.floats ??= []));
        break;
      case 8:
        readPackedOrSingle(r, readVarint, (attribute.ints ??= []));
        break;
      case 9:
        (attribute.strings ??= []).push(r.string());
        break;
      default:
        attribute.extra.push(keepField(r));
    }
  }
  return attribute;
}

function decodeNode(r: ProtoReader): OnnxNode {
  const node: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [], extra: [] };
  while (r.next()) {
    switch (r.field) {
      case 1:
        node.inputs.push(r.string());
        break;
      case 2:
        node.outputs.push(r.string());
        break;
      case 3:
        node.name = r.string();
        break;
      case 4:
        node.opType = r.string();
        break;
      case 5:
        node.attributes.push(decodeAttribute(r.message()));
        break;
      case 7:
        node.domain = r.string();
        break;
      default:
        node.extra.push(keepField(r));
    }
  }
  if (node.domain === 'ai.onnx') node.domain = '';
  return node;
}

function decodeValueInfo(r: ProtoReader): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', type: undefined, extra: [] };
  while (r.next()) {
    if (r.field === 1) info.name = r.string();
    else if (r.field === 2) info.type = r.bytesField().slice();
    else info.extra.push(keepField(r));
  }
  return info;
}

function decodeGraph(r: ProtoReader): OnnxGraph {
  const graph: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [], extra: [] };
  while (r.next()) {
    switch (r.field) {
      case 1:
        graph.nodes.push(decodeNode(r.message()));
        break;
      case 2:
        graph.name = r.string();
        break;
      case 5:
        graph.initializers.push(decodeTensor(r.message()));
        break;
      case 11:
        graph.inputs.push(decodeValueInfo(r.message()));
        break;
      case 12:
        graph.outputs.push(decodeValueInfo(r.message()));
        break;
      case 13:
        graph.valueInfo.push(decodeValueInfo(r.message()));
        break;
      default:
        graph.extra.push(keepField(r));
    }
  }
  return graph;
}

/** Decode an ONNX model. Throws Int8DetectError('ERR_MODEL') for bytes that are not one. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument("a Uint8Array of an ONNX file's bytes", 'bytes', bytes);
  const model: OnnxModel = { irVersion: 0, producerName: '', producerVersion: '', opsetImports: [], metadata: [], graph: undefined as unknown as OnnxGraph, extra: [] };
  const r = new ProtoReader(bytes);
  while (r.next()) {
    switch (r.field) {
      case 1:
        model.irVersion = r.int64();
        break;
      case 2:
        model.producerName = r.string();
        break;
      case 3:
        model.producerVersion = r.string();
        break;
      case 7:
        model.graph = decodeGraph(r.message());
        break;
      case 8: {
        const o = r.message();
        const opset = { domain: '', version: 0 };
        while (o.next()) {
          if (o.field === 1) opset.domain = o.string();
          else if (o.field === 2) opset.version = o.int64();
          else o.skip();
        }
        model.opsetImports.push(opset);
        break;
      }
      case 14: {
        const e = r.message();
        const entry = { key: '', value: '' };
        while (e.next()) {
          if (e.field === 1) entry.key = e.string();
          else if (e.field === 2) entry.value = e.string();
          else e.skip();
        }
        model.metadata.push(entry);
        break;
      }
      default:
        model.extra.push(keepField(r));
    }
  }
  if (model.irVersion < 1 || !model.graph) {
    throw new Int8DetectError('ERR_MODEL', `Not an ONNX model (${bytes.length} bytes): ${model.graph ? 'no valid ir_version' : 'it has no graph'}`);
  }
  return model;
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  w.packedInt64(1, t.dims);
  w.int64(2, t.dataType);
  if (t.name) w.string(8, t.name);
  if (t.raw !== undefined) w.bytes(9, t.raw);
  for (const e of t.extra) w.raw(e);
}

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int64(3, a.i);
  if (a.s !== undefined) w.string(4, a.s);
  if (a.t !== undefined) w.message(5, (m) => writeTensor(m, a.t!));
  if (a.floats !== undefined) w.packedFloat(7, a.floats);
  if (a.ints !== undefined) w.packedInt64(8, a.ints);
  for (const s of a.strings ?? []) w.string(9, s);
  for (const e of a.extra) w.raw(e);
  w.int64(20, a.type);
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes) w.message(5, (m) => writeAttribute(m, a));
  if (n.domain) w.string(7, n.domain);
  for (const e of n.extra) w.raw(e);
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  if (v.type !== undefined) w.bytes(2, v.type);
  for (const e of v.extra) w.raw(e);
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  if (g.name) w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
  for (const v of g.valueInfo) w.message(13, (m) => writeValueInfo(m, v));
  for (const e of g.extra) w.raw(e);
}

/** Encode a model back to ONNX bytes. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int64(1, model.irVersion);
  if (model.producerName) w.string(2, model.producerName);
  if (model.producerVersion) w.string(3, model.producerVersion);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const o of model.opsetImports) {
    w.message(8, (m) => {
      if (o.domain) m.string(1, o.domain);
      m.int64(2, o.version);
    });
  }
  for (const { key, value } of model.metadata) w.message(14, (m) => m.string(1, key).string(2, value));
  for (const e of model.extra) w.raw(e);
  return w.finish();
}

/** A deep enough copy to edit nodes, initializer lists and outputs without touching the original (tensor bytes are shared). */
export function cloneModel(model: OnnxModel): OnnxModel {
  const g = model.graph;
  return {
    ...model,
    opsetImports: model.opsetImports.map((o) => ({ ...o })),
    metadata: model.metadata.map((m) => ({ ...m })),
    extra: model.extra.slice(),
    graph: {
      ...g,
      nodes: g.nodes.map((n) => ({ ...n, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attributes: n.attributes.map((a) => ({ ...a })) })),
      initializers: g.initializers.slice(),
      inputs: g.inputs.slice(),
      outputs: g.outputs.slice(),
      valueInfo: g.valueInfo.slice(),
      extra: g.extra.slice(),
    },
  };
}

/** The version of the default (ai.onnx) domain the model imports; 0 when it imports none. */
export function defaultOpset(model: OnnxModel): number {
  return model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
}

export function attribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.find((a) => a.name === name);
}

export function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  return attribute(node, name)?.i ?? fallback;
}

export function intsAttribute(node: OnnxNode, name: string): number[] | undefined {
  return attribute(node, name)?.ints;
}

/** A float32 tensor's values (copied into an aligned array). */
export function tensorFloats(t: OnnxTensor): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new Int8DetectError('ERR_MODEL', `tensor '${t.name}' has data type ${t.dataType}, not float`);
  if (t.raw === undefined) throw new Int8DetectError('ERR_MODEL', `tensor '${t.name}' keeps its data outside the model file, which is not supported`);
  const out = new Float32Array(t.raw.length / 4);
  new Uint8Array(out.buffer).set(t.raw);
  return out;
}

/** An int64 or int32 tensor's values as numbers (shape and axes constants). */
export function tensorInts(t: OnnxTensor): number[] {
  if (t.raw === undefined) throw new Int8DetectError('ERR_MODEL', `tensor '${t.name}' keeps its data outside the model file, which is not supported`);
  const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  if (t.dataType === DataType.INT64) return Array.from({ length: t.raw.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  if (t.dataType === DataType.INT32) return Array.from({ length: t.raw.length / 4 }, (_, i) => view.getInt32(i * 4, true));
  throw new Int8DetectError('ERR_MODEL', `tensor '${t.name}' has data type ${t.dataType}, not an integer type`);
}

function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
}

export function floatTensor(name: string, dims: readonly number[], values: Float32Array | readonly number[]): OnnxTensor {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  return { name, dataType: DataType.FLOAT, dims: dims.slice(), raw: bytesOf(data), extra: [] };
}

export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): OnnxTensor {
  return { name, dataType: DataType.INT64, dims: dims.slice(), raw: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))), extra: [] };
}

export function int8Tensor(name: string, dims: readonly number[], values: Int8Array): OnnxTensor {
  return { name, dataType: DataType.INT8, dims: dims.slice(), raw: bytesOf(values), extra: [] };
}

export function uint8Tensor(name: string, dims: readonly number[], values: Uint8Array): OnnxTensor {
  return { name, dataType: DataType.UINT8, dims: dims.slice(), raw: bytesOf(values), extra: [] };
}

/** A TypeProto for a tensor of `elemType` with unknown shape (enough for an extra graph output). */
export function tensorTypeBytes(elemType: number): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, (t) => t.int64(1, elemType));
  return w.finish();
}

/** The element type and shape a ValueInfo's TypeProto states (shape null when unstated). */
export function valueInfoShape(info: OnnxValueInfo): { elemType: number; dims: (number | string)[] | null } {
  const result: { elemType: number; dims: (number | string)[] | null } = { elemType: 0, dims: null };
  if (!info.type) return result;
  const type = new ProtoReader(info.type);
  while (type.next()) {
    if (type.field !== 1) {
      type.skip();
      continue;
    }
    const tensorType = type.message();
    while (tensorType.next()) {
      if (tensorType.field === 1) result.elemType = tensorType.int64();
      else if (tensorType.field === 2) {
        result.dims = [];
        const shape = tensorType.message();
        while (shape.next()) {
          if (shape.field !== 1) {
            shape.skip();
            continue;
          }
          const dim = shape.message();
          let value: number | string = '?';
          while (dim.next()) {
            if (dim.field === 1) value = dim.int64();
            else if (dim.field === 2) value = dim.string();
            else dim.skip();
          }
          result.dims.push(value);
        }
      } else tensorType.skip();
    }
  }
  return result;
}

