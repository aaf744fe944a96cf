/**
 * Per-frame preprocessing: TypeScript decides the letterbox geometry and fills every field of a
 * native job; the core addon executes it straight into the model's input tensor, inline for small
 * frames and on a worker thread for large ones.
 */
import { config } from '../util/config';
import { Int8DetectError, invalidArgument, withCallerStack } from '../util/errors';
import type { ValidatedFrame } from '../image/frame';
import { loadCoreAddon, type NativePreprocessJob } from '../native/core-addon';
import { letterboxGeometry } from './letterbox';
import type { LetterboxGeometry, PreprocessSpec } from './types';

/** Elements in one input tensor of this spec (one image, no batch). */
export function tensorSize(spec: PreprocessSpec): number {
  return spec.width * spec.height * (spec.channelOrder === 'gray' ? 1 : 3);
}

function checkOneOf<T extends string>(value: T, allowed: readonly T[], name: string): void {
  if (!allowed.includes(value)) throw invalidArgument(`one of ${allowed.map((a) => `'${a}'`).join(', ')}`, name, value);
}

function checkFinite(value: unknown, name: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArgument('a finite number', name, value);
}

function checkTriple(value: unknown, name: string, nonZero: boolean): void {
  if (!Array.isArray(value) || value.length !== 3) throw invalidArgument('an array of 3 numbers', name, value);
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (nonZero && v === 0)) {
      throw invalidArgument(nonZero ? 'a finite non-zero number' : 'a finite number', `${name}[${i}]`, v);
    }
  });
}

function checkSpec(spec: PreprocessSpec): void {
  for (const key of ['width', 'height'] as const) {
    const v = spec[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw invalidArgument('a positive integer', `spec.${key}`, v);
  }
  checkOneOf(spec.layout, ['nchw', 'nhwc'], 'spec.layout');
  checkOneOf(spec.dtype, ['float32', 'uint8'], 'spec.dtype');
  checkOneOf(spec.channelOrder, ['rgb', 'bgr', 'gray'], 'spec.channelOrder');
  checkOneOf(spec.placement, ['topleft', 'center'], 'spec.placement');
  checkFinite(spec.scale, 'spec.scale');
  checkTriple(spec.mean, 'spec.mean', false);
  checkTriple(spec.std, 'spec.std', true);
  if (typeof spec.padValue !== 'number' || !(spec.padValue >= 0 && spec.padValue <= 255)) {
    throw invalidArgument('a pixel value in 0..255', 'spec.padValue', spec.padValue);
  }
}

function checkDestination(spec: PreprocessSpec, dst: Float32Array | Uint8Array): void {
  const wanted = spec.dtype === 'float32' ? Float32Array : Uint8Array;
  if (!(dst instanceof wanted)) throw invalidArgument(`a ${wanted.name} (spec.dtype is '${spec.dtype}')`, 'dst', dst);
  const size = tensorSize(spec);
  if (dst.length !== size) {
    throw invalidArgument(`a ${wanted.name} of ${size} elements (${spec.width}x${spec.height}, ${spec.channelOrder})`, 'dst', dst);
  }
}

/** The complete native job for one frame, and where the frame lands in the tensor. */
export function buildPreprocessJob(
  frame: ValidatedFrame,
  spec: PreprocessSpec,
  dst: Float32Array | Uint8Array,
): { job: NativePreprocessJob; geometry: LetterboxGeometry } {
  checkSpec(spec);
  checkDestination(spec, dst);
  const geometry = letterboxGeometry(frame.width, frame.height, spec.width, spec.height, spec.placement);
  const job: NativePreprocessJob = {
    src: frame.data,
    width: frame.width,
    height: frame.height,
    format: frame.format,
    stride: frame.stride,
    uvOffset: frame.uvOffset,
    uvStride: frame.uvStride,
    vOffset: frame.vOffset,
    colorMatrix: frame.colorMatrix,
    colorRange: frame.colorRange,
    dst,
    dstWidth: spec.width,
    dstHeight: spec.height,
    layout: spec.layout,
    channelOrder: spec.channelOrder,
    resizedWidth: geometry.resizedWidth,
    resizedHeight: geometry.resizedHeight,
    offsetX: geometry.offsetX,
    offsetY: geometry.offsetY,
    padValue: spec.padValue,
    scale: spec.scale,
    mean: spec.mean,
    std: spec.std,
  };
  return { job, geometry };
}

/**
 * A refusal thrown by the addon, as our error. The addon tags problems with the source frame
 * 'ERR_FRAME' (the caller's data); anything else means it refused a job we built or failed.
 */
function nativeError(err: unknown): Int8DetectError {
  if (err instanceof Int8DetectError) return err;
  const tag = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return new Int8DetectError(tag === 'ERR_FRAME' ? 'ERR_FRAME' : 'ERR_NATIVE', `Preprocessing failed: ${message}`, { cause: err });
}

/** Preprocess on the calling thread; returns where the frame landed in the tensor. */
export function preprocessFrameSync(frame: ValidatedFrame, spec: PreprocessSpec, dst: Float32Array | Uint8Array): LetterboxGeometry {
  const { job, geometry } = buildPreprocessJob(frame, spec, dst);
  const addon = loadCoreAddon();
  try {
    addon.preprocessSync(job);
  } catch (err) {
    throw nativeError(err);
  }
  return geometry;
}

/**
 * Letterbox, convert and normalise `frame` into `dst` (a tensor of `tensorSize(spec)` elements,
 * reused between calls). Frames under `config.asyncPreprocessPixels` pixels are done inline,
 * since a worker round trip would cost more than the work; larger ones on a worker thread.
 */
export async function preprocessFrame(
  frame: ValidatedFrame,
  spec: PreprocessSpec,
  dst: Float32Array | Uint8Array,
): Promise<LetterboxGeometry> {
  if (frame.width * frame.height < config.asyncPreprocessPixels) return preprocessFrameSync(frame, spec, dst);
  const { job, geometry } = buildPreprocessJob(frame, spec, dst);
  const addon = loadCoreAddon();
  let pending: Promise<void>;
  try {
    // The job is checked here, synchronously, so a bad frame throws with the caller's stack.
    pending = addon.preprocess(job);
  } catch (err) {
    throw nativeError(err);
  }
  await withCallerStack('ERR_NATIVE', () => pending, 'Preprocessing failed');
  return geometry;
}
