/**
 * The constant-velocity Kalman filter SORT, DeepSORT and ByteTrack run on each track's box.
 *
 * State (8): centre x, centre y, aspect ratio a = w / h, height h, and their velocities per frame.
 * Measurement (4): x, y, a, h. The noise is proportional to the box height (DeepSORT's model, which
 * ByteTrack keeps): a large, near object moves more pixels per frame than a small, distant one.
 * Position noise is h / 20, velocity noise h / 160; the aspect ratio is nearly constant (1e-2
 * position, 1e-5 velocity; 1e-1 in the measurement).
 *
 * Every coordinate is decoupled from the others except through h in the noise, so the matrices
 * stay small and dense; plain arrays of numbers keep it exact and easy to test by hand.
 */
import type { Box } from '../../detect/types';

const STD_POSITION = 1 / 20;
const STD_VELOCITY = 1 / 160;

/** An 8-vector and its 8x8 covariance (row-major). */
export interface KalmanState {
  mean: number[];
  covariance: number[];
}

/** A box as the filter measures it: centre, aspect ratio, height. */
export function boxToMeasurement(box: Box): number[] {
  const w = box.x2 - box.x1;
  const h = box.y2 - box.y1;
  return [box.x1 + w / 2, box.y1 + h / 2, h > 0 ? w / h : 0, h];
}

/** The box of a state's first four components. */
export function measurementToBox(m: readonly number[]): Box {
  const h = m[3];
  const w = m[2] * h;
  return { x1: m[0] - w / 2, y1: m[1] - h / 2, x2: m[0] + w / 2, y2: m[1] + h / 2 };
}

function diagonal(values: readonly number[]): number[] {
  const n = values.length;
  const out = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) out[i * n + i] = values[i];
  return out;
}

/** A new track's state: the measured box, zero velocity, uncertainty scaled by its height. */
export function initiate(measurement: readonly number[]): KalmanState {
  const h = measurement[3];
  const std = [
    2 * STD_POSITION * h,
    2 * STD_POSITION * h,
    1e-2,
    2 * STD_POSITION * h,
    10 * STD_VELOCITY * h,
    10 * STD_VELOCITY * h,
    1e-5,
    10 * STD_VELOCITY * h,
  ];
  return { mean: [...measurement, 0, 0, 0, 0], covariance: diagonal(std.map((s) => s * s)) };
}

/**
 * One frame ahead: position += velocity; covariance F P F' + Q. F is the identity plus ones at
 * (i, i + 4), so F P F' is P with the velocity blocks added in, written out rather than multiplied.
 */
export function predict(state: KalmanState): KalmanState {
  const { mean, covariance: p } = state;
  const h = mean[3];
  const q = [STD_POSITION * h, STD_POSITION * h, 1e-2, STD_POSITION * h, STD_VELOCITY * h, STD_VELOCITY * h, 1e-5, STD_VELOCITY * h].map((s) => s * s);
  const nextMean = mean.slice();
  for (let i = 0; i < 4; i++) nextMean[i] += mean[i + 4];
  // F P: row i (< 4) becomes row i + row i+4.
  const fp = p.slice();
  for (let i = 0; i < 4; i++) for (let j = 0; j < 8; j++) fp[i * 8 + j] += p[(i + 4) * 8 + j];
  // (F P) F': column j (< 4) becomes column j + column j+4.
  const next = fp.slice();
  for (let i = 0; i < 8; i++) for (let j = 0; j < 4; j++) next[i * 8 + j] += fp[i * 8 + j + 4];
  for (let i = 0; i < 8; i++) next[i * 8 + i] += q[i];
  return { mean: nextMean, covariance: next };
}

/** The measurement the state predicts, and that prediction's covariance (H P H' + R). */
export function project(state: KalmanState): { mean: number[]; covariance: number[] } {
  const h = state.mean[3];
  const r = [STD_POSITION * h, STD_POSITION * h, 1e-1, STD_POSITION * h].map((s) => s * s);
  const covariance = new Array<number>(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) covariance[i * 4 + j] = state.covariance[i * 8 + j] + (i === j ? r[i] : 0);
  return { mean: state.mean.slice(0, 4), covariance };
}

/** Cholesky factor L (lower, row-major) of a symmetric positive definite n x n matrix. */
function cholesky(a: readonly number[], n: number): number[] {
  const l = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        // Round-off can make a tiny pivot negative; the covariances here are well conditioned.
        l[i * n + i] = Math.sqrt(Math.max(sum, 1e-12));
      } else {
        l[i * n + j] = sum / l[j * n + j];
      }
    }
  }
  return l;
}

/** Solve A x = b for symmetric positive definite A (n x n) through its Cholesky factor. */
function solveSpd(l: readonly number[], n: number, b: readonly number[]): number[] {
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * n + k] * y[k];
    y[i] = sum / l[i * n + i];
  }
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * x[k];
    x[i] = sum / l[i * n + i];
  }
  return x;
}

/**
 * Correct the state with a measured box: K = P H' S^-1, mean += K (z - H mean), P -= K S K'.
 * S is symmetric positive definite, so K comes from Cholesky solves, not an inverse.
 */
export function update(state: KalmanState, measurement: readonly number[]): KalmanState {
  const projected = project(state);
  const l = cholesky(projected.covariance, 4);
  // K' = S^-1 (H P'), and H P' = the first four rows of P (P is symmetric): solve per column of P.
  const gain = new Array<number>(8 * 4); // K, 8 x 4, row-major
  for (let col = 0; col < 8; col++) {
    const b = [0, 1, 2, 3].map((row) => state.covariance[row * 8 + col]);
    const x = solveSpd(l, 4, b);
    for (let k = 0; k < 4; k++) gain[col * 4 + k] = x[k];
  }
  const innovation = measurement.map((z, i) => z - projected.mean[i]);
  const mean = state.mean.map((m, i) => m + gain[i * 4] * innovation[0] + gain[i * 4 + 1] * innovation[1] + gain[i * 4 + 2] * innovation[2] + gain[i * 4 + 3] * innovation[3]);
  // K S K' = K (H P) since K S = P H'; subtracting it leaves (I - K H) P.
  const covariance = state.covariance.slice();
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += gain[i * 4 + k] * state.covariance[k * 8 + j];
      covariance[i * 8 + j] -= sum;
    }
  }
  return { mean, covariance };
}
