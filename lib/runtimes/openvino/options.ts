/** OpenVINO's own engine options, checked and filled in TypeScript before the native call. */
import * as path from 'node:path';
import { Int8DetectError, invalidArgument } from '../../util/errors';
import type { NativeOpenVinoLoadOptions } from './native-types';

export interface OpenVinoBackendOptions {
  /**
   * OpenVINO's PERFORMANCE_HINT: 'latency' (one stream, fastest single run) or 'throughput'
   * (several streams for several runs in flight). Default: 'latency' at concurrency 1, else 'throughput'.
   */
  performanceHint?: 'latency' | 'throughput';
  /**
   * INFERENCE_PRECISION_HINT. By default OpenVINO picks the device's fastest float type, which is
   * bf16 on CPUs with AVX512-BF16 or AMX: 'f32' forces FP32 (for benchmarks and accuracy baselines).
   */
  inferencePrecision?: 'f32' | 'bf16' | 'f16';
  /** Enable PERF_COUNT: per-layer timings and kernels, read with engine.perfCounters() (small cost per run). */
  perfCounters?: boolean;
  /** Keep compiled models in OpenVINO's CACHE_DIR under the engine's cache folder (default true). */
  modelCache?: boolean;
}

const HINTS = ['latency', 'throughput'] as const;
const PRECISIONS = ['f32', 'bf16', 'f16'] as const;

/** 'cpu' -> 'CPU', 'gpu.1' -> 'GPU.1', 'auto:gpu,cpu' -> 'AUTO:GPU,CPU'; absent -> 'CPU'. */
export function openVinoDeviceName(device: string | undefined): string {
  if (device === undefined || device === '') return 'CPU';
  if (typeof device !== 'string') throw invalidArgument("an OpenVINO device name such as 'CPU', 'GPU.0', 'NPU' or 'AUTO'", 'options.device', device);
  return device.trim().toUpperCase();
}

export interface ResolvedOpenVinoSettings {
  device: string;
  performanceHint: NativeOpenVinoLoadOptions['performanceHint'];
  inferencePrecision: NativeOpenVinoLoadOptions['inferencePrecision'];
  perfCounters: boolean;
  cacheDir: string | null;
}

/** Every default filled: what loadModel() receives beside the model, the pool size and the threads. */
export function resolveOpenVinoOptions(
  options: OpenVinoBackendOptions | undefined,
  common: { device?: string; concurrency: number; cacheDir: string },
): ResolvedOpenVinoSettings {
  const given = options ?? {};
  if (typeof given !== 'object' || given === null) throw invalidArgument('an object', 'options.openvino', given);
  if (given.performanceHint !== undefined && !HINTS.includes(given.performanceHint)) {
    throw invalidArgument("'latency' or 'throughput'", 'options.openvino.performanceHint', given.performanceHint);
  }
  if (given.inferencePrecision !== undefined && !PRECISIONS.includes(given.inferencePrecision)) {
    throw invalidArgument("'f32', 'bf16' or 'f16'", 'options.openvino.inferencePrecision', given.inferencePrecision);
  }
  for (const flag of ['perfCounters', 'modelCache'] as const) {
    if (given[flag] !== undefined && typeof given[flag] !== 'boolean') throw invalidArgument('a boolean', `options.openvino.${flag}`, given[flag]);
  }
  const hint = given.performanceHint ?? (common.concurrency > 1 ? 'throughput' : 'latency');
  return {
    device: openVinoDeviceName(common.device),
    performanceHint: hint === 'throughput' ? 'THROUGHPUT' : 'LATENCY',
    inferencePrecision: given.inferencePrecision ?? null,
    perfCounters: given.perfCounters ?? false,
    cacheDir: given.modelCache === false ? null : path.join(common.cacheDir, 'openvino'),
  };
}

const KNOWN_OPTIONS = ['performanceHint', 'inferencePrecision', 'perfCounters', 'modelCache'];

/** createEngine's `openvino` group checked on its own (unknown keys included), before any model is read. */
export function checkOpenVinoOptions(value: unknown): void {
  if (value !== undefined && typeof value === 'object' && value !== null) {
    const unknown = Object.keys(value).filter((key) => !KNOWN_OPTIONS.includes(key));
    if (unknown.length > 0) throw new Int8DetectError('ERR_ARGUMENT', `Unknown option options.openvino.${unknown[0]}: the openvino options are ${KNOWN_OPTIONS.join(', ')}`);
  }
  resolveOpenVinoOptions(value as OpenVinoBackendOptions | undefined, { concurrency: 1, cacheDir: '' });
}

function oneOf<T extends string>(value: unknown, flag: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new Int8DetectError('ERR_ARGUMENT', `--${flag} expects ${allowed.join(', ')}, got ${String(value)}`);
  return value as T;
}

/** `--inference-precision`, `--performance-hint`, `--perf-counters` on every command that opens an engine. */
export const openVinoCliFlags = {
  flags: { 'inference-precision': { type: 'string' }, 'performance-hint': { type: 'string' }, 'perf-counters': { type: 'boolean' } },
  help: `      --inference-precision P  openvino: f32, bf16 or f16 (default: the device's own; f32 forces FP32 on BF16 CPUs)
      --performance-hint H     openvino: latency or throughput (default: latency at concurrency 1, else throughput)
      --perf-counters          openvino: per-layer counters (bench prints them by layer and kernel type)`,
  options(values: Record<string, unknown>): OpenVinoBackendOptions | undefined {
    const inferencePrecision = oneOf(values['inference-precision'], 'inference-precision', PRECISIONS);
    const performanceHint = oneOf(values['performance-hint'], 'performance-hint', HINTS);
    const options: OpenVinoBackendOptions = {
      ...(inferencePrecision !== undefined ? { inferencePrecision } : {}),
      ...(performanceHint !== undefined ? { performanceHint } : {}),
      ...(values['perf-counters'] === true ? { perfCounters: true } : {}),
    };
    return Object.keys(options).length > 0 ? options : undefined;
  },
} as const;
