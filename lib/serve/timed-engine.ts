/**
 * An Engine that reports how long each detect() took, for the inference-time metric, and is
 * otherwise the engine itself (the pipeline and the HTTP routes call it like any engine).
 */
import type { Engine } from '../engine';

export function timedEngine(engine: Engine, observe: (seconds: number) => void): Engine {
  return new Proxy(engine, {
    get(target, property) {
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
