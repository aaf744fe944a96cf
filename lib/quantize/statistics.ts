/**
 * Per-tensor activation statistics for calibration: batches stream into a native histogram
 * (never held in memory), and the clipping range of each method is read from it. The maths
 * lives in native/core/calibration; docs/calibration.md explains it.
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import { loadCoreAddon, type NativeHistogram } from '../native/core-addon';

export type RangeMethod = 'minmax' | 'entropy' | 'percentile';
export interface Range {
  min: number;
  max: number;
}

export const RANGE_METHODS: readonly RangeMethod[] = ['minmax', 'percentile', 'entropy'];
export const DEFAULT_BINS = 2048;
export const DEFAULT_PERCENTILE = 99.999;
const MIN_BINS = 128;
const MAX_BINS = 1 << 24;

export interface ActivationStatisticsOptions {
  /** Bins of the signed histogram (default 2048). */
  bins?: number;
  /** The 'percentile' method's share of the mass inside the range, in [50, 100] (default 99.999). */
  percentile?: number;
}

function checkSymmetric(symmetric: unknown): asserts symmetric is boolean {
  if (typeof symmetric !== 'boolean') throw invalidArgument('a boolean', 'symmetric', symmetric);
}

export class ActivationStatistics {
  readonly tensorName: string;
  readonly bins: number;
  readonly percentile: number;
  readonly #native: NativeHistogram;

  constructor(tensorName: string, options: ActivationStatisticsOptions = {}) {
    if (typeof tensorName !== 'string' || tensorName.length === 0) throw invalidArgument('a tensor name', 'tensorName', tensorName);
    if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'options', options);
    const bins = options.bins ?? DEFAULT_BINS;
    if (!Number.isInteger(bins) || bins < MIN_BINS || bins > MAX_BINS) {
      throw invalidArgument(`an integer in [${MIN_BINS}, ${MAX_BINS}]`, 'options.bins', bins);
    }
    const percentile = options.percentile ?? DEFAULT_PERCENTILE;
    if (typeof percentile !== 'number' || !(percentile >= 50 && percentile <= 100)) {
      throw invalidArgument('a number in [50, 100]', 'options.percentile', percentile);
    }
    this.tensorName = tensorName;
    this.bins = bins;
    this.percentile = percentile;
    this.#native = new (loadCoreAddon().Histogram)(bins);
  }

  /** Stream one batch of values in (any length); NaN or Inf throws ERR_ARGUMENT naming the tensor and the count of bad values. */
  add(values: Float32Array): void {
    if (!(values instanceof Float32Array)) throw invalidArgument('a Float32Array', `the values of tensor "${this.tensorName}"`, values);
    const nonFinite = this.#native.add(values);
    if (nonFinite !== 0) {
      throw new Int8DetectError(
        'ERR_ARGUMENT',
        `Tensor "${this.tensorName}" has ${nonFinite} NaN or infinite value${nonFinite === 1 ? '' : 's'} among the ${values.length} of this batch; ` +
          'calibration needs finite activations (the batch was not counted)',
      );
    }
  }

  get count(): number {
    return this.#native.count;
  }

  /** The smallest value seen; NaN before the first one. */
  get min(): number {
    return this.#native.min;
  }

  /** The largest value seen; NaN before the first one. */
  get max(): number {
    return this.#native.max;
  }

  #requireValues(): void {
    if (this.#native.count === 0) {
      throw new Int8DetectError('ERR_ARGUMENT', `No values were collected for tensor "${this.tensorName}"`);
    }
  }

  /** The clipping range a method chooses. symmetric: [-t, t] (INT8, TensorRT-compatible); asymmetric: [lo, hi] for UINT8 with zero point. */
  range(method: RangeMethod, symmetric: boolean): Range {
    checkSymmetric(symmetric);
    this.#requireValues();
    switch (method) {
      case 'minmax':
        return this.#native.rangeMinMax(symmetric);
      case 'percentile':
        return this.#native.rangePercentile(this.percentile, symmetric);
      case 'entropy':
        return this.#native.rangeEntropy(symmetric);
      default:
        throw invalidArgument("'minmax', 'entropy' or 'percentile'", 'method', method);
    }
  }

  /** Mean squared error of fake-quantizing the collected distribution (from the histogram) with this range in 8 bits. */
  quantizationError(range: Range, symmetric: boolean): number {
    checkSymmetric(symmetric);
    if (typeof range !== 'object' || range === null) throw invalidArgument('a { min, max } range', 'range', range);
    if (!Number.isFinite(range.min)) throw invalidArgument('a finite number', 'range.min', range.min);
    if (!Number.isFinite(range.max) || range.max < range.min) {
      throw invalidArgument(`a finite number >= range.min`, 'range.max', range.max);
    }
    this.#requireValues();
    return this.#native.quantizationError(range.min, range.max, symmetric);
  }

  /** The method with the lowest quantizationError among the three, with its range and error (per-tensor 'auto'). */
  chooseRange(symmetric: boolean): { method: RangeMethod; range: Range; error: number } {
    let best: { method: RangeMethod; range: Range; error: number } | undefined;
    // Ties go to the earlier method: min-max, then percentile (a constant tensor stays min-max).
    for (const method of RANGE_METHODS) {
      const range = this.range(method, symmetric);
      const error = this.quantizationError(range, symmetric);
      if (!best || error < best.error) best = { method, range, error };
    }
    return best!;
  }

  /** For the HTML report: bin edges start/width and counts. */
  histogram(): { start: number; binWidth: number; counts: Float64Array } {
    this.#requireValues();
    return this.#native.histogram();
  }

  /** Merge statistics of the same tensor collected elsewhere (e.g. two workers). */
  merge(other: ActivationStatistics): void {
    if (!(other instanceof ActivationStatistics)) throw invalidArgument('an ActivationStatistics', 'other', other);
    if (other.tensorName !== this.tensorName || other.bins !== this.bins) {
      throw new Int8DetectError(
        'ERR_ARGUMENT',
        `Expected statistics of tensor "${this.tensorName}" with ${this.bins} bins for other but received ` +
          `statistics of tensor "${other.tensorName}" with ${other.bins} bins`,
      );
    }
    this.#native.merge(other.#native);
  }
}
