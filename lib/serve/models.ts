/**
 * The models a server runs, by id: engines it opened (and disposes at close) or engines the caller
 * handed in (left open). Each model has two timed views of its engine, so the inference metric
 * tells stream frames from HTTP requests.
 */
import { createEngine, type Engine, type EngineOptions } from '../engine';
import { Int8DetectError, invalidArgument } from '../util/errors';
import { ItemPool } from '../util/pool';
import type { ServerMetrics } from './metrics';
import { timedEngine } from './timed-engine';
import type { ModelOptions, ServerOptions } from './types';

export interface ServedModel {
  id: string;
  engine: Engine;
  owned: boolean;
  /**
   * The engine for one camera's pipeline, timed for the metric as 'stream', letting the pipeline
   * hand it `inFlight` frames at once.
   */
  forStream(inFlight: number): Engine;
  /** The engine for HTTP requests, timed as 'http'. */
  forHttp: Engine;
  /**
   * HTTP requests enter the engine through these slots, as many as its concurrency; the rest wait
   * here rather than in the engine's own queue, so camera frames never queue behind a burst of
   * uploads and stream latency stays bounded under HTTP load.
   */
  httpSlots: ItemPool<number>;
}

export function modelOptionsOf(options: ServerOptions): Array<[string, ModelOptions]> {
  const entries: Array<[string, ModelOptions]> = [];
  if (options.engine !== undefined) entries.push(['default', { engine: options.engine }]);
  if (options.model !== undefined) {
    entries.push(['default', { model: options.model, ...(options.backend !== undefined ? { backend: options.backend } : {}) }]);
  }
  if (options.models !== undefined) {
    if (typeof options.models !== 'object' || options.models === null || Array.isArray(options.models)) throw invalidArgument('an object of models by id', 'options.models', options.models);
    entries.push(...Object.entries(options.models));
  }
  if (entries.length === 0) throw new Int8DetectError('ERR_ARGUMENT', 'Expected a model for the server (options.model, options.engine or options.models) but received none');
  const ids = new Set<string>();
  for (const [id] of entries) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw invalidArgument('a model id of 1-64 letters, digits, _ . or -', 'options.models', id);
    if (ids.has(id)) throw invalidArgument('model ids given once (model/engine are the model "default")', 'options.models', id);
    ids.add(id);
  }
  return entries;
}

function isEngine(value: ModelOptions): value is { engine: Engine } {
  return typeof value === 'object' && value !== null && 'engine' in value && value.engine !== undefined;
}

/** Open every model; on a failure, close those already open and rethrow. */
export async function openModels(entries: Array<[string, ModelOptions]>, metrics: ServerMetrics): Promise<Map<string, ServedModel>> {
  const models = new Map<string, ServedModel>();
  try {
    for (const [id, options] of entries) {
      const owned = !isEngine(options);
      const engine = isEngine(options) ? options.engine : await createEngine(options as EngineOptions);
      const labels = (source: 'stream' | 'http') => ({ model: id, backend: engine.info.backend, precision: engine.info.precision, source });
      models.set(id, {
        id,
        engine,
        owned,
        forStream: (inFlight) => timedEngine(engine, (s) => metrics.inference.observe(labels('stream'), s), inFlight),
        forHttp: timedEngine(engine, (s) => metrics.inference.observe(labels('http'), s)),
        httpSlots: new ItemPool(Array.from({ length: engine.info.concurrency }, (_, i) => i)),
      });
    }
  } catch (err) {
    await closeModels(models);
    throw err;
  }
  return models;
}

export async function closeModels(models: Map<string, ServedModel>): Promise<void> {
  await Promise.all([...models.values()].filter((m) => m.owned).map((m) => m.engine.dispose()));
}
