/**
 * Symmetric per-output-channel INT8 weights, computed by the core addon. Codes are saturated to
 * [-127, 127] rather than [-128, 127]: with scale = absmax / 127 no in-range weight rounds to
 * -128, and keeping the grid symmetric means negating a weight negates its code, which is what
 * TensorRT's and pytorch-quantization's narrow-range weights assume (see docs/calibration.md).
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import { loadCoreAddon } from '../native/core-addon';

interface ChannelShape {
  dims: number[];
  axis: number;
}

function checkShape(weights: Float32Array, dims: readonly number[], axis: number): ChannelShape {
  if (!(weights instanceof Float32Array)) throw invalidArgument('a Float32Array', 'weights', weights);
  if (!Array.isArray(dims) || dims.length === 0) throw invalidArgument('a non-empty array of dimensions', 'dims', dims);
  dims.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0) throw invalidArgument('a non-negative integer', `dims[${i}]`, d);
  });
  const elements = dims.reduce((a, b) => a * b, 1);
  if (elements !== weights.length) {
    throw invalidArgument(`a Float32Array of ${elements} elements (dims [${dims.join(', ')}])`, 'weights', weights);
  }
  const rank = dims.length;
  // ONNX's convention: a negative axis counts from the end.
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw invalidArgument(`an integer in [${-rank}, ${rank - 1}]`, 'axis', axis);
  }
  return { dims: [...dims], axis: axis < 0 ? axis + rank : axis };
}

function rethrow(err: unknown): never {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  throw new Int8DetectError(code === 'ERR_ARGUMENT' ? 'ERR_ARGUMENT' : 'ERR_NATIVE', message, { cause: err });
}

/** Symmetric per-output-channel INT8: scale[c] = absmax_c / 127 (a zero channel gets a tiny positive scale, never 0). */
export function perChannelScales(weights: Float32Array, dims: readonly number[], axis: number): Float32Array {
  const shape = checkShape(weights, dims, axis);
  try {
    return loadCoreAddon().perChannelScales(weights, shape.dims, shape.axis);
  } catch (err) {
    rethrow(err);
  }
}

/** round-half-to-even(weights / scales[c]) saturated to [-127, 127], the layout of `weights`. */
export function quantizePerChannel(weights: Float32Array, dims: readonly number[], axis: number, scales: Float32Array): Int8Array {
  const shape = checkShape(weights, dims, axis);
  const channels = shape.dims[shape.axis];
  if (!(scales instanceof Float32Array) || scales.length !== channels) {
    throw invalidArgument(`a Float32Array of ${channels} scales`, 'scales', scales);
  }
  scales.forEach((s, c) => {
    if (!(s > 0) || !Number.isFinite(s)) throw invalidArgument('a positive finite scale', `scales[${c}]`, s);
  });
  try {
    return loadCoreAddon().quantizePerChannel(weights, shape.dims, shape.axis, scales);
  } catch (err) {
    rethrow(err);
  }
}
