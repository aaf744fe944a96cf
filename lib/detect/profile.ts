/**
 * A model's profile: which decoder reads it, how its input must be prepared, and its class names,
 * worked out from the ONNX file alone (shapes and metadata), with every choice open to override
 * and explained in one sentence.
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import type { ModelInfo } from '../onnx/model-info';
import {
  createDecoder,
  DEFAULT_STRIDES,
  DETECTOR_FAMILIES,
  formatDims,
  recogniseHead,
  type Decoder,
  type TensorShape,
  type Yolov8Layout,
} from './decoders/index';
import { resolveLabels, parseUltralyticsNames } from './labels';
import type { DetectorFamily, PreprocessSpec } from './types';

export interface ModelOverrides {
  /** Skip recognition and use this decoder. */
  family?: DetectorFamily;
  /** For yolov8: 'channels-first' [1, 4+C, N] or 'anchors-first' [1, N, 4+C], when the shape does not tell. */
  outputLayout?: Yolov8Layout;
  /** Any preprocessing field; the rest still come from the model. */
  preprocess?: Partial<PreprocessSpec>;
  /** Class names in class order, or the path of a labels file (lines, JSON array or JSON object). */
  labels?: readonly string[] | string;
}

export interface ModelProfileQuery {
  info: ModelInfo;
  /** The model's inputs and outputs as the runtime reports them; default: the ones in `info`. */
  inputs?: readonly TensorShape[];
  outputs?: readonly TensorShape[];
  overrides?: ModelOverrides;
}

export interface ModelProfile {
  family: DetectorFamily;
  decoder: Decoder;
  preprocess: PreprocessSpec;
  labels: string[];
  /** One sentence saying how each choice was made. */
  reason: string;
  /** The output the decoder reads. */
  outputName: string;
  /** The input the preprocessed image is fed to. */
  inputName: string;
  numClasses: number;
}

const DEFAULT_INPUT_SIZE = 640;
const ULTRALYTICS_KEYS = ['names', 'stride', 'imgsz', 'task'];

/** Ultralytics exports say so in their description/author, or carry at least two of its metadata keys. */
export function hasUltralyticsMetadata(metadata: Record<string, string>): boolean {
  if (/ultralytics/i.test(`${metadata.description ?? ''} ${metadata.author ?? ''}`)) return true;
  return ULTRALYTICS_KEYS.filter((key) => key in metadata).length >= 2;
}

export function resolveModelProfile(query: ModelProfileQuery): ModelProfile {
  const { info } = query;
  const overrides = validateOverrides(query.overrides ?? {});
  const metadata = info.metadata ?? {};
  const inputs = query.inputs ?? info.inputs;
  const outputs = query.outputs ?? info.outputs;
  const ultralytics = hasUltralyticsMetadata(metadata);

  if (overrides.family === undefined && ultralytics && metadata.task !== undefined && metadata.task !== 'detect') {
    throw new Int8DetectError(
      'ERR_DECODER',
      `This is an Ultralytics "${metadata.task}" model; only detection heads (task "detect") are decoded. ` +
        `Pass family if its output really is a plain detection head.`,
    );
  }

  const input = pickImageInput(inputs);
  const geometry = inputGeometry(input, metadata, overrides.preprocess ?? {});
  const names = metadata.names !== undefined ? parseUltralyticsNames(metadata.names) : null;
  const head = recogniseHead({
    outputs,
    inputWidth: geometry.width,
    inputHeight: geometry.height,
    strides: stridesFromMetadata(metadata),
    ultralytics,
    namesCount: names?.size,
    family: overrides.family,
    layout: overrides.outputLayout,
  });
  const numClasses = head.numClasses ?? names?.size;
  if (numClasses === undefined || numClasses < 1) {
    throw new Int8DetectError(
      'ERR_DECODER',
      `Cannot tell how many classes ${head.outputName} scores: its shape ${formatDims(outputs.find((o) => o.name === head.outputName)?.dims ?? null)} ` +
        `leaves it symbolic and the model has no names metadata; pass labels with one name per class`,
    );
  }

  const ultralyticsFamily = head.family !== 'yolox';
  const preprocess: PreprocessSpec = {
    width: geometry.width,
    height: geometry.height,
    layout: geometry.layout,
    dtype: geometry.dtype,
    channelOrder: geometry.channels === 1 ? 'gray' : ultralyticsFamily ? 'rgb' : 'bgr',
    scale: ultralyticsFamily ? 1 / 255 : 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    padValue: 114,
    placement: ultralyticsFamily ? 'center' : 'topleft',
    ...overrides.preprocess,
  };
  const labels = resolveLabels({ numClasses, override: overrides.labels, metadata });
  const decoder = createDecoder(head.family, { layout: head.layout, strides: stridesFromMetadata(metadata) });

  const preprocessWords = ultralyticsFamily
    ? `Ultralytics preprocessing (${preprocess.channelOrder.toUpperCase()}, /255, centred letterbox padded with 114)`
    : `YOLOX preprocessing (${preprocess.channelOrder.toUpperCase()}, raw 0..255, top-left letterbox padded with 114)`;
  // The size has its own words (sizeSource); the other overridden fields are listed here.
  const overridden = Object.keys(overrides.preprocess ?? {}).filter((key) => key !== 'width' && key !== 'height');
  const overrideWords = overridden.length > 0 ? ` with ${overridden.join(', ')} from the options` : '';
  const reason =
    `${head.evidence}; ${preprocessWords}${overrideWords} at ${preprocess.width}x${preprocess.height} ${geometry.sizeSource}; ` +
    `${labels.description}.`;

  return {
    family: head.family,
    decoder,
    preprocess,
    labels: labels.labels,
    reason,
    outputName: head.outputName,
    inputName: input.name,
    numClasses,
  };
}

/** The image input: the only input, else the first of rank 4. */
function pickImageInput(inputs: readonly TensorShape[]): TensorShape {
  const input = inputs.length === 1 ? inputs[0] : inputs.find((i) => i.dims?.length === 4);
  if (!input) {
    const list = inputs.map((i) => `${i.name} ${formatDims(i.dims)}`).join(', ') || 'none';
    throw new Int8DetectError('ERR_MODEL', `Cannot find the image input among the model's inputs (${list}): expected one [1, 3, H, W] or [1, H, W, 3] tensor`);
  }
  return input;
}

interface InputGeometry {
  width: number;
  height: number;
  layout: 'nchw' | 'nhwc';
  dtype: 'float32' | 'uint8';
  channels: number;
  /** Where the size came from, for the reason. */
  sizeSource: string;
}

function inputGeometry(input: TensorShape, metadata: Record<string, string>, preprocess: Partial<PreprocessSpec>): InputGeometry {
  const dims = input.dims;
  if (!dims || dims.length !== 4) {
    throw new Int8DetectError('ERR_MODEL', `The model input ${input.name} ${formatDims(dims)} is not an image tensor: expected [1, 3, H, W] or [1, H, W, 3]`);
  }
  const dim = (i: number) => (typeof dims[i] === 'number' && (dims[i] as number) > 0 ? (dims[i] as number) : undefined);
  const channelsLast = dim(1) !== 1 && dim(1) !== 3 && (dim(3) === 1 || dim(3) === 3);
  const layout = preprocess.layout ?? (channelsLast ? 'nhwc' : 'nchw');
  const [c, h, w] = layout === 'nchw' ? [dim(1), dim(2), dim(3)] : [dim(3), dim(1), dim(2)];
  const imgsz = parseImgsz(metadata.imgsz);

  let height = h ?? imgsz?.[0] ?? DEFAULT_INPUT_SIZE;
  let width = w ?? imgsz?.[1] ?? DEFAULT_INPUT_SIZE;
  let sizeSource =
    h !== undefined && w !== undefined
      ? `from the input ${input.name} ${formatDims(dims)}`
      : imgsz
        ? `from the imgsz metadata (the input ${input.name} ${formatDims(dims)} is symbolic)`
        : `by default (the input ${input.name} ${formatDims(dims)} is symbolic and there is no imgsz metadata)`;
  for (const [key, fixed] of [['width', w], ['height', h]] as const) {
    const wanted = preprocess[key];
    if (wanted !== undefined && fixed !== undefined && wanted !== fixed) {
      throw invalidArgument(`the model's fixed input ${key} ${fixed} (or no ${key})`, `preprocess.${key}`, wanted);
    }
  }
  if (preprocess.width !== undefined || preprocess.height !== undefined) {
    width = preprocess.width ?? width;
    height = preprocess.height ?? height;
    sizeSource = 'from the options';
  }

  const type = input.type;
  const dtype = preprocess.dtype ?? (type === 'uint8' ? 'uint8' : 'float32');
  if (preprocess.dtype === undefined && type !== undefined && type !== 'float32' && type !== 'uint8' && type !== 'undefined') {
    throw new Int8DetectError('ERR_MODEL', `The model input ${input.name} is ${type}: only float32 and uint8 image inputs are supported`);
  }
  return { width, height, layout, dtype, channels: c ?? 3, sizeSource };
}

/** Ultralytics writes imgsz as "[640, 640]" (height, width) or a single "640". */
function parseImgsz(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const numbers = value.match(/\d+/g)?.map(Number) ?? [];
  if (numbers.length === 1 && numbers[0] > 0) return [numbers[0], numbers[0]];
  if (numbers.length === 2 && numbers[0] > 0 && numbers[1] > 0) return [numbers[0], numbers[1]];
  return undefined;
}

/** The head's strides: 8, 16, 32, extended to 64 (P6 models) when the metadata's maximum stride says so. */
function stridesFromMetadata(metadata: Record<string, string>): number[] {
  const strides = [...DEFAULT_STRIDES];
  const max = Number(metadata.stride);
  if (Number.isInteger(max)) {
    while (strides[strides.length - 1] < max && strides.length < 6) strides.push(strides[strides.length - 1] * 2);
  }
  return strides;
}

const PREPROCESS_CHOICES: { [K in keyof PreprocessSpec]: (v: unknown) => boolean } & Record<string, (v: unknown) => boolean> = {
  width: (v) => Number.isInteger(v) && (v as number) > 0,
  height: (v) => Number.isInteger(v) && (v as number) > 0,
  layout: (v) => v === 'nchw' || v === 'nhwc',
  dtype: (v) => v === 'float32' || v === 'uint8',
  channelOrder: (v) => v === 'rgb' || v === 'bgr' || v === 'gray',
  scale: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
  mean: (v) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x)),
  std: (v) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0),
  padValue: (v) => typeof v === 'number' && v >= 0 && v <= 255,
  placement: (v) => v === 'topleft' || v === 'center',
};

const PREPROCESS_EXPECTED: Record<keyof PreprocessSpec, string> = {
  width: 'a positive integer',
  height: 'a positive integer',
  layout: "'nchw' or 'nhwc'",
  dtype: "'float32' or 'uint8'",
  channelOrder: "'rgb', 'bgr' or 'gray'",
  scale: 'a positive number',
  mean: 'an array of 3 finite numbers',
  std: 'an array of 3 positive numbers',
  padValue: 'a number in 0..255',
  placement: "'topleft' or 'center'",
};

function validateOverrides(overrides: ModelOverrides): ModelOverrides {
  if (overrides === null || typeof overrides !== 'object') throw invalidArgument('an object', 'overrides', overrides);
  const { family, outputLayout, preprocess, labels } = overrides;
  if (family !== undefined && !DETECTOR_FAMILIES.includes(family)) {
    throw invalidArgument(`one of ${DETECTOR_FAMILIES.map((f) => `'${f}'`).join(', ')}`, 'family', family);
  }
  if (outputLayout !== undefined && outputLayout !== 'channels-first' && outputLayout !== 'anchors-first') {
    throw invalidArgument("'channels-first' or 'anchors-first'", 'outputLayout', outputLayout);
  }
  if (preprocess !== undefined) {
    if (preprocess === null || typeof preprocess !== 'object') throw invalidArgument('an object', 'preprocess', preprocess);
    for (const [key, value] of Object.entries(preprocess)) {
      if (value === undefined) continue;
      const check = PREPROCESS_CHOICES[key];
      if (!check) {
        throw invalidArgument(`one of ${Object.keys(PREPROCESS_EXPECTED).join(', ')}`, 'a preprocess option name', key);
      }
      if (!check(value)) throw invalidArgument(PREPROCESS_EXPECTED[key as keyof PreprocessSpec], `preprocess.${key}`, value);
    }
  }
  if (labels !== undefined && typeof labels !== 'string' && !Array.isArray(labels)) {
    throw invalidArgument('an array of class names or a labels file path', 'labels', labels);
  }
  // Drop keys set to undefined so spreading the overrides cannot erase a default.
  const cleanPreprocess = preprocess && Object.fromEntries(Object.entries(preprocess).filter(([, v]) => v !== undefined));
  return { family, outputLayout, preprocess: cleanPreprocess, labels };
}
