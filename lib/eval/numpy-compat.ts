/**
 * The few numpy routines COCOeval leans on, reproduced to the last bit: the metric must equal
 * pycocotools', and numpy's summation order and linspace arithmetic both show in the last digits.
 */

/** np.linspace(start, stop, num, endpoint=True) for float64: i * step + start, the last value set to stop. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) out[i] = step === 0 ? (i / div) * delta + start : i * step + start;
  out[num - 1] = stop;
  return out;
}

/** np.searchsorted(sorted, value, side='left') over the first `length` entries: the first index whose entry is >= value. */
export function searchSortedLeft(sorted: Float64Array, length: number, value: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// numpy's reduction iterator hands the add loop at most this many elements at a time, and the
// loop sums each chunk pairwise; the chunk sums are then added in order onto the initial 0.0.
const REDUCE_BUFFER_SIZE = 8192;
// Below this numpy sums with eight interleaved accumulators instead of recursing further.
const PAIRWISE_BLOCK_SIZE = 128;

/** np.sum of a contiguous float64 array (what np.mean divides by the count), bit for bit. */
export function numpySum(values: Float64Array, length: number = values.length): number {
  let total = 0;
  for (let start = 0; start < length; start += REDUCE_BUFFER_SIZE) {
    total += pairwiseSum(values, start, Math.min(REDUCE_BUFFER_SIZE, length - start));
  }
  return total;
}

/** np.mean of `values[0..length)`, or -1 when empty (pycocotools' marker for "no data"). */
export function numpyMeanOrMinusOne(values: Float64Array, length: number): number {
  return length === 0 ? -1 : numpySum(values, length) / length;
}

function pairwiseSum(a: Float64Array, offset: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[offset + i];
    return res;
  }
  if (n <= PAIRWISE_BLOCK_SIZE) {
    let r0 = a[offset];
    let r1 = a[offset + 1];
    let r2 = a[offset + 2];
    let r3 = a[offset + 3];
    let r4 = a[offset + 4];
    let r5 = a[offset + 5];
    let r6 = a[offset + 6];
    let r7 = a[offset + 7];
    let i = 8;
    const unrolledEnd = n - (n % 8);
    for (; i < unrolledEnd; i += 8) {
      r0 += a[offset + i];
      r1 += a[offset + i + 1];
      r2 += a[offset + i + 2];
      r3 += a[offset + i + 3];
      r4 += a[offset + i + 4];
      r5 += a[offset + i + 5];
      r6 += a[offset + i + 6];
      r7 += a[offset + i + 7];
    }
    let res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += a[offset + i];
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(a, offset, half) + pairwiseSum(a, offset + half, n - half);
}
