/** How far two runs of one model's outputs are apart, relative to the first run. */

/** Mean |a - b| over mean |a|: the outputs' average disagreement. */
export function meanRelativeDifference(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff += Math.abs(a[i] - b[i]);
    scale += Math.abs(a[i]);
  }
  return diff / scale;
}

/** Largest |a - b| over the largest |a|: the worst disagreement. */
export function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return diff / scale;
}
