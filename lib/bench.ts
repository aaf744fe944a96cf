/**
 * Latency and throughput of an engine, raw inference and detect() end to end, measured side by
 * side in interleaved rounds: the machines this runs on are shared and single runs vary, so every
 * figure is a median over rounds and the ratio is taken within each round.
 */
import { performance } from 'node:perf_hooks';
import { preprocessFrame, tensorSize } from './detect/preprocess';
import type { DetectOptions } from './detect/types';
import type { Engine } from './engine';
import { median, percentile } from './util/statistics';
import { validateRawFrame, type RawFrame } from './image/frame';

export interface LatencyStats {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

export interface ModeResult {
  /** Milliseconds per call, one call at a time. */
  latencyMs: LatencyStats;
  /** Calls per second with `depth` calls in flight: the median over rounds. */
  throughput: number;
}

export interface BenchResult {
  rounds: number;
  iterationsPerRound: number;
  depth: number;
  frame: { width: number; height: number; format: string };
  raw: ModeResult;
  detect: ModeResult;
  /** Median over rounds of detect throughput / raw throughput in the same round. */
  throughputRatio: number;
}

export interface BenchOptions {
  frames: RawFrame[];
  /** Calls per mode in each round (default 20). */
  iterations?: number;
  /** Interleaved rounds (default 5). */
  rounds?: number;
  /** Calls in flight for the throughput figures (default: the engine's concurrency + 1). */
  depth?: number;
  detectOptions?: DetectOptions;
  onRound?: (round: number, rounds: number) => void;
}

function latencyStats(samples: number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

/** Run `count` calls keeping `depth` in flight; returns calls per second. */
async function throughputOf(count: number, depth: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) await call(next++);
  };
  await Promise.all(Array.from({ length: Math.min(depth, count) }, lane));
  return count / ((performance.now() - started) / 1000);
}

export async function benchmarkEngine(engine: Engine, options: BenchOptions): Promise<BenchResult> {
  const iterations = options.iterations ?? 20;
  const rounds = options.rounds ?? 5;
  const depth = options.depth ?? engine.info.concurrency + 1;
  const frames = options.frames;
  // Raw inference gets tensors already preprocessed, one per frame, so it measures the runtime alone.
  const spec = engine.info.preprocess;
  const tensors = await Promise.all(
    frames.map(async (frame) => {
      const buffer = spec.dtype === 'uint8' ? new Uint8Array(tensorSize(spec)) : new Float32Array(tensorSize(spec));
      await preprocessFrame(validateRawFrame(frame), spec, buffer);
      return buffer;
    }),
  );
  const raw = (i: number) => engine.infer(tensors[i % tensors.length]);
  const detect = (i: number) => engine.detect(frames[i % frames.length], options.detectOptions);

  for (let i = 0; i < 5; i++) {
    await raw(i);
    await detect(i);
  }
  const rawLatency: number[] = [];
  const detectLatency: number[] = [];
  const rawThroughput: number[] = [];
  const detectThroughput: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < iterations; i++) {
      let t = performance.now();
      await raw(i);
      rawLatency.push(performance.now() - t);
      t = performance.now();
      await detect(i);
      detectLatency.push(performance.now() - t);
    }
    // Alternate which mode goes first, so neither always runs on a warmer or quieter machine.
    const first = r % 2 === 0 ? raw : detect;
    const second = r % 2 === 0 ? detect : raw;
    const a = await throughputOf(iterations, depth, first);
    const b = await throughputOf(iterations, depth, second);
    const [rawTp, detectTp] = r % 2 === 0 ? [a, b] : [b, a];
    rawThroughput.push(rawTp);
    detectThroughput.push(detectTp);
    ratios.push(detectTp / rawTp);
    options.onRound?.(r + 1, rounds);
  }
  return {
    rounds,
    iterationsPerRound: iterations,
    depth,
    frame: { width: frames[0].width, height: frames[0].height, format: frames[0].format },
    raw: { latencyMs: latencyStats(rawLatency), throughput: median(rawThroughput) },
    detect: { latencyMs: latencyStats(detectLatency), throughput: median(detectThroughput) },
    throughputRatio: median(ratios),
  };
}
