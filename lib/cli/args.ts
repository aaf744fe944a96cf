/** Argument parsing shared by the commands: node's parseArgs, with errors a person can act on. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { BackendName } from '../runtimes/backend';
import { BIAS_CORRECTION_MODES, type BiasCorrectionMode } from '../quantize/bias-correction';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseCommandArgs(argv: string[], options: OptionSpec, allowPositionals: boolean): ParsedArgs {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function requireString(value: unknown, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

export function parseNumber(value: unknown, flag: string, { integer = false, min = -Infinity, max = Infinity } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new UsageError(`${flag} expects ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}, got ${String(value)}`);
  }
  return n;
}

export function parseBackend(value: unknown): 'auto' | BackendName {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'onnxruntime' || value === 'openvino' || value === 'tensorrt') return value;
  throw new UsageError(`--backend expects auto, onnxruntime, openvino or tensorrt, got ${String(value)}`);
}

/** Engine options every model-running command shares. */
export const engineFlags = {
  model: { type: 'string', short: 'm' },
  backend: { type: 'string', short: 'b' },
  device: { type: 'string' },
  family: { type: 'string' },
  labels: { type: 'string' },
  threads: { type: 'string' },
  concurrency: { type: 'string' },
  'inference-precision': { type: 'string' },
  'performance-hint': { type: 'string' },
} as const satisfies OptionSpec;

export const engineFlagsHelp = `  -m, --model PATH       ONNX model (YOLOX, YOLOv5, YOLOv8 or YOLO11 export), or OpenVINO IR (.xml, backend openvino)
  -b, --backend NAME     auto (default), onnxruntime, openvino or tensorrt
      --device NAME      backend device (onnxruntime: cpu; openvino: CPU (default), GPU, GPU.1, NPU, AUTO)
      --family NAME      yolox, yolov5 or yolov8 when the model does not say it
      --labels PATH      class names: one a line, or a JSON array/object
      --threads N        CPU threads per inference (default: cores / concurrency)
      --concurrency N    inferences in flight at once (default 1)
      --inference-precision P  openvino: f32, bf16 or f16 (default: the device's own; f32 forces FP32 on BF16 CPUs)
      --performance-hint H     openvino: latency or throughput (default: latency at concurrency 1, else throughput)`;

export function engineOptionsFrom(values: Record<string, unknown>) {
  const family = values.family as string | undefined;
  if (family !== undefined && !['yolox', 'yolov5', 'yolov8'].includes(family)) {
    throw new UsageError(`--family expects yolox, yolov5 or yolov8, got ${family}`);
  }
  const precision = values['inference-precision'] as string | undefined;
  if (precision !== undefined && !['f32', 'bf16', 'f16'].includes(precision)) {
    throw new UsageError(`--inference-precision expects f32, bf16 or f16, got ${precision}`);
  }
  const hint = values['performance-hint'] as string | undefined;
  if (hint !== undefined && !['latency', 'throughput'].includes(hint)) {
    throw new UsageError(`--performance-hint expects latency or throughput, got ${hint}`);
  }
  const openvino = {
    ...(precision !== undefined ? { inferencePrecision: precision as 'f32' | 'bf16' | 'f16' } : {}),
    ...(hint !== undefined ? { performanceHint: hint as 'latency' | 'throughput' } : {}),
  };
  return {
    model: requireString(values.model, '--model'),
    ...(Object.keys(openvino).length > 0 ? { openvino } : {}),
    backend: parseBackend(values.backend),
    ...(values.device !== undefined ? { device: values.device as string } : {}),
    ...(family !== undefined ? { family: family as 'yolox' | 'yolov5' | 'yolov8' } : {}),
    ...(values.labels !== undefined ? { labels: values.labels as string } : {}),
    ...(values.threads !== undefined ? { threads: parseNumber(values.threads, '--threads', { integer: true, min: 1 }) } : {}),
    ...(values.concurrency !== undefined ? { concurrency: parseNumber(values.concurrency, '--concurrency', { integer: true, min: 1 }) } : {}),
  };
}

/** --bias-correction all|weights|none. */
export function parseBiasCorrection(value: unknown): BiasCorrectionMode {
  if (BIAS_CORRECTION_MODES.includes(value as BiasCorrectionMode)) return value as BiasCorrectionMode;
  throw new UsageError(`--bias-correction expects all, weights or none, got ${String(value)}`);
}
