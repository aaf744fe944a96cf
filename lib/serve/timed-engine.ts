/**
 * An Engine that reports how long each detect() took, for the inference-time metric, and is
 * otherwise the engine itself (the pipeline and the HTTP routes call it like any engine).
 * `inFlight` replaces `info.concurrency`, which is what a pipeline reads to decide how many of
 * its frames it hands the engine at once.
 */
import type { Engine } from '../engine';

export function timedEngine(engine: Engine, observe: (seconds: number) => void, inFlight?: number): Engine {
  return new Proxy(engine, {
    get(target, property) {
      if (property === 'info' && inFlight !== undefined) return { ...target.info, concurrency: inFlight };
      if (property === 'detect') {
        const detect: Engine['detect'] = async (frame, options) => {
          const started = process.hrtime.bigint();
          try {
            return await target.detect(frame, options);
          } finally {
            observe(Number(process.hrtime.bigint() - started) / 1e9);
          }
        };
        return detect;
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
