/**
 * The protobuf wire format, written: the counterpart of ProtoReader, enough to encode an ONNX
 * ModelProto. Bytes are gathered as a list of chunks and joined once, so a 10 MB initializer is
 * copied once per enclosing message, not once per field.
 */
import { WireType } from './protobuf';

const textEncoder = new TextEncoder();

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch = new Uint8Array(256);
  private scratchUsed = 0;
  private total = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.total + this.scratchUsed;
  }

  /** An unsigned varint; negative numbers are written as their 64-bit two's complement (10 bytes), as int64 fields want. */
  varint(value: number): this {
    if (value >= 0 && value < 2 ** 31) {
      this.reserve(5);
      let v = value;
      while (v >= 0x80) {
        this.scratch[this.scratchUsed++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.scratch[this.scratchUsed++] = v;
      return this;
    }
    if (!Number.isInteger(value)) throw new RangeError(`varint value ${value} is not an integer`);
    let big = BigInt.asUintN(64, BigInt(value));
    this.reserve(10);
    while (big >= 0x80n) {
      this.scratch[this.scratchUsed++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.scratch[this.scratchUsed++] = Number(big);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  int64(field: number, value: number): this {
    return this.tag(field, WireType.Varint).varint(value);
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.Fixed32);
    this.reserve(4);
    new DataView(this.scratch.buffer, this.scratch.byteOffset).setFloat32(this.scratchUsed, value, true);
    this.scratchUsed += 4;
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited).varint(data.length);
    return this.raw(data);
  }

  string(field: number, text: string): this {
    return this.bytes(field, textEncoder.encode(text));
  }

  /** An embedded message, written by `build` into a writer of its own. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated int64 (the proto3 default encoding). */
  packedInt64(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated float. */
  packedFloat(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const data = new Float32Array(values);
    return this.bytes(field, new Uint8Array(data.buffer));
  }

  /** Bytes already in wire format (a field kept verbatim from the source). */
  raw(data: Uint8Array): this {
    if (data.length <= 64) {
      this.reserve(data.length);
      this.scratch.set(data, this.scratchUsed);
      this.scratchUsed += data.length;
      return this;
    }
    this.flush();
    this.chunks.push(data);
    this.total += data.length;
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.total);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  private reserve(count: number): void {
    if (this.scratchUsed + count <= this.scratch.length) return;
    this.flush();
    if (count > this.scratch.length) this.scratch = new Uint8Array(count);
  }

  private flush(): void {
    if (this.scratchUsed === 0) return;
    this.chunks.push(this.scratch.slice(0, this.scratchUsed));
    this.total += this.scratchUsed;
    this.scratchUsed = 0;
  }
}
