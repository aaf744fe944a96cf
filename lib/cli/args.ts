/** Argument parsing shared by the commands: node's parseArgs, with errors a person can act on. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { BackendName } from '../runtimes/backend';
import '../runtimes/builtin';
import { isBackendName, registeredBackends } from '../runtimes/registry';
import type { IgnoredScope } from '../quantize/placement';
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

/** --backend: 'auto' or a registered backend's name. */
export function parseBackend(value: unknown): 'auto' | BackendName {
  if (value === undefined) return 'auto';
  if (value === 'auto' || isBackendName(value)) return value;
  const names = registeredBackends().map((b) => b.name);
  throw new UsageError(`--backend expects auto, ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}, got ${String(value)}`);
}

/** Each backend's own flags (its option group), from the registry. */
const backendFlags = registeredBackends().flatMap((b) => (b.cli ? [{ name: b.name, cli: b.cli }] : []));

/** Engine options every model-running command shares, and each backend's own. */
export const engineFlags: OptionSpec = {
  model: { type: 'string', short: 'm' },
  backend: { type: 'string', short: 'b' },
  device: { type: 'string' },
  family: { type: 'string' },
  labels: { type: 'string' },
  threads: { type: 'string' },
  concurrency: { type: 'string' },
  ...Object.assign({}, ...backendFlags.map((b) => b.cli.flags)),
};

const backendNames = registeredBackends().map((b) => b.name);

export const engineFlagsHelp = [
  `  -m, --model PATH       ONNX model (YOLOX, YOLOv5, YOLOv8 or YOLO11 export), or a model file a backend reads itself (OpenVINO IR .xml)`,
  `  -b, --backend NAME     auto (default), ${backendNames.slice(0, -1).join(', ')} or ${backendNames[backendNames.length - 1]}`,
  `      --device NAME      backend device (the backend's default: cpu, CPU, cuda:0; OpenVINO also GPU, GPU.1, NPU, AUTO)`,
  `      --family NAME      yolox, yolov5 or yolov8 when the model does not say it`,
  `      --labels PATH      class names: one a line, or a JSON array/object`,
  `      --threads N        CPU threads per inference (default: cores / concurrency)`,
  `      --concurrency N    inferences in flight at once (default 1)`,
  ...backendFlags.map((b) => b.cli.help),
].join('\n');

export function engineOptionsFrom(values: Record<string, unknown>) {
  const family = values.family as string | undefined;
  if (family !== undefined && !['yolox', 'yolov5', 'yolov8'].includes(family)) {
    throw new UsageError(`--family expects yolox, yolov5 or yolov8, got ${family}`);
  }
  const groups: Record<string, unknown> = {};
  for (const { name, cli } of backendFlags) {
    let group: unknown;
    try {
      group = cli.options(values);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (group !== undefined) groups[name] = group;
  }
  return {
    model: requireString(values.model, '--model'),
    ...groups,
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

/** --ignore values: 'type:Conv' an op type, 'name:Conv_41' a node name, anything else a regular expression over node names. */
export function ignoredScopeFrom(patterns: readonly string[]): IgnoredScope {
  const scope = { names: [] as string[], types: [] as string[], patterns: [] as RegExp[] };
  for (const p of patterns) {
    if (p.startsWith('type:')) scope.types.push(p.slice(5));
    else if (p.startsWith('name:')) scope.names.push(p.slice(5));
    else {
      try {
        scope.patterns.push(new RegExp(p));
      } catch {
        throw new UsageError(`--ignore expects type:OP, name:NODE or a regular expression, got ${p}`);
      }
    }
  }
  return scope;
}
