/**
 * Scale and zero point of an 8-bit activation, with the exact arithmetic of ONNX QuantizeLinear
 * and DequantizeLinear (float32 scale, round half to even, saturation), so what calibration
 * measures is what runtimes compute. native/core/calibration/qparams.cc does the same sums for
 * the histogram's error; the tests hold the two equal.
 */
import { invalidArgument } from '../util/errors';
import type { Range } from './statistics';

export type ActivationMode = 'int8-symmetric' | 'uint8-asymmetric';

/**
 * The smallest scale ever produced: the smallest normal float32. A range of only zeros still
 * gets a positive scale (runtimes reject 0), and a normal one, which no runtime flushes to 0.
 */
export const MINIMUM_SCALE = 2 ** -126;

/** QuantizeLinear's saturation bounds for each mode's type. */
export function quantizedBounds(mode: ActivationMode): { qmin: number; qmax: number } {
  return mode === 'int8-symmetric' ? { qmin: -128, qmax: 127 } : { qmin: 0, qmax: 255 };
}

/** Round to the nearest integer, ties to the even one (IEEE's default, numpy.round, ONNX). */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkMode(mode: ActivationMode): void {
  if (mode !== 'int8-symmetric' && mode !== 'uint8-asymmetric') {
    throw invalidArgument("'int8-symmetric' or 'uint8-asymmetric'", 'mode', mode);
  }
}

function checkRange(range: Range): void {
  if (typeof range !== 'object' || range === null) throw invalidArgument('a { min, max } range', 'range', range);
  if (!Number.isFinite(range.min)) throw invalidArgument('a finite number', 'range.min', range.min);
  if (!Number.isFinite(range.max)) throw invalidArgument('a finite number', 'range.max', range.max);
  if (range.min > range.max) throw invalidArgument(`a number >= range.min (${range.min})`, 'range.max', range.max);
}

/**
 * int8-symmetric: scale = max(|min|, |max|) / 127, zero point 0 (TensorRT's convention).
 * uint8-asymmetric: the range is first widened to contain 0, scale = (max - min) / 255 and
 * zero point = round(-min / scale), an integer in [0, 255], so 0.0 quantizes and dequantizes
 * exactly (zero padding and ReLU zeros stay exact). The scale is a float32 value, never 0.
 */
export function scaleAndZeroPoint(range: Range, mode: ActivationMode): { scale: number; zeroPoint: number } {
  checkRange(range);
  checkMode(mode);
  if (mode === 'int8-symmetric') {
    const t = Math.max(Math.abs(range.min), Math.abs(range.max));
    return { scale: Math.max(Math.fround(t / 127), MINIMUM_SCALE), zeroPoint: 0 };
  }
  const lo = Math.min(range.min, 0);
  const hi = Math.max(range.max, 0);
  const scale = Math.max(Math.fround((hi - lo) / 255), MINIMUM_SCALE);
  const zeroPoint = Math.min(Math.max(roundHalfToEven(-lo / scale), 0), 255);
  return { scale, zeroPoint };
}

/**
 * DequantizeLinear(QuantizeLinear(value)): q = saturate(round(value / scale) + zeroPoint),
 * result (q - zeroPoint) * scale, each step rounded to float32 as the runtimes do (a double
 * division or product of float32 operands rounded once to float32 equals the float32 one).
 */
export function fakeQuantize(value: number, scale: number, zeroPoint: number, mode: ActivationMode): number {
  checkMode(mode);
  if (!Number.isFinite(value)) throw invalidArgument('a finite number', 'value', value);
  if (!(scale > 0) || !Number.isFinite(scale)) throw invalidArgument('a positive finite number', 'scale', scale);
  const { qmin, qmax } = quantizedBounds(mode);
  if (!Number.isInteger(zeroPoint) || zeroPoint < qmin || zeroPoint > qmax) {
    throw invalidArgument(`an integer in [${qmin}, ${qmax}]`, 'zeroPoint', zeroPoint);
  }
  const q = Math.min(Math.max(roundHalfToEven(Math.fround(value / scale)) + zeroPoint, qmin), qmax);
  return Math.fround((q - zeroPoint) * scale);
}
