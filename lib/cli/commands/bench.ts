/** `int8-detect bench`: latency percentiles and throughput, raw inference beside detect(). */
import sharp from 'sharp';
import { benchmarkEngine } from '../../bench';
import { cpuInfo } from '../../hardware/cpu';
import { createEngine } from '../../engine';
import { listImages } from '../../util/files';
import { formatPerfSummary, summarizePerfCounters } from '../../runtimes/openvino/perf-table';
import type { RawFrame } from '../../image/frame';
import { engineFlags, engineFlagsHelp, engineOptionsFrom, parseCommandArgs, parseNumber, UsageError } from '../args';
import type { Command } from '../command';
import { ProgressBar } from '../progress';

/** Frames decoded once, at the bench size, so decoding is not part of what is timed. */
async function loadFrames(source: string | undefined, width: number, height: number, count: number): Promise<RawFrame[]> {
  if (source === undefined) {
    // No images given: a deterministic synthetic scene (gradients and blocks), enough to time with.
    const data = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 3;
        const block = ((x >> 6) + (y >> 6)) & 1;
        data[o] = (x * 255) / width;
        data[o + 1] = (y * 255) / height;
        data[o + 2] = block ? 200 : 40;
      }
    }
    return [{ data, width, height, format: 'rgb' }];
  }
  const files = (await listImages(source)).slice(0, count);
  return Promise.all(
    files.map(async (file) => {
      const { data, info } = await sharp(file).autoOrient().resize(width, height, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, format: 'rgb' as const };
    }),
  );
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'latency (p50/p90/p99) and throughput: raw inference and detect() side by side',
  help: `Usage: int8-detect bench --model M [--backend B] [--iterations N] [--json] [options]

Times raw inference (the model on a preprocessed tensor) and detect() end to end (preprocessing a
decoded frame in memory, inference, decoding, NMS) in interleaved rounds, and prints medians:
latency percentiles one call at a time, throughput with several calls in flight, and the ratio of
detect() to raw throughput measured within each round.

Options:
${engineFlagsHelp}
      --iterations N       calls per mode in each round (default 20)
      --rounds N           interleaved rounds (default 5)
      --depth N            calls in flight for throughput (default: concurrency + 1)
      --images PATH        image file or folder to take frames from (default: a synthetic frame)
      --frames N           how many images to cycle through (default 8)
      --width W            frame width (default 640)
      --height H           frame height (default 480)
      --json               print one JSON object with every figure
  -h, --help               show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      {
        ...engineFlags,
        iterations: { type: 'string' },
        rounds: { type: 'string' },
        depth: { type: 'string' },
        images: { type: 'string' },
        frames: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    const iterations = parseNumber(values.iterations, '--iterations', { integer: true, min: 1 }) ?? 20;
    const rounds = parseNumber(values.rounds, '--rounds', { integer: true, min: 1 }) ?? 5;
    const depth = parseNumber(values.depth, '--depth', { integer: true, min: 1 });
    const width = parseNumber(values.width, '--width', { integer: true, min: 1 }) ?? 640;
    const height = parseNumber(values.height, '--height', { integer: true, min: 1 }) ?? 480;
    const count = parseNumber(values.frames, '--frames', { integer: true, min: 1 }) ?? 8;
    const frames = await loadFrames(values.images as string | undefined, width, height, count);
    const engineOptions = engineOptionsFrom(values);
    const perfCounters = values['perf-counters'] === true;
    const engine = await createEngine(engineOptions);
    if (perfCounters && engine.perfCounters() === undefined) {
      await engine.dispose();
      throw new UsageError(`--perf-counters reads a backend's per-layer counters, and ${engine.info.backend} keeps none: use a backend that profiles (OpenVINO)`);
    }
    const progress = new ProgressBar('bench', rounds);
    try {
      const result = await benchmarkEngine(engine, {
        frames,
        iterations,
        rounds,
        ...(depth !== undefined ? { depth } : {}),
        onRound: (r) => progress.update(r),
      });
      progress.done();
      const counters = perfCounters ? engine.perfCounters() : undefined;
      const perfSummary = counters ? summarizePerfCounters(counters) : undefined;
      const cpu = cpuInfo();
      const info = engine.info;
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify({ ...result, model: info.model.path, backend: info.backend, device: info.device, precision: info.precision, inferencePrecision: info.inferencePrecision, ...(perfSummary ? { perfCounters: perfSummary } : {}), concurrency: info.concurrency, cpu: { model: cpu.model, cores: cpu.cores, features: cpu.features, int8: cpu.int8Summary } })}\n`,
        );
        return;
      }
      const row = (name: string, m: typeof result.raw) =>
        `${name.padEnd(10)} ${m.latencyMs.p50.toFixed(2).padStart(8)} ${m.latencyMs.p90.toFixed(2).padStart(8)} ${m.latencyMs.p99.toFixed(2).padStart(8)} ${m.throughput.toFixed(1).padStart(10)}`;
      process.stdout.write(
        [
          `model   ${info.model.path} (${info.model.family}, ${info.precision}${info.inferencePrecision ? `, computes in ${info.inferencePrecision}` : ''}) on ${info.backend}/${info.device}, concurrency ${info.concurrency}`,
          `cpu     ${cpu.model}, ${cpu.cores} threads: ${cpu.int8Summary}`,
          `frames  ${result.frame.width}x${result.frame.height} ${result.frame.format} in memory; ${rounds} interleaved rounds x ${iterations} calls; throughput with ${result.depth} in flight`,
          '',
          `${'mode'.padEnd(10)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'per second'.padStart(10)}`,
          row('raw', result.raw),
          row('detect()', result.detect),
          '',
          `detect() throughput / raw inference throughput: ${result.throughputRatio.toFixed(3)} (median of per-round ratios)`,
          '',
          ...(perfSummary ? [formatPerfSummary(perfSummary)] : []),
        ].join('\n'),
      );
    } finally {
      await engine.dispose();
    }
  },
};
