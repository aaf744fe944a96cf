/**
 * A small reader for the protobuf wire format: enough to walk an ONNX ModelProto field by field
 * without building the graph as objects. A reader covers one message (a byte range); reading a
 * length-delimited field as a message gives a reader over just its bytes, so skipping a
 * 10 MB initializer costs nothing but a bounds check.
 *
 * Every error is an Int8DetectError('ERR_MODEL') that names the absolute byte offset, so a
 * truncated or foreign file is reported as "truncated at byte N" rather than a RangeError.
 */
import { Int8DetectError } from '../util/errors';

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;

const textDecoder = new TextDecoder('utf-8');

export class ProtoReader {
  /** Absolute offset of the next unread byte. */
  pos: number;
  /** Field number and wire type of the field whose tag `next()` just read. */
  field = 0;
  wireType = 0;
  /** Absolute offset of that field's tag. */
  fieldStart = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  /** Read the next field's tag; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    this.fieldStart = this.pos;
    const tag = this.varint();
    this.field = Math.floor(tag / 8);
    this.wireType = tag % 8;
    if (this.field === 0) throw this.error(`field number 0 at byte ${this.fieldStart}`);
    if (this.wireType === WireType.StartGroup || this.wireType === WireType.EndGroup || this.wireType > 5) {
      throw this.error(`unsupported wire type ${this.wireType} at byte ${this.fieldStart}`);
    }
    return true;
  }

  /**
   * An unsigned varint as a number. Values above 2^53 (only negative int64s in practice, which
   * take 10 bytes) go through BigInt so they come back as their signed 64-bit value.
   */
  varint(): number {
    const b = this.bytes;
    let result = 0;
    let multiplier = 1;
    const begin = this.pos;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw this.truncated(begin, 'a varint');
      const byte = b[this.pos++];
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    // Longer than 49 bits: finish in BigInt and read it back as a signed int64.
    let big = BigInt(result);
    let shift = 49n;
    for (let i = 7; i < 10; i++) {
      if (this.pos >= this.end) throw this.truncated(begin, 'a varint');
      const byte = b[this.pos++];
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return Number(BigInt.asIntN(64, big));
      shift += 7n;
    }
    throw this.error(`varint longer than 10 bytes at byte ${begin}`);
  }

  /** A varint field read as a signed int64 (int64 and int32 fields encode negatives in 10 bytes). */
  int64(): number {
    this.expectWireType(WireType.Varint);
    return this.varint();
  }

  /** The raw bytes of a length-delimited field, as a view (no copy). */
  bytesField(): Uint8Array {
    const [from, to] = this.lengthDelimitedRange();
    return this.bytes.subarray(from, to);
  }

  string(): string {
    return textDecoder.decode(this.bytesField());
  }

  /** A reader over an embedded message. */
  message(): ProtoReader {
    const [from, to] = this.lengthDelimitedRange();
    return new ProtoReader(this.bytes, from, to);
  }

  /** Skip the value of the field whose tag was just read. */
  skip(): void {
    switch (this.wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      case WireType.LengthDelimited:
        this.lengthDelimitedRange();
        return;
      default:
        throw this.error(`unsupported wire type ${this.wireType} at byte ${this.fieldStart}`);
    }
  }

  /** Fail unless the current field has the wire type its schema declares. */
  expectWireType(wireType: number): void {
    if (this.wireType !== wireType) {
      throw this.error(`field ${this.field} at byte ${this.fieldStart} has wire type ${this.wireType}, expected ${wireType}`);
    }
  }

  private lengthDelimitedRange(): [number, number] {
    this.expectWireType(WireType.LengthDelimited);
    const length = this.varint();
    const from = this.pos;
    if (length < 0 || from + length > this.end) {
      throw this.truncated(this.fieldStart, `field ${this.field} (${length} bytes from byte ${from})`);
    }
    this.pos = from + length;
    return [from, this.pos];
  }

  private advance(count: number): void {
    if (this.pos + count > this.end) throw this.truncated(this.fieldStart, `field ${this.field} (${count} bytes)`);
    this.pos += count;
  }

  private truncated(begin: number, what: string): Int8DetectError {
    // When the enclosing range is the whole buffer, the data simply stops; otherwise an
    // embedded message's declared length is shorter than what it contains.
    const where = this.end === this.bytes.length ? `truncated at byte ${this.end}` : `message ending at byte ${this.end} cut short`;
    return this.error(`${where}: ${what} starting at byte ${begin} runs past the end`);
  }

  private error(message: string): Int8DetectError {
    return new Int8DetectError('ERR_MODEL', message);
  }
}
