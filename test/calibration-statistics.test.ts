import test from 'ava';
import { ActivationStatistics, RANGE_METHODS, type Range } from '../lib/quantize/statistics';
import { fakeQuantize, scaleAndZeroPoint } from '../lib/quantize/qparams';
import {
  exactAbsHistogram,
  foldHistogram,
  gaussianSampler,
  referenceEntropyBins,
  referenceEntropyRange,
  referenceMinMax,
  referencePercentile,
  referenceQuantizationError,
  syntheticDistributions,
} from './helpers/calibration-reference';

const N = 60_000;
const distributions = syntheticDistributions(N);

function collect(name: string, values: Float32Array, options?: { bins?: number; percentile?: number }): ActivationStatistics {
  const stats = new ActivationStatistics(name, options);
  stats.add(values);
  return stats;
}

/** The histogram's error, recomputed here from its counts with the TypeScript fake-quantizer. */
function errorFromHistogram(stats: ActivationStatistics, range: Range, symmetric: boolean): number {
  const h = stats.histogram();
  const mode = symmetric ? 'int8-symmetric' : 'uint8-asymmetric';
  const { scale, zeroPoint } = scaleAndZeroPoint(range, mode);
  let sum = 0;
  h.counts.forEach((c, j) => {
    if (c === 0) return;
    const x = Math.min(Math.max(h.start + (j + 0.5) * h.binWidth, stats.min), stats.max);
    const e = x - fakeQuantize(x, scale, zeroPoint, mode);
    sum += c * e * e;
  });
  return sum / stats.count;
}

for (const [name, values] of Object.entries(distributions)) {
  test(`${name}: every method against the references on the raw values`, (t) => {
    const stats = collect(name, values);
    t.is(stats.count, values.length);
    for (const symmetric of [true, false]) {
      const label = symmetric ? 'symmetric' : 'asymmetric';
      // Symmetric methods read the |x| histogram, which is coarser for values far from 0.
      const binWidth = symmetric ? foldHistogram(stats.histogram()).binWidth : stats.histogram().binWidth;
      t.deepEqual(stats.range('minmax', symmetric), referenceMinMax(values, symmetric), `${label} min-max`);

      const percentile = stats.range('percentile', symmetric);
      const expected = referencePercentile(values, 99.999, symmetric);
      t.true(Math.abs(percentile.min - expected.min) <= binWidth, `${label} percentile min ${percentile.min} vs ${expected.min}`);
      t.true(Math.abs(percentile.max - expected.max) <= binWidth, `${label} percentile max ${percentile.max} vs ${expected.max}`);

      // The search itself, redone here on the same histogram, must pick the same threshold.
      const entropy = stats.range('entropy', symmetric);
      const reference = referenceEntropyRange(stats.histogram(), { min: stats.min, max: stats.max }, symmetric);
      t.true(Math.abs(entropy.min - reference.min) < 1e-9 && Math.abs(entropy.max - reference.max) < 1e-9,
        `${label} entropy ${JSON.stringify(entropy)} vs ${JSON.stringify(reference)}`);

      for (const method of RANGE_METHODS) {
        const range = stats.range(method, symmetric);
        t.true(range.min >= stats.min - 1e-12 || symmetric, `${label} ${method} within the observed values`);
        t.true(range.max <= Math.max(Math.abs(stats.min), Math.abs(stats.max)) + 1e-12);
        t.true(range.min <= range.max);
        const error = stats.quantizationError(range, symmetric);
        // Native and TypeScript fake-quantization agree on the histogram exactly...
        const fromHistogram = errorFromHistogram(stats, range, symmetric);
        t.true(Math.abs(error - fromHistogram) <= 1e-12 * Math.max(1, fromHistogram), `${label} ${method} ${error} vs ${fromHistogram}`);
        // ...and bin centres stand in for the raw values to within a few per cent.
        const raw = referenceQuantizationError(values, range, symmetric);
        const stepSquared = (scaleAndZeroPoint(range, symmetric ? 'int8-symmetric' : 'uint8-asymmetric').scale ** 2) / 12;
        t.true(Math.abs(error - raw) <= 0.05 * raw + 0.02 * stepSquared + binWidth ** 2,
          `${label} ${method} error ${error} vs raw ${raw}`);
      }
      const choice = stats.chooseRange(symmetric);
      for (const method of RANGE_METHODS) t.true(choice.error <= stats.quantizationError(stats.range(method, symmetric), symmetric));
      t.deepEqual(choice.range, stats.range(choice.method, symmetric));
    }
  });
}

test('a constant tensor and an all-zero tensor give exact, error-free ranges', (t) => {
  const constant = collect('c', distributions.constant);
  t.deepEqual(constant.range('minmax', false), { min: 2.75, max: 2.75 });
  for (const method of RANGE_METHODS) {
    t.deepEqual(constant.range(method, true), { min: -2.75, max: 2.75 }, method);
  }
  t.is(constant.quantizationError({ min: -2.75, max: 2.75 }, true), 0);
  t.is(constant.chooseRange(true).method, 'minmax');

  const zeros = collect('z', distributions['all zeros']);
  for (const method of RANGE_METHODS) {
    for (const symmetric of [true, false]) {
      const range = zeros.range(method, symmetric);
      t.true(range.min === 0 && range.max === 0, `${method} ${JSON.stringify(range)}`);
    }
    t.is(zeros.quantizationError(zeros.range(method, false), false), 0);
  }
});

test('entropy clips a Gaussian with outliers well below its max, near KL on the exact histogram', (t) => {
  const g = gaussianSampler(7);
  const values = new Float32Array(200_000);
  for (let i = 0; i < values.length; i++) values[i] = g();
  for (let i = 0; i < 40; i++) values[i * 4999] = (i % 2 ? -1 : 1) * (20 + i / 4);
  const stats = collect('gaussian+outliers', values);
  const entropy = stats.range('entropy', true);
  const max = stats.range('minmax', true).max;
  t.true(entropy.max < 0.4 * max, `threshold ${entropy.max} of max ${max}`);
  t.true(entropy.max > 3, `threshold ${entropy.max} keeps the Gaussian's body`);

  // TensorRT's layout: 2048 bins of |x| over [0, max |x|], from the raw values.
  const exact = exactAbsHistogram(values, 2048);
  const exactThreshold = referenceEntropyBins(exact.counts, 128) * exact.binWidth;
  t.true(Math.abs(entropy.max - exactThreshold) <= 0.05 * exactThreshold, `ours ${entropy.max} vs exact-histogram KL ${exactThreshold}`);
});

test('ranges growing across batches give exactly the counts of one big batch', (t) => {
  const g = gaussianSampler(3);
  const batches: Float32Array[] = [];
  // Each batch is wider than the last, and the last shifts left: the lattice widens and moves.
  for (let k = 0; k < 6; k++) {
    const b = new Float32Array(5000);
    for (let i = 0; i < b.length; i++) b[i] = g() * 2 ** k + (k === 5 ? -300 : 0);
    batches.push(b);
  }
  batches.push(new Float32Array(100).fill(3)); // a constant batch inside the range
  const streamed = new ActivationStatistics('x');
  for (const b of batches) streamed.add(b);
  const all = new Float32Array(batches.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const b of batches) {
    all.set(b, offset);
    offset += b.length;
  }
  const single = collect('x', all);
  t.deepEqual(streamed.histogram(), single.histogram());
  for (const method of RANGE_METHODS) {
    for (const symmetric of [true, false]) t.deepEqual(streamed.range(method, symmetric), single.range(method, symmetric));
  }
  // A first batch of one repeated value, then the rest.
  const first = new ActivationStatistics('x');
  first.add(new Float32Array(10).fill(-0.5));
  first.add(all);
  const withFirst = new Float32Array(all.length + 10).fill(-0.5);
  withFirst.set(all, 10);
  t.deepEqual(first.histogram(), collect('x', withFirst).histogram());
});

test('merging collectors equals one collector over all the values', (t) => {
  const values = distributions['laplacian with outliers'];
  const parts = [values.subarray(0, 7000), values.subarray(7000, 31000), values.subarray(31000)];
  const workers = parts.map((p) => collect('t', p));
  const merged = new ActivationStatistics('t');
  for (const w of workers) merged.merge(w);
  const one = collect('t', values);
  t.deepEqual(merged.histogram(), one.histogram());
  t.is(merged.count, one.count);
  t.deepEqual([merged.min, merged.max], [one.min, one.max]);
  for (const symmetric of [true, false]) t.deepEqual(merged.chooseRange(symmetric), one.chooseRange(symmetric));

  // In the other order, with a constant collector and an empty one.
  const constant = collect('t', new Float32Array(50).fill(1.25));
  const a = collect('t', parts[2]);
  a.merge(new ActivationStatistics('t'));
  a.merge(constant);
  const reference = new Float32Array(parts[2].length + 50).fill(1.25);
  reference.set(parts[2]);
  t.deepEqual(a.histogram(), collect('t', reference).histogram());
  // Merging a collector into itself doubles every count.
  const self = collect('t', parts[0]);
  self.merge(self);
  t.deepEqual(Array.from(self.histogram().counts), Array.from(collect('t', parts[0]).histogram().counts, (c) => 2 * c));

  t.throws(() => merged.merge(collect('other', parts[0])), { code: 'ERR_ARGUMENT', message: /tensor "t"/ });
  t.throws(() => merged.merge(new ActivationStatistics('t', { bins: 4096 })), { code: 'ERR_ARGUMENT', message: /4096 bins/ });
});

test('NaN or Inf in a batch throws, naming the tensor and the count, and counts nothing', (t) => {
  const stats = collect('backbone/conv3', new Float32Array([1, 2, 3]));
  const bad = new Float32Array([0.5, NaN, 2, Infinity, -Infinity, 1]);
  const err = t.throws(() => stats.add(bad), { code: 'ERR_ARGUMENT' });
  t.regex(err!.message, /"backbone\/conv3"/);
  t.regex(err!.message, /\b3 NaN or infinite values\b/);
  t.is(stats.count, 3);
  t.is(stats.max, 3);
  t.throws(() => new ActivationStatistics('fresh').range('minmax', true), { code: 'ERR_ARGUMENT', message: /No values/ });
});

test('arguments are checked with the project wording', (t) => {
  t.throws(() => new ActivationStatistics(''), { code: 'ERR_ARGUMENT', message: /^Expected a tensor name/ });
  t.throws(() => new ActivationStatistics('x', { bins: 100 }), { code: 'ERR_ARGUMENT', message: /options\.bins/ });
  t.throws(() => new ActivationStatistics('x', { percentile: 101 }), { code: 'ERR_ARGUMENT', message: /options\.percentile/ });
  const stats = collect('x', new Float32Array([1, -1]));
  t.throws(() => stats.add([1, 2] as unknown as Float32Array), { code: 'ERR_ARGUMENT', message: /Float32Array/ });
  t.throws(() => stats.range('kl' as 'entropy', true), { code: 'ERR_ARGUMENT', message: /'minmax'/ });
  t.throws(() => stats.quantizationError({ min: 1, max: 0 }, true), { code: 'ERR_ARGUMENT' });
  t.is(stats.min, -1);
  t.true(Number.isNaN(new ActivationStatistics('y').min));
  // The percentile option is the one 'percentile' uses.
  const wide = collect('x', distributions.gaussian, { percentile: 99 });
  const expected = referencePercentile(distributions.gaussian, 99, true);
  t.true(Math.abs(wide.range('percentile', true).max - expected.max) <= wide.histogram().binWidth);
});

test('the histogram folds exactly at 0', (t) => {
  const stats = collect('x', new Float32Array([-1, -0.5, 0, 0.25, 1, 1]));
  const h = stats.histogram();
  t.is(h.counts.reduce((a, b) => a + b, 0), 6);
  t.true(Number.isInteger(Math.log2(h.binWidth)), 'power-of-two width');
  t.true(Number.isInteger(h.start / h.binWidth), 'edges on multiples of the width');
  const { positive, negative } = foldHistogram(h);
  t.is(positive.reduce((a, b) => a + b, 0), 4);
  t.is(negative.reduce((a, b) => a + b, 0), 2);
});
