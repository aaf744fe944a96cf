/**
 * Builds small ONNX models in memory for tests that need a model of a given output shape, or a
 * fast one (the leak test runs it 10,000 times). Protobuf is written by hand: a few fields only.
 *
 * The model: output = ReduceMean(images) * scale + bias, with `scale` and `bias` initializers of
 * the output's shape. Its output depends on the frame, it costs almost nothing, and `bias` sets
 * what the decoder sees.
 */
class Writer {
  private readonly bytes: number[] = [];

  varint(value: number | bigint): this {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n;
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      this.bytes.push(byte);
    } while (v > 0n);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(value);
  }

  bytesField(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytesField(field, Buffer.from(text, 'utf8'));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const FLOAT = 1;

function valueInfo(w: Writer, field: number, name: string, dims: readonly (number | string)[]): void {
  w.message(field, (v) => {
    v.string(1, name);
    v.message(2, (type) =>
      type.message(1, (tensor) => {
        tensor.int(1, FLOAT);
        tensor.message(2, (shape) => {
          for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        });
      }),
    );
  });
}

function initializer(w: Writer, name: string, dims: readonly number[], values: Float32Array): void {
  w.message(5, (t) => {
    for (const d of dims) t.int(1, d);
    t.int(2, FLOAT);
    t.string(8, name);
    t.bytesField(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  });
}

export interface TinyModelOptions {
  inputDims: readonly (number | string)[];
  outputDims: readonly number[];
  /** What every output element equals before the frame-dependent term (default 0). */
  bias?: Float32Array;
  /** Weight of the frame's mean pixel value in each output element (default 0). */
  scale?: Float32Array;
  outputName?: string;
  /** The output shape the model declares, when it should differ from outputDims (symbolic dimensions). */
  declaredOutputDims?: readonly (number | string)[];
  metadata?: Record<string, string>;
  opset?: number;
}

export function tinyModel(options: TinyModelOptions): Uint8Array {
  const count = options.outputDims.reduce((a, b) => a * b, 1);
  const bias = options.bias ?? new Float32Array(count);
  const scale = options.scale ?? new Float32Array(count);
  if (bias.length !== count || scale.length !== count) throw new Error(`bias and scale need ${count} values`);
  const outputName = options.outputName ?? 'output';
  const model = new Writer();
  model.int(1, 8); // ir_version
  model.string(2, 'int8-detect-tests');
  model.message(8, (o) => o.string(1, '').int(2, options.opset ?? 13));
  model.message(7, (g) => {
    g.message(1, (n) => n.string(1, 'images').string(2, 'mean').string(3, 'mean').string(4, 'ReduceMean').message(5, (a) => a.string(1, 'keepdims').int(3, 0).int(20, 2)));
    g.message(1, (n) => n.string(1, 'mean').string(1, 'scale').string(2, 'scaled').string(3, 'mul').string(4, 'Mul'));
    g.message(1, (n) => n.string(1, 'scaled').string(1, 'bias').string(2, outputName).string(3, 'add').string(4, 'Add'));
    g.string(2, 'tiny');
    initializer(g, 'scale', options.outputDims, scale);
    initializer(g, 'bias', options.outputDims, bias);
    valueInfo(g, 11, 'images', options.inputDims);
    valueInfo(g, 12, outputName, options.declaredOutputDims ?? options.outputDims);
  });
  for (const [key, value] of Object.entries(options.metadata ?? {})) model.message(14, (m) => m.string(1, key).string(2, value));
  return model.finish();
}

/** Grid cells of a detection head at strides 8, 16 and 32 for an input size. */
export function gridCells(width: number, height: number): number {
  return [8, 16, 32].reduce((n, s) => n + (width / s) * (height / s), 0);
}
