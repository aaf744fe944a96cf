/**
 * createEngine's options checked strictly and filled before anything is read or opened
 * (sharp's habit: TypeScript decides, every default filled in one place). Unknown keys are
 * refused with the closest known one; numbers are bounded, the bound named.
 */
import * as os from 'node:os';
import { resolveDetectOptions } from '../detect/postprocess';
import type { BackendName } from '../runtimes/backend';
import { backendDescriptor, isBackendName, registeredBackends } from '../runtimes/registry';
import { config } from '../util/config';
import { Int8DetectError, invalidArgument } from '../util/errors';
import { checkKnownKeys } from '../util/option-keys';
import type { EngineOptions } from './types';
import type { Precision } from '../runtimes/session';

/** The keys every backend shares; each registered backend adds its own option group under its name. */
const ENGINE_KEYS = [
  'model',
  'backend',
  'device',
  'precision',
  'family',
  'labels',
  'preprocess',
  'concurrency',
  'threads',
  'detect',
  'calibrator',
  'maxDrop',
  'quantization',
  'onProgress',
  'signal',
] as const;

/** Inferences in flight at once: each holds a worker, an infer request or an execution context with its buffers. */
export const MAX_CONCURRENCY = 64;

/** CPU threads per inference: more than four per core only adds contention (and a huge value hangs thread pools). */
export function maxThreads(): number {
  return 4 * os.availableParallelism();
}

export interface ResolvedEngineOptions {
  requested: 'auto' | BackendName;
  precision: Precision | 'auto';
  concurrency: number;
  threads: number;
  detect: ReturnType<typeof resolveDetectOptions>;
}

function boundedInteger(value: unknown, name: string, fallback: number, max: number, why: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidArgument('a positive integer', name, value);
  if (value > max) throw new Int8DetectError('ERR_ARGUMENT', `${name} is ${value}, above its bound of ${max} (${why})`);
  return value;
}

export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'createEngine(options)', options);
  const backends = registeredBackends();
  checkKnownKeys(options, [...ENGINE_KEYS, ...backends.map((b) => b.name)], 'createEngine()');
  const requested = options.backend ?? 'auto';
  if (requested !== 'auto' && !isBackendName(requested)) {
    throw invalidArgument(['auto', ...backends.map((b) => b.name)].map((n) => `'${n}'`).join(', ').replace(/, ([^,]*)$/, ' or $1'), 'options.backend', requested);
  }
  for (const backend of backends) backend.checkOptions?.((options as unknown as Record<string, unknown>)[backend.name]);
  const precision = options.precision ?? 'auto';
  if (!['auto', 'fp32', 'fp16', 'int8'].includes(precision)) throw invalidArgument("'auto', 'fp32', 'fp16' or 'int8'", 'options.precision', precision);
  const cores = os.availableParallelism();
  return {
    requested,
    precision,
    concurrency: boundedInteger(options.concurrency, 'options.concurrency', 1, MAX_CONCURRENCY, 'inferences in flight at once'),
    threads: boundedInteger(options.threads, 'options.threads', config.ortIntraOpThreads, maxThreads(), `4 threads per core on this machine's ${cores} cores`),
    detect: resolveDetectOptions(options.detect),
  };
}

/** The backend's own option group (`options.openvino`), when one was given. */
export function backendSettings(options: EngineOptions, name: BackendName): unknown {
  backendDescriptor(name);
  return (options as unknown as Record<string, unknown>)[name];
}
