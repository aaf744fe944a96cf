/** `int8-detect bench`: latency percentiles and throughput, raw inference beside detect(). */
import sharp from 'sharp';
import { benchmarkEngine } from '../../bench';
import { cpuInfo } from '../../hardware/cpu';
import { createEngine } from '../../engine';
import { Int8DetectError } from '../../util/errors';
import { IMAGE_EXTENSIONS, listImages } from '../../util/files';
import { formatPerfSummary, summarizePerfCounters } from '../../runtimes/openvino/perf-table';
import type { RawFrame } from '../../image/frame';
import { engineFlags, engineFlagsHelp, engineOptionsFrom, parseCommandArgs, parseNumber, UsageError } from '../args';
import type { Command } from '../command';
import { ProgressBar } from '../progress';
import { formatCompare, runBatchSizes, runCompare } from './bench-compare';

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
  const files = (
    await listImages(source).catch(() => {
      throw new UsageError(`no such image or folder: --images ${source}`);
    })
  ).slice(0, count);
  if (files.length === 0) throw new UsageError(`no images (${[...IMAGE_EXTENSIONS].join(', ')}) in --images ${source}`);
  return Promise.all(
    files.map(async (file) => {
      try {
        const { data, info } = await sharp(file, { failOn: 'error' }).autoOrient().resize(width, height, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
        return { data, width: info.width, height: info.height, format: 'rgb' as const };
      } catch (err) {
        // sharp's message alone ("unsupported image format") does not say which file.
        throw new Int8DetectError('ERR_FRAME', `Could not decode the image ${file}: ${(err as Error).message}`, { cause: err });
      }
    }),
  );
}

/** Frames bench makes are at most 8K a side (8192 x 8192 RGB is 192 MiB; a mistyped 100000 would ask for 28 GiB). */
const MAX_FRAME_SIDE = 8192;

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
      --compare            FP32, the device's default precision and INT8 on every available backend (or
                           the one --backend names), raw inference timed in interleaved rounds, with ratios
      --int8 PATH          with --compare: an INT8 model (Q/DQ ONNX, OpenVINO IR .xml; repeatable)
      --calib DIR          with --compare: quantize the model for each backend that has no --int8 file
                           (createEngine's INT8 flow, cached after the first run)
      --batch LIST         frames per inference, e.g. 1,4,8: one engine per size, frames/s at each
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
        compare: { type: 'boolean' },
        int8: { type: 'string', multiple: true },
        calib: { type: 'string' },
        batch: { type: 'string' },
      },
      false,
    );
    const iterations = parseNumber(values.iterations, '--iterations', { integer: true, min: 1, max: 1_000_000 }) ?? 20;
    const rounds = parseNumber(values.rounds, '--rounds', { integer: true, min: 1, max: 10_000 }) ?? 5;
    const depth = parseNumber(values.depth, '--depth', { integer: true, min: 1, max: 1024 });
    const width = parseNumber(values.width, '--width', { integer: true, min: 2, max: MAX_FRAME_SIDE }) ?? 640;
    const height = parseNumber(values.height, '--height', { integer: true, min: 2, max: MAX_FRAME_SIDE }) ?? 480;
    const count = parseNumber(values.frames, '--frames', { integer: true, min: 1, max: 1000 }) ?? 8;
    const frames = await loadFrames(values.images as string | undefined, width, height, count);
    const engineOptions = engineOptionsFrom(values);
    const batchSizes = values.batch === undefined ? undefined : String(values.batch).split(',').map((b) => parseNumber(b.trim(), '--batch', { integer: true, min: 1 })!);
    if (values.compare || batchSizes) {
      if (values.compare && batchSizes) throw new UsageError('--compare and --batch are separate tables: give one of them');
      const int8Files = (values.int8 as string[] | undefined) ?? [];
      if (!values.compare && (int8Files.length > 0 || values.calib !== undefined)) throw new UsageError('--int8 and --calib go with --compare');
      const progress = new ProgressBar(values.compare ? 'compare' : 'batch', rounds);
      const run = { frame: frames[0], iterations, rounds, onRound: (r: number) => progress.update(r), log: (line: string) => process.stderr.write(`${line}\n`) };
      const table = values.compare ? await runCompare(engineOptions, int8Files, values.calib as string | undefined, run) : await runBatchSizes(engineOptions, batchSizes!, run);
      progress.done();
      const cpu = cpuInfo();
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ model: engineOptions.model, rounds, iterationsPerRound: iterations, rows: table.rows, cpu: { model: cpu.model, cores: cpu.cores, features: cpu.features, int8: cpu.int8Summary } })}\n`);
        return;
      }
      process.stdout.write(
        [
          `model   ${String(engineOptions.model)}; ${rounds} interleaved rounds x ${iterations} calls of raw inference (medians; ratios per frame, within rounds)`,
          `cpu     ${cpu.model}, ${cpu.cores} threads: ${cpu.int8Summary}`,
          '',
          formatCompare(table, table.rows[0].label),
          '',
        ].join('\n'),
      );
      return;
    }
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
