/**
 * A TensorRT calibration cache from our statistics: per tensor, scale = symmetric threshold / 127,
 * keyed by ONNX tensor names (which TensorRT's ONNX parser keeps), written in TensorRT's own text
 * format by lib/tensorrt/calibration-cache.ts. TensorRT <= 10 builds an implicit INT8 engine from
 * it without calibrating on the device.
 */
import { invalidArgument } from '../../util/errors';
import { formatCalibrationCache, type CalibrationCache } from './tensorrt-cache-format';
import type { QuantizationPlan } from '../plan';
import type { ActivationStatistics, RangeMethod } from '../statistics';

export interface TensorRtCacheOptions {
  /** NV_TENSORRT_VERSION of the TensorRT that will read it (8601 for 8.6.1, 100300 for 10.3.0); default 8601. */
  version?: number;
  /** Range method for tensors the plan does not cover (default 'entropy', as TensorRT's calibrator). */
  method?: RangeMethod;
}

/** The cache: planned activations keep their plan's method, every other tensor with statistics uses `method`. */
export function tensorRtCalibrationCache(
  statistics: ReadonlyMap<string, ActivationStatistics>,
  plan?: QuantizationPlan,
  options: TensorRtCacheOptions = {},
): CalibrationCache {
  const version = options.version ?? 8601;
  if (!Number.isInteger(version) || version <= 0) throw invalidArgument('a positive integer', 'options.version', version);
  const fallback = options.method ?? 'entropy';
  const planned = new Map((plan?.activations ?? []).map((a) => [a.name, a.method]));
  const scales = new Map<string, number>();
  for (const [name, stats] of statistics) {
    if (stats.count === 0) continue;
    const range = stats.range(planned.get(name) ?? fallback, true);
    const threshold = Math.max(Math.abs(range.min), Math.abs(range.max));
    // A tensor of zeros still needs a positive scale; TensorRT rejects 0.
    scales.set(name, threshold > 0 ? threshold / 127 : 2 ** -126);
  }
  return { version, algorithm: 'EntropyCalibration2', scales };
}

/** The cache as the text TensorRT reads. */
export function emitTensorRtCalibrationCache(
  statistics: ReadonlyMap<string, ActivationStatistics>,
  plan?: QuantizationPlan,
  options: TensorRtCacheOptions = {},
): string {
  return formatCalibrationCache(tensorRtCalibrationCache(statistics, plan, options));
}
