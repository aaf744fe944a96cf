/**
 * Several engines timed side by side (`int8-detect bench --compare`, `--batch`): raw inference on
 * one preprocessed frame, every engine in each round (the order alternating between rounds), a
 * median per engine per round, then the median over rounds; each ratio is taken within a round
 * (against the reference engine's time in that round) and its median reported. Machines are
 * shared and single runs vary by tens of percent: only figures measured this way are compared.
 */
import { performance } from 'node:perf_hooks';
import { preprocessFrame, tensorSize } from './detect/preprocess';
import type { Engine } from './engine';
import { validateRawFrame, type RawFrame } from './image/frame';
import { median } from './util/statistics';

export interface CompareEntry {
  /** A short name for the table ('openvino f32', 'onnxruntime int8', 'batch 4'). */
  label: string;
  engine: Engine;
  /** Frames per call (a batch of raw tensors stacked along dimension 0; default 1). */
  batch?: number;
}

export interface CompareRow {
  label: string;
  batch: number;
  /** Median over rounds of the per-round median call time. */
  msPerCall: number;
  /** Frames per second at that time: batch / call time. */
  framesPerSecond: number;
  /** Each round's median call time, for ratios within rounds (ratioOf). */
  roundsMs: number[];
}

/** Median over rounds of a's time per frame over b's in the same round. */
export function ratioOf(a: CompareRow, b: CompareRow): number {
  return median(a.roundsMs.map((t, r) => t / a.batch / (b.roundsMs[r] / b.batch)));
}

export interface CompareOptions {
  frame: RawFrame;
  /** Calls per engine in each round (default 10). */
  iterations?: number;
  /** Rounds (default 7). */
  rounds?: number;
  /** Untimed calls per engine first (default 3). */
  warmup?: number;
  onRound?: (round: number, rounds: number) => void;
}

async function batchTensor(engine: Engine, frame: RawFrame, batch: number): Promise<Float32Array | Uint8Array> {
  const spec = engine.info.preprocess;
  const size = tensorSize(spec);
  const buffer = spec.dtype === 'uint8' ? new Uint8Array(size * batch) : new Float32Array(size * batch);
  await preprocessFrame(validateRawFrame(frame), spec, buffer.subarray(0, size));
  for (let i = 1; i < batch; i++) buffer.copyWithin(i * size, 0, size);
  return buffer;
}

export async function compareEngines(entries: readonly CompareEntry[], options: CompareOptions): Promise<CompareRow[]> {
  const iterations = options.iterations ?? 10;
  const rounds = options.rounds ?? 7;
  const calls = await Promise.all(
    entries.map(async (entry) => {
      const batch = entry.batch ?? 1;
      const input = await batchTensor(entry.engine, options.frame, batch);
      const info = entry.engine.info.model.inputs[0];
      const dims = [batch, ...(info.dims.slice(1) as number[])];
      const feeds = { [info.name]: { data: input, dims } };
      return () => entry.engine.infer(feeds);
    }),
  );
  for (const call of calls) for (let i = 0; i < (options.warmup ?? 3); i++) await call();
  const perRound: number[][] = entries.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = entries.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      const times: number[] = [];
      for (let k = 0; k < iterations; k++) {
        const started = performance.now();
        await calls[i]();
        times.push(performance.now() - started);
      }
      perRound[i].push(median(times));
    }
    options.onRound?.(r + 1, rounds);
  }
  return entries.map((entry, i) => {
    const batch = entry.batch ?? 1;
    const ms = median(perRound[i]);
    return { label: entry.label, batch, msPerCall: ms, framesPerSecond: (1000 * batch) / ms, roundsMs: perRound[i] };
  });
}
