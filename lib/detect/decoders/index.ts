/**
 * The decoder registry, and recognition of a detector head from its output shapes: the grid a
 * model's input size implies tells the heads apart (YOLOv8 has one anchor point per cell in
 * [1, 4 + C, N], YOLOv5 three anchors per cell in [1, 3N, 5 + C], YOLOX one per cell in
 * [1, N, 5 + C]).
 */
import { Int8DetectError } from '../../util/errors';
import type { DetectorFamily } from '../types';
import type { Decoder } from './types';
import { createYolov5Decoder } from './yolov5';
import { createYolov8Decoder, type Yolov8Layout } from './yolov8';
import { createYoloxDecoder, DEFAULT_STRIDES, gridCellCount } from './yolox';

export type { Yolov8Layout } from './yolov8';
export { gridCellCount, DEFAULT_STRIDES } from './yolox';

export type { DecodeOptions, Decoder } from './types';

export const DETECTOR_FAMILIES: readonly DetectorFamily[] = ['yolox', 'yolov5', 'yolov8'];

export interface DecoderSettings {
  /** YOLOv8 only: which way round the output is (default 'channels-first', the Ultralytics export). */
  layout?: Yolov8Layout;
  /** YOLOX only: the strides of its grid (default 8, 16, 32). */
  strides?: readonly number[];
}

export function createDecoder(family: DetectorFamily, settings: DecoderSettings = {}): Decoder {
  switch (family) {
    case 'yolox':
      return createYoloxDecoder(settings.strides ?? DEFAULT_STRIDES);
    case 'yolov5':
      return createYolov5Decoder();
    case 'yolov8':
      return createYolov8Decoder(settings.layout ?? 'channels-first');
    default:
      throw new Int8DetectError('ERR_DECODER', `No decoder for family "${String(family)}": use one of ${DETECTOR_FAMILIES.join(', ')}`);
  }
}

/** A tensor's name and shape; a dimension that is a string (or not a positive number) is symbolic. */
export interface TensorShape {
  name: string;
  dims: readonly (number | string)[] | null;
  /** Element type in ONNX Runtime's words ('float32', 'uint8'), when known. */
  type?: string;
}

export interface HeadQuery {
  outputs: readonly TensorShape[];
  inputWidth: number;
  inputHeight: number;
  strides: readonly number[];
  /** Whether the model carries Ultralytics metadata. */
  ultralytics: boolean;
  /** How many names the model's metadata lists, when it does. */
  namesCount?: number;
  /** Set by the user: skip recognition of the family. */
  family?: DetectorFamily;
  /** Set by the user: which way round a YOLOv8 output is. */
  layout?: Yolov8Layout;
}

export interface RecognisedHead {
  family: DetectorFamily;
  /** Set for yolov8 only. */
  layout?: Yolov8Layout;
  outputName: string;
  /** Classes the head scores, or undefined when the shape leaves it symbolic. */
  numClasses: number | undefined;
  /** How the family was chosen, as the start of the profile's reason. */
  evidence: string;
}

export function formatDims(dims: readonly (number | string)[] | null): string {
  return dims ? `[${dims.join(',')}]` : '[unknown shape]';
}

function known(dim: number | string | undefined): number | undefined {
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

/** [batch, a, b] with batch 1 or symbolic: the two dimensions that matter, or null for other shapes. */
function headDims(dims: readonly (number | string)[] | null): { a: number | undefined; b: number | undefined } | null {
  if (!dims || dims.length !== 3) return null;
  const batch = known(dims[0]);
  if (batch !== undefined && batch !== 1) return null;
  return { a: known(dims[1]), b: known(dims[2]) };
}

/** Choose the decoder family, the output it reads and the class count; throws ERR_DECODER when nothing fits. */
export function recogniseHead(query: HeadQuery): RecognisedHead {
  const cells = gridCellCount(query.inputWidth, query.inputHeight, query.strides);
  if (query.family !== undefined) {
    if (!DETECTOR_FAMILIES.includes(query.family)) {
      throw new Int8DetectError('ERR_DECODER', `No decoder for family "${String(query.family)}": use one of ${DETECTOR_FAMILIES.join(', ')}`);
    }
    return headForFamily(query, query.family, cells);
  }
  for (const output of query.outputs) {
    const head = recogniseOutput(query, output, cells);
    if (head) return head;
  }
  throw unrecognisedError(query, cells);
}

function recogniseOutput(query: HeadQuery, output: TensorShape, cells: number): RecognisedHead | null {
  const d = headDims(output.dims);
  if (!d) return null;
  const { a, b } = d;
  const shape = `${output.name} ${formatDims(output.dims)}`;
  const meta = query.ultralytics ? ' and Ultralytics metadata' : '';
  if (a !== undefined && a > 4 && b === cells) {
    return { family: 'yolov8', layout: 'channels-first', outputName: output.name, numClasses: a - 4, evidence: `yolov8 head recognised from ${shape}${meta}` };
  }
  // A dynamic export leaves the anchor count symbolic: then the names count must confirm 4 + C.
  if (query.ultralytics && a !== undefined && b === undefined && query.namesCount === a - 4) {
    return {
      family: 'yolov8',
      layout: 'channels-first',
      outputName: output.name,
      numClasses: a - 4,
      evidence: `yolov8 head recognised from ${shape}, whose ${a} rows are 4 box values and the ${query.namesCount} classes named in its Ultralytics metadata`,
    };
  }
  if (a === 3 * cells && b !== undefined && b > 5) {
    return { family: 'yolov5', outputName: output.name, numClasses: b - 5, evidence: `yolov5 head recognised from ${shape} (3 anchors per grid cell)${meta}` };
  }
  if (a === cells && b !== undefined && b > 5) {
    if (query.ultralytics) {
      return {
        family: 'yolov8',
        layout: 'anchors-first',
        outputName: output.name,
        numClasses: b - 4,
        evidence: `yolov8 head (transposed, one row per anchor) recognised from ${shape} and Ultralytics metadata`,
      };
    }
    return {
      family: 'yolox',
      outputName: output.name,
      numClasses: b - 5,
      evidence: `yolox head recognised from ${shape} (one row per grid cell, no Ultralytics metadata)`,
    };
  }
  return null;
}

function headForFamily(query: HeadQuery, family: DetectorFamily, cells: number): RecognisedHead {
  const output = query.outputs.find((o) => headDims(o.dims) !== null) ?? query.outputs[0];
  if (!output) throw new Int8DetectError('ERR_DECODER', 'The model has no outputs to decode');
  const d = headDims(output.dims) ?? { a: undefined, b: undefined };
  const shape = `${output.name} ${formatDims(output.dims)}`;
  if (family === 'yolox') {
    return { family, outputName: output.name, numClasses: d.b !== undefined ? d.b - 5 : undefined, evidence: `yolox head as the family option says, reading ${shape}` };
  }
  if (family === 'yolov5') {
    return { family, outputName: output.name, numClasses: d.b !== undefined ? d.b - 5 : undefined, evidence: `yolov5 head as the family option says, reading ${shape}` };
  }
  const layout = query.layout ?? yolov8Layout(d.a, d.b, cells, query.namesCount);
  if (!layout) {
    throw new Int8DetectError(
      'ERR_DECODER',
      `Cannot tell which way round the yolov8 output ${shape} is: neither dimension is the ${cells} grid cells of a ` +
        `${query.inputWidth}x${query.inputHeight} input. Pass outputLayout: 'channels-first' for [1, 4+C, N] or 'anchors-first' for [1, N, 4+C].`,
    );
  }
  const features = layout === 'channels-first' ? d.a : d.b;
  const how = query.layout ? `the outputLayout option (${layout})` : `its shape (${layout})`;
  return {
    family,
    layout,
    outputName: output.name,
    numClasses: features !== undefined ? features - 4 : undefined,
    evidence: `yolov8 head as the family option says, reading ${shape} laid out as ${how}`,
  };
}

function yolov8Layout(a: number | undefined, b: number | undefined, cells: number, namesCount: number | undefined): Yolov8Layout | undefined {
  if (b === cells && a !== cells) return 'channels-first';
  if (a === cells && b !== cells) return 'anchors-first';
  // One side symbolic: the fixed side is the 4 + C features.
  if (a !== undefined && b === undefined) return 'channels-first';
  if (a === undefined && b !== undefined) return 'anchors-first';
  if (namesCount !== undefined) {
    if (a === namesCount + 4 && b !== namesCount + 4) return 'channels-first';
    if (b === namesCount + 4 && a !== namesCount + 4) return 'anchors-first';
  }
  return undefined;
}

function unrecognisedError(query: HeadQuery, cells: number): Int8DetectError {
  const outputs = query.outputs.length > 0 ? query.outputs.map((o) => `${o.name} ${formatDims(o.dims)}`).join(', ') : 'none';
  const strides = query.strides.join(', ');
  return new Int8DetectError(
    'ERR_DECODER',
    `No decoder recognises this model's output ${outputs} (input ${query.inputWidth}x${query.inputHeight}: ` +
      `${cells} grid cells at strides ${strides}). Recognised shapes: [1, 4+C, ${cells}] (yolov8/YOLO11), ` +
      `[1, ${3 * cells}, 5+C] (yolov5), [1, ${cells}, 5+C] (yolox) and [1, ${cells}, 4+C] with Ultralytics metadata ` +
      `(yolov8 transposed). If the model has one of these heads, pass family: 'yolox' | 'yolov5' | 'yolov8' ` +
      `(and outputLayout for a transposed yolov8) to choose its decoder.`,
  );
}
