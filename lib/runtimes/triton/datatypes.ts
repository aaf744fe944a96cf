/**
 * KServe v2 tensor datatypes ("FP32", "UINT8", ...) against the element types the rest of the
 * library speaks ('float32', 'uint8', ...), Triton's model-configuration enum (TYPE_FP32 = 11, ...),
 * and the typed arrays raw tensor bytes are read into (little-endian, as the binary tensor
 * extension and gRPC's raw contents carry them).
 */
import type { TensorData } from '../backend';
import { Int8DetectError } from '../../util/errors';

export type KserveDatatype = 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'FP16' | 'FP32' | 'FP64' | 'BF16' | 'BYTES';

interface DatatypeFacts {
  element: string;
  /** Bytes per element; 0 for BYTES (variable length, not a tensor int8-detect reads). */
  bytes: number;
  /** Triton's model_config DataType enum value (TYPE_<name>). */
  configEnum: number;
}

const FACTS: Record<KserveDatatype, DatatypeFacts> = {
  BOOL: { element: 'bool', bytes: 1, configEnum: 1 },
  UINT8: { element: 'uint8', bytes: 1, configEnum: 2 },
  UINT16: { element: 'uint16', bytes: 2, configEnum: 3 },
  UINT32: { element: 'uint32', bytes: 4, configEnum: 4 },
  UINT64: { element: 'uint64', bytes: 8, configEnum: 5 },
  INT8: { element: 'int8', bytes: 1, configEnum: 6 },
  INT16: { element: 'int16', bytes: 2, configEnum: 7 },
  INT32: { element: 'int32', bytes: 4, configEnum: 8 },
  INT64: { element: 'int64', bytes: 8, configEnum: 9 },
  FP16: { element: 'float16', bytes: 2, configEnum: 10 },
  FP32: { element: 'float32', bytes: 4, configEnum: 11 },
  FP64: { element: 'float64', bytes: 8, configEnum: 12 },
  BYTES: { element: 'string', bytes: 0, configEnum: 13 },
  BF16: { element: 'bfloat16', bytes: 2, configEnum: 14 },
};

export function isKserveDatatype(value: unknown): value is KserveDatatype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(FACTS, value);
}

/** 'FP32' -> 'float32'. */
export function elementTypeOf(datatype: KserveDatatype): string {
  return FACTS[datatype].element;
}

/** 'float32' -> 'FP32'; undefined for element types KServe has no name for. */
export function datatypeOfElement(element: string): KserveDatatype | undefined {
  return (Object.keys(FACTS) as KserveDatatype[]).find((d) => FACTS[d].element === element);
}

export function bytesPerElement(datatype: KserveDatatype): number {
  return FACTS[datatype].bytes;
}

/** 'FP32' -> 'TYPE_FP32' (the spelling of config.pbtxt and the config JSON). */
export function configTypeName(datatype: KserveDatatype): string {
  return `TYPE_${datatype === 'BYTES' ? 'STRING' : datatype}`;
}

/** 'TYPE_FP32' (config JSON) or 11 (the config protobuf enum) -> 'FP32'. */
export function datatypeOfConfigType(value: string | number): KserveDatatype | undefined {
  if (typeof value === 'number') return (Object.keys(FACTS) as KserveDatatype[]).find((d) => FACTS[d].configEnum === value);
  const name = value.replace(/^TYPE_/, '');
  if (name === 'STRING') return 'BYTES';
  return isKserveDatatype(name) ? name : undefined;
}

/** The datatype of a tensor an Engine hands over. */
export function datatypeOfData(data: ArrayBufferView): KserveDatatype {
  if (data instanceof Float32Array) return 'FP32';
  if (data instanceof Uint8Array) return 'UINT8';
  if (data instanceof Int8Array) return 'INT8';
  if (data instanceof Int32Array) return 'INT32';
  if (data instanceof BigInt64Array) return 'INT64';
  if (data instanceof Float64Array) return 'FP64';
  if (data instanceof Int16Array) return 'INT16';
  if (data instanceof Uint16Array) return 'UINT16';
  throw new Int8DetectError('ERR_ARGUMENT', `Expected a Float32Array, Uint8Array, Int8Array, Int32Array, BigInt64Array, Float64Array, Int16Array or Uint16Array tensor but received ${data.constructor.name}`);
}

/**
 * Little-endian tensor bytes as a typed array of the datatype. The bytes are copied when they do
 * not sit at an offset the typed array can view (a slice of a larger HTTP body or gRPC frame).
 */
export function typedArrayFromBytes(datatype: KserveDatatype, bytes: Uint8Array): TensorData {
  const size = bytesPerElement(datatype);
  if (size === 0) throw new Int8DetectError('ERR_INFERENCE', `BYTES tensors (variable-length strings) are not read by int8-detect`);
  // new Uint8Array(view) copies (Buffer#slice would not).
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  const { buffer, byteOffset, byteLength } = aligned;
  const count = byteLength / size;
  switch (datatype) {
    case 'FP32':
      return new Float32Array(buffer, byteOffset, count);
    case 'FP64':
      return new Float64Array(buffer, byteOffset, count);
    case 'INT32':
      return new Int32Array(buffer, byteOffset, count);
    case 'UINT32':
      // No typed array the engine reads holds uint32: widen to int64, exactly.
      return BigInt64Array.from(new Uint32Array(buffer, byteOffset, count), (v) => BigInt(v));
    case 'INT64':
    case 'UINT64':
      return new BigInt64Array(buffer, byteOffset, count);
    case 'INT16':
      return new Int16Array(buffer, byteOffset, count);
    case 'UINT16':
    case 'FP16':
    case 'BF16':
      // Half floats stay raw 16-bit words: JavaScript has no typed array for them.
      return new Uint16Array(buffer, byteOffset, count);
    case 'INT8':
      return new Int8Array(buffer, byteOffset, count);
    case 'UINT8':
    case 'BOOL':
      return new Uint8Array(buffer, byteOffset, count);
    default:
      throw new Int8DetectError('ERR_INFERENCE', `The datatype ${datatype as string} cannot be read`);
  }
}

/** A typed array's bytes, as a view (no copy). */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
