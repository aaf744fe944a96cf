import test from 'ava';
import { perChannelScales, quantizePerChannel } from '../lib/quantize/weights';
import { MINIMUM_SCALE, roundHalfToEven } from '../lib/quantize/qparams';
import { gaussianSampler } from './helpers/calibration-reference';

/** Index of element `flat` along `axis` of a row-major tensor of `dims`. */
function channelOf(flat: number, dims: readonly number[], axis: number): number {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  return Math.floor(flat / inner) % dims[axis];
}

function referenceScales(weights: Float32Array, dims: readonly number[], axis: number): Float32Array {
  const absMax = new Float64Array(dims[axis]);
  weights.forEach((w, i) => {
    const c = channelOf(i, dims, axis);
    absMax[c] = Math.max(absMax[c], Math.abs(w));
  });
  return Float32Array.from(absMax, (m) => Math.max(Math.fround(m / 127), MINIMUM_SCALE));
}

function referenceQuantize(weights: Float32Array, dims: readonly number[], axis: number, scales: Float32Array): Int8Array {
  return Int8Array.from(weights, (w, i) => Math.min(127, Math.max(-127, roundHalfToEven(Math.fround(w / scales[channelOf(i, dims, axis)])))));
}

function convWeights(dims: readonly number[], seed: number): Float32Array {
  const g = gaussianSampler(seed);
  const count = dims.reduce((a, b) => a * b, 1);
  // Channels of very different magnitudes, as in real convolutions.
  return Float32Array.from({ length: count }, (_, i) => g() * 0.01 * 2 ** (i % 7));
}

test('per-channel scales and codes are exact against the reference, for Conv (axis 0) and ConvTranspose (axis 1) layouts', (t) => {
  for (const [dims, axis] of [
    [[16, 8, 3, 3], 0],
    [[8, 16, 3, 3], 1],
    [[24, 5], -2],
    [[7], 0],
  ] as Array<[number[], number]>) {
    const weights = convWeights(dims, dims.length);
    const positiveAxis = axis < 0 ? axis + dims.length : axis;
    const scales = perChannelScales(weights, dims, axis);
    t.deepEqual(scales, referenceScales(weights, dims, positiveAxis), `scales for [${dims}] axis ${axis}`);
    const codes = quantizePerChannel(weights, dims, axis, scales);
    t.deepEqual(codes, referenceQuantize(weights, dims, positiveAxis, scales), `codes for [${dims}] axis ${axis}`);
    // Each channel's largest weight reaches the end of the grid, and nothing reaches -128.
    t.true(codes.every((q) => q >= -127 && q <= 127));
    t.true(codes.some((q) => Math.abs(q) === 127));
  }
});

test('a zero channel gets a tiny positive scale, ties round to even and codes saturate at ±127', (t) => {
  const dims = [3, 4];
  // Channel 1 is all zeros; channel 2 has absmax 127 * 0.5 so its scale is exactly 0.5.
  const weights = new Float32Array([0.1, -0.2, 0.3, -0.4, 0, 0, 0, 0, 63.5, 0.25, 0.75, -1.25]);
  const scales = perChannelScales(weights, dims, 0);
  t.true(scales[1] > 0 && scales[1] === MINIMUM_SCALE);
  t.is(scales[2], 0.5);
  const codes = quantizePerChannel(weights, dims, 0, scales);
  t.deepEqual(Array.from(codes.subarray(4, 8)), [0, 0, 0, 0]);
  // 0.25 / 0.5 = 0.5 -> 0; 0.75 / 0.5 = 1.5 -> 2; -1.25 / 0.5 = -2.5 -> -2.
  t.deepEqual(Array.from(codes.subarray(8)), [127, 0, 2, -2]);
  // Scales smaller than absmax / 127 saturate symmetrically, never to -128.
  const small = new Float32Array([0.001, 0.001, 0.001]);
  const saturated = quantizePerChannel(weights, dims, 0, small);
  t.is(saturated[11], -127);
  t.is(saturated[8], 127);
});

test('bad weights and shapes are refused with ERR_ARGUMENT', (t) => {
  const weights = new Float32Array([1, NaN, 2, Infinity]);
  t.throws(() => perChannelScales(weights, [2, 2], 0), { code: 'ERR_ARGUMENT', message: /2 weights are NaN or infinite/ });
  t.throws(() => quantizePerChannel(weights, [2, 2], 0, new Float32Array([1, 1])), { code: 'ERR_ARGUMENT', message: /NaN/ });
  const ok = new Float32Array(6);
  t.throws(() => perChannelScales(ok, [2, 2], 0), { code: 'ERR_ARGUMENT', message: /4 elements/ });
  t.throws(() => perChannelScales(ok, [2, 3], 2), { code: 'ERR_ARGUMENT', message: /axis/ });
  t.throws(() => perChannelScales(ok, [2, 3.5], 0), { code: 'ERR_ARGUMENT', message: /dims\[1\]/ });
  t.throws(() => quantizePerChannel(ok, [2, 3], 0, new Float32Array([1])), { code: 'ERR_ARGUMENT', message: /2 scales/ });
  t.throws(() => quantizePerChannel(ok, [2, 3], 0, new Float32Array([1, 0])), { code: 'ERR_ARGUMENT', message: /scales\[1\]/ });
});
