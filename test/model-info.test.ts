import test from 'ava';
import * as fs from 'node:fs';
import { readModelInfo } from '../lib/onnx/model-info';
import { ProtoReader } from '../lib/onnx/protobuf';
import { models } from './helpers/fixtures';

const yoloxBytes = fs.readFileSync(models.yoloxNano);
const yolov8Bytes = fs.readFileSync(models.yolov8n);

test('reads the YOLOX-Nano fixture: versions, opset, input and output', (t) => {
  const info = readModelInfo(yoloxBytes);
  t.is(info.irVersion, 7);
  t.is(info.producerName, 'pytorch');
  t.is(info.producerVersion, '1.10');
  t.deepEqual(info.opsetImports, [{ domain: '', version: 11 }]);
  t.deepEqual(info.metadata, {});
  t.deepEqual(info.inputs, [{ name: 'images', elemType: 1, type: 'float32', dims: [1, 3, 416, 416] }]);
  t.deepEqual(info.outputs, [{ name: 'output', elemType: 1, type: 'float32', dims: [1, 3549, 85] }]);
});

test('reads the YOLOv8n fixture, including its Ultralytics metadata', (t) => {
  const info = readModelInfo(yolov8Bytes);
  t.is(info.irVersion, 9);
  t.deepEqual(info.opsetImports, [{ domain: '', version: 20 }]);
  t.is(info.metadata.task, 'detect');
  t.is(info.metadata.stride, '32');
  t.is(info.metadata.imgsz, '[640, 640]');
  t.is(info.metadata.author, 'Ultralytics');
  t.regex(info.metadata.description, /Ultralytics YOLOv8n/);
  t.true(info.metadata.names.startsWith("{0: 'person', 1: 'bicycle'"));
  t.true(info.metadata.names.endsWith("79: 'toothbrush'}"));
  t.deepEqual(info.inputs, [{ name: 'images', elemType: 1, type: 'float32', dims: [1, 3, 640, 640] }]);
  t.deepEqual(info.outputs, [{ name: 'output0', elemType: 1, type: 'float32', dims: [1, 84, 8400] }]);
});

/** Deterministic pseudo-random bytes. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s >>> 16;
  }
  return out;
}

test('random bytes are reported as not an ONNX model', (t) => {
  for (let seed = 1; seed <= 50; seed++) {
    const err = t.throws(() => readModelInfo(randomBytes(4096, seed)));
    t.is((err as { code?: string }).code, 'ERR_MODEL');
    t.regex(err!.message, /^Not an ONNX model \(4096 bytes\): /);
  }
  const empty = t.throws(() => readModelInfo(new Uint8Array(0)));
  t.regex(empty!.message, /Not an ONNX model: the file is empty/);
  const text = t.throws(() => readModelInfo(new TextEncoder().encode('this is plain text, not a model\n')));
  t.regex(text!.message, /^Not an ONNX model/);
});

test('a truncated copy of a fixture is reported as cut short at its last byte', (t) => {
  for (const bytes of [yoloxBytes, yolov8Bytes]) {
    for (const length of [30, 1000, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const err = t.throws(() => readModelInfo(bytes.subarray(0, length)));
      t.is((err as { code?: string }).code, 'ERR_MODEL');
      t.regex(err!.message, new RegExp(`^Not a complete ONNX model \\(${length} bytes\\): truncated at byte ${length}:`));
    }
  }
});

test('an argument that is not bytes is refused', (t) => {
  const err = t.throws(() => readModelInfo('model.onnx' as unknown as Uint8Array));
  t.is((err as { code?: string }).code, 'ERR_ARGUMENT');
});

// A hand-written ModelProto for what the fixtures do not contain.
const varint = (v: number | bigint): number[] => {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    out.push(n > 0n ? byte | 0x80 : byte);
  } while (n > 0n);
  return out;
};
const field = (num: number, value: number | bigint) => [...varint(num * 8), ...varint(value)];
const bytesField = (num: number, content: number[] | string) => {
  const body = typeof content === 'string' ? Array.from(new TextEncoder().encode(content)) : content;
  return [...varint(num * 8 + 2), ...varint(body.length), ...body];
};
const dim = (d: number | string) => bytesField(1, typeof d === 'number' ? field(1, d) : bytesField(2, d));
/** A ValueInfoProto: name, then TypeProto { tensor_type { elem_type, shape } }. */
const valueInfo = (name: string, elemType: number, dims: (number | string)[] | null) => [
  ...bytesField(1, name),
  ...bytesField(2, bytesField(1, [...field(1, elemType), ...(dims ? bytesField(2, dims.flatMap(dim)) : [])])),
];

function syntheticModel(): Uint8Array {
  const graph = [
    ...bytesField(1, [...bytesField(1, 'x'), ...bytesField(4, 'Conv')]), // a node, skipped
    ...bytesField(5, [...field(1, 16), ...field(2, 1), ...bytesField(8, 'conv.weight'), ...bytesField(9, [0, 0, 128, 63])]),
    ...bytesField(11, valueInfo('images', 2, ['batch', 640, 640, 3])),
    ...bytesField(11, valueInfo('conv.weight', 1, [16])),
    ...bytesField(12, valueInfo('output0', 1, [-1, 84, 'anchors'])),
    ...bytesField(12, valueInfo('extra', 10, null)),
  ];
  return new Uint8Array([
    ...field(1, 8),
    ...bytesField(2, 'hand'),
    ...bytesField(3, '0.0'),
    ...field(5, 42), // model_version, skipped
    ...bytesField(7, graph),
    ...bytesField(8, [...bytesField(1, ''), ...field(2, 17)]),
    ...bytesField(8, [...bytesField(1, 'com.microsoft'), ...field(2, 1)]),
    ...bytesField(14, [...bytesField(1, 'names'), ...bytesField(2, "{0: 'a'}")]),
    ...field(21, 5), // a field a newer ONNX might add: skipped
  ]);
}

test('symbolic and negative dims, uint8 and float16 types, and initializers listed as inputs', (t) => {
  const info = readModelInfo(syntheticModel());
  t.is(info.irVersion, 8);
  t.is(info.producerName, 'hand');
  t.deepEqual(info.opsetImports, [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ]);
  t.deepEqual(info.metadata, { names: "{0: 'a'}" });
  // conv.weight is an initializer, not something to feed.
  t.deepEqual(info.inputs, [{ name: 'images', elemType: 2, type: 'uint8', dims: ['batch', 640, 640, 3] }]);
  t.deepEqual(info.outputs, [
    { name: 'output0', elemType: 1, type: 'float32', dims: [-1, 84, 'anchors'] },
    { name: 'extra', elemType: 10, type: 'float16', dims: null },
  ]);
});

test('a model without a graph or ir_version is not a model', (t) => {
  const noGraph = new Uint8Array([...field(1, 8), ...bytesField(2, 'x')]);
  t.regex(t.throws(() => readModelInfo(noGraph))!.message, /it has no graph/);
  const noVersion = new Uint8Array([...bytesField(2, 'x'), ...bytesField(7, [])]);
  t.regex(t.throws(() => readModelInfo(noVersion))!.message, /no valid ir_version/);
});

test('the wire reader decodes varints up to 64 bits, including negative int64', (t) => {
  const bytes = new Uint8Array([...field(1, 300), ...field(2, -1), ...field(3, 2 ** 40), ...field(4, -123456789)]);
  const r = new ProtoReader(bytes);
  const values: number[] = [];
  while (r.next()) values.push(r.int64());
  t.deepEqual(values, [300, -1, 2 ** 40, -123456789]);
  const wrongType = new ProtoReader(new Uint8Array(bytesField(1, 'abc')));
  wrongType.next();
  t.regex(t.throws(() => wrongType.int64())!.message, /field 1 at byte 0 has wire type 2, expected 0/);
  const group = new ProtoReader(new Uint8Array([(5 << 3) | 3]));
  t.regex(t.throws(() => group.next())!.message, /unsupported wire type 3 at byte 0/);
});
