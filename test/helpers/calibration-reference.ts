/**
 * Independent TypeScript references for the calibration tests: synthetic distributions from a
 * seeded generator, and the range methods computed over the raw values held in memory (or,
 * for the entropy search, over a histogram built here).
 */
import { fakeQuantize, scaleAndZeroPoint, type ActivationMode } from '../../lib/quantize/qparams';
import type { Range } from '../../lib/quantize/statistics';
import { seededRandom } from '../../lib/util/random';

export function gaussianSampler(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function fill(n: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next();
  return out;
}

const silu = (x: number): number => x / (1 + Math.exp(-x));

/** The synthetic tensors every method is checked on. */
export function syntheticDistributions(n: number): Record<string, Float32Array> {
  const g = gaussianSampler(1);
  const random = seededRandom(2);
  const laplace = (): number => {
    const u = random() - 0.5;
    return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  };
  const laplaceWithOutliers = fill(n, laplace);
  for (let i = 0; i < 10; i++) laplaceWithOutliers[i * 997] = (i % 2 ? -1 : 1) * (40 + 3 * i);
  const singleOutlier = fill(n, () => 0.5 * g());
  singleOutlier[n >> 1] = 1000;
  return {
    gaussian: fill(n, () => 1.5 * g() + 0.3),
    'laplacian with outliers': laplaceWithOutliers,
    'relu-like': fill(n, () => Math.max(0, 2 * g())),
    'silu-like': fill(n, () => silu(2.5 * g() + 0.5)),
    bimodal: fill(n, () => (random() < 0.3 ? -3 + 0.4 * g() : 5 + g())),
    constant: new Float32Array(n).fill(2.75),
    'all zeros': new Float32Array(n),
    'single huge outlier': singleOutlier,
    'narrow, far from zero': fill(n, () => 1000 + 0.01 * g()),
  };
}

export function referenceMinMax(values: Float32Array, symmetric: boolean): Range {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (!symmetric) return { min, max };
  const t = Math.max(Math.abs(min), Math.abs(max));
  return { min: -t, max: t };
}

/** Order statistics over the sorted values: the share p of the mass lies at or below the result. */
export function referencePercentile(values: Float32Array, percentile: number, symmetric: boolean): Range {
  const n = values.length;
  const rank = (share: number): number => Math.min(n - 1, Math.max(0, Math.ceil(share * n) - 1));
  if (symmetric) {
    const abs = Float64Array.from(values, Math.abs).sort();
    const t = abs[rank(percentile / 100)];
    return { min: -t, max: t };
  }
  const sorted = Float64Array.from(values).sort();
  return { min: sorted[rank(1 - percentile / 100)], max: sorted[rank(percentile / 100)] };
}

/** Mean squared error of fake-quantizing every raw value with the range. */
export function referenceQuantizationError(values: Float32Array, range: Range, symmetric: boolean): number {
  const mode: ActivationMode = symmetric ? 'int8-symmetric' : 'uint8-asymmetric';
  const { scale, zeroPoint } = scaleAndZeroPoint(range, mode);
  let sum = 0;
  for (const v of values) {
    const e = v - fakeQuantize(v, scale, zeroPoint, mode);
    sum += e * e;
  }
  return sum / values.length;
}

function smooth(bins: Float64Array): boolean {
  let zeros = 0;
  let smallest = Infinity;
  for (const v of bins) {
    if (v === 0) zeros++;
    else smallest = Math.min(smallest, v);
  }
  const nonZeros = bins.length - zeros;
  if (nonZeros === 0) return false;
  if (zeros === 0) return true;
  let give = 1e-4;
  let take = (give * zeros) / nonZeros;
  if (take > smallest / 2) {
    take = smallest / 2;
    give = (take * nonZeros) / zeros;
  }
  for (let i = 0; i < bins.length; i++) bins[i] += bins[i] === 0 ? give : -take;
  return true;
}

/** KL(P || Q) of one candidate, written from the description in docs/calibration.md. */
function candidateDivergence(counts: Float64Array, levels: number, kept: number): number {
  const p = counts.slice(0, kept);
  for (let i = kept; i < counts.length; i++) p[kept - 1] += counts[i];
  const mass = new Float64Array(levels);
  const nonZero = new Float64Array(levels);
  const level = (i: number): number => Math.floor((i * levels) / kept);
  for (let i = 0; i < kept; i++) {
    mass[level(i)] += counts[i];
    if (p[i] !== 0) nonZero[level(i)] += 1;
  }
  const q = new Float64Array(kept);
  for (let i = 0; i < kept; i++) if (p[i] !== 0) q[i] = mass[level(i)] / nonZero[level(i)];
  if (!smooth(p) || !smooth(q)) return Infinity;
  const pSum = p.reduce((a, b) => a + b, 0);
  const qSum = q.reduce((a, b) => a + b, 0);
  let kl = 0;
  for (let i = 0; i < kept; i++) kl += (p[i] / pSum) * Math.log(p[i] / pSum / (q[i] / qSum));
  return kl;
}

/** The entropy search over a one-sided histogram: how many leading bins the threshold keeps. */
export function referenceEntropyBins(sideCounts: ArrayLike<number>, levels: number): number {
  const counts = Float64Array.from(sideCounts);
  if (counts.length <= levels) return counts.length;
  if (counts.length >= 2) counts[0] = counts[1];
  let best = counts.length;
  let bestKl = Infinity;
  for (let kept = levels; kept <= counts.length; kept++) {
    const kl = candidateDivergence(counts, levels, kept);
    if (kl < bestKl) {
      bestKl = kl;
      best = kept;
    }
  }
  return best;
}

/**
 * Split a signed histogram (edges on multiples of binWidth, through 0) into |x| or per-side
 * counts, merging 2^k folded bins at a time until at most `counts.length` remain.
 */
export function foldHistogram(h: { start: number; binWidth: number; counts: Float64Array }): {
  abs: number[];
  positive: number[];
  negative: number[];
  binWidth: number;
} {
  const first = Math.round(h.start / h.binWidth);
  const folded = (j: number): number => (first + j >= 0 ? first + j : -(first + j) - 1);
  let largest = 0;
  h.counts.forEach((c, j) => {
    if (c !== 0) largest = Math.max(largest, folded(j));
  });
  let factor = 1;
  while (Math.floor(largest / factor) + 1 > h.counts.length) factor *= 2;
  const abs: number[] = [];
  const positive: number[] = [];
  const negative: number[] = [];
  const put = (side: number[], i: number, c: number): void => {
    while (side.length <= i) side.push(0);
    side[i] += c;
  };
  h.counts.forEach((c, j) => {
    if (c === 0) return;
    const i = Math.floor(folded(j) / factor);
    put(abs, i, c);
    put(first + j >= 0 ? positive : negative, i, c);
  });
  return { abs, positive, negative, binWidth: h.binWidth * factor };
}

/** The entropy range from a signed histogram, with the same symmetric/asymmetric rules. */
export function referenceEntropyRange(
  h: { start: number; binWidth: number; counts: Float64Array },
  observed: Range,
  symmetric: boolean,
): Range {
  const { abs, positive, negative, binWidth } = foldHistogram(h);
  if (symmetric) {
    const absMax = Math.max(Math.abs(observed.min), Math.abs(observed.max));
    const t = Math.min(referenceEntropyBins(abs, 128) * binWidth, absMax);
    return { min: -t, max: t };
  }
  const up = Math.max(observed.max, 0);
  const down = Math.max(-observed.min, 0);
  const upLevels = Math.round((255 * up) / (up + down));
  const downLevels = 255 - upLevels;
  const hi = positive.length === 0 || upLevels === 0 ? observed.max : Math.min(referenceEntropyBins(positive, upLevels) * binWidth, observed.max);
  const lo = negative.length === 0 || downLevels === 0 ? observed.min : -Math.min(referenceEntropyBins(negative, downLevels) * binWidth, -observed.min);
  return { min: Math.max(lo, observed.min), max: Math.min(hi, observed.max) };
}

/** TensorRT's layout: `bins` bins of |x| over [0, max |x|], straight from the raw values. */
export function exactAbsHistogram(values: Float32Array, bins: number): { counts: Float64Array; binWidth: number } {
  let absMax = 0;
  for (const v of values) absMax = Math.max(absMax, Math.abs(v));
  const binWidth = absMax / bins;
  const counts = new Float64Array(bins);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(Math.abs(v) / binWidth))] += 1;
  return { counts, binWidth };
}
