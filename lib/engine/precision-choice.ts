/**
 * precision 'auto' with a calibrator on OpenVINO: get the INT8 model (quantized, or from the INT8
 * cache), time it against the float model on the device (warm runs, interleaved rounds, medians:
 * single runs on shared machines vary by tens of percent), and serve the faster of those that pass
 * the label-free accuracy check (FP32 always passes). The measurement is cached beside the INT8
 * entry, keyed by that entry's digest, the device, the OpenVINO version and every setting that
 * changes the timing, so a second createEngine neither quantizes nor times again.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import type { BackendName } from '../runtimes/backend';
import type { Engine, EngineOptions } from '../engine';
import { median } from '../bench';
import { preprocessFrame, tensorSize } from '../detect/preprocess';
import { writeFileAtomic } from '../util/files';
import { validateRawFrame } from '../image/frame';
import { openVinoDeviceName } from '../runtimes/openvino/options';
import { canonicalJson, sha256 } from '../runtimes/tensorrt/plan-cache';
import { abortError } from '../quantize/calibrator';
import { quantizeForEngine, type Int8EngineRequest, type Int8EngineResult } from './int8';

export const PRECISION_CHOICE_FORMAT = 'int8-detect-precision-choice';
export const PRECISION_CHOICE_VERSION = 1;

/** Timed runs: `rounds` rounds of `runsPerRound` runs each per precision, after `warmRuns` untimed ones. */
export const TIMING = { warmRuns: 2, rounds: 3, runsPerRound: 5 } as const;

/** Backends whose precision 'auto' measures when a calibrator is given. */
export const MEASURED_BACKENDS: readonly BackendName[] = ['openvino'];

export interface PrecisionMeasurement {
  /** The device as timed: requested name, OpenVINO's devices (full names), the CPU. */
  device: string;
  runtimeVersion: string;
  rounds: number;
  runsPerRound: number;
  /** The float model at OpenVINO's default inference precision (bf16 on a BF16 CPU) unless openvino.inferencePrecision forces one. */
  fp32: { medianMs: number; inferencePrecision: string | null };
  int8: { medianMs: number; passed: boolean; estimatedDrop: number; maxDrop: number | null };
  /** INT8's median over FP32's. */
  ratio: number;
  chosen: 'int8' | 'fp32';
  /** Why it chose, in words. */
  why: string;
  measuredAt: string;
}

export interface EnginePrecisionChoice extends PrecisionMeasurement {
  /** 'cache': read from cachePath (not timed again); 'measured': timed by this createEngine call. */
  source: 'cache' | 'measured';
  /** null when the INT8 model is not cached (a calibrator without fingerprint): nothing is. */
  cachePath: string | null;
}

export interface PrecisionChoiceResult {
  /** The INT8 model, whichever is served (engine.info.quantization when it is). */
  int8: Int8EngineResult;
  choice: EnginePrecisionChoice;
  /** One sentence for engine.info.reasons.precision. */
  reason: string;
}

interface StoredChoice {
  format: typeof PRECISION_CHOICE_FORMAT;
  version: typeof PRECISION_CHOICE_VERSION;
  key: unknown;
  measurement: PrecisionMeasurement;
}

/** The options the timed engines share with the one createEngine serves. */
function timedEngineOptions(options: EngineOptions): Omit<EngineOptions, 'model'> {
  const { calibrator: _c, maxDrop: _m, quantization: _q, onProgress: _p, signal: _s, precision: _r, profileFilePrefix: _f, ...rest } = options;
  void [_c, _m, _q, _p, _s, _r, _f];
  return { ...rest, backend: 'openvino', precision: 'fp32', openvino: { ...(options.openvino ?? {}), perfCounters: false } };
}

/** A synthetic frame (a smooth gradient) preprocessed for the model: timing does not depend on content. */
async function timingInput(engine: Engine): Promise<Float32Array | Uint8Array> {
  const spec = engine.info.preprocess;
  const width = spec.width;
  const height = spec.height;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 255;
  const input = spec.dtype === 'uint8' ? new Uint8Array(tensorSize(spec)) : new Float32Array(tensorSize(spec));
  await preprocessFrame(validateRawFrame({ data, width, height, format: 'rgb' }), spec, input);
  return input;
}

async function timeRuns(engine: Engine, input: Float32Array | Uint8Array, runs: number, into: number[]): Promise<void> {
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await engine.infer(input);
    into.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
}

/** FP32 and INT8 in interleaved rounds (the order alternating), after warm runs of each. */
async function measure(fp32: Engine, int8: Engine, signal: AbortSignal | undefined): Promise<{ fp32: number[]; int8: number[] }> {
  const input = await timingInput(fp32);
  const samples = { fp32: [] as number[], int8: [] as number[] };
  await timeRuns(fp32, input, TIMING.warmRuns, []);
  await timeRuns(int8, input, TIMING.warmRuns, []);
  for (let round = 0; round < TIMING.rounds; round++) {
    if (signal?.aborted) throw abortError(signal);
    const order: ('fp32' | 'int8')[] = round % 2 === 0 ? ['fp32', 'int8'] : ['int8', 'fp32'];
    for (const which of order) await timeRuns(which === 'fp32' ? fp32 : int8, input, TIMING.runsPerRound, samples[which]);
  }
  return samples;
}

function decide(fp32Ms: number, int8Ms: number, int8Result: Int8EngineResult): Pick<PrecisionMeasurement, 'chosen' | 'why' | 'ratio'> {
  const { agreement } = int8Result.quantization;
  const ratio = int8Ms / fp32Ms;
  const check = `estimated mAP drop ${agreement.estimatedDrop.toFixed(4)}${agreement.maxDrop === null ? '' : ` (max ${agreement.maxDrop})`}`;
  if (!agreement.passed) return { ratio, chosen: 'fp32', why: `INT8 failed the label-free accuracy check (${check}), so FP32 is served whatever the timings` };
  if (int8Ms < fp32Ms) return { ratio, chosen: 'int8', why: `INT8 passed the accuracy check (${check}) and measured faster` };
  return { ratio, chosen: 'fp32', why: `INT8 passed the accuracy check (${check}) but did not measure faster than FP32` };
}

function isStoredChoice(value: unknown, key: unknown): value is StoredChoice {
  const v = value as StoredChoice;
  return (
    typeof v === 'object' && v !== null && v.format === PRECISION_CHOICE_FORMAT && v.version === PRECISION_CHOICE_VERSION &&
    canonicalJson(v.key) === canonicalJson(key) && typeof v.measurement === 'object' && v.measurement !== null &&
    (v.measurement.chosen === 'int8' || v.measurement.chosen === 'fp32') && typeof v.measurement.fp32?.medianMs === 'number' && typeof v.measurement.int8?.medianMs === 'number'
  );
}

async function readStoredChoice(file: string, key: unknown): Promise<PrecisionMeasurement | undefined> {
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    // An entry for other settings, or unreadable, is measured again (and replaced).
    return isStoredChoice(parsed, key) ? parsed.measurement : undefined;
  } catch {
    return undefined;
  }
}

export function describeChoice(m: PrecisionMeasurement, source: EnginePrecisionChoice['source']): string {
  const floatType = m.fp32.inferencePrecision ? `, float layers in ${m.fp32.inferencePrecision}` : '';
  return (
    `precision 'auto' ${source === 'cache' ? 'read the measurement from the cache' : 'measured'} on ${m.device} (OpenVINO ${m.runtimeVersion}): ` +
    `FP32${floatType} median ${m.fp32.medianMs.toFixed(2)} ms, INT8 median ${m.int8.medianMs.toFixed(2)} ms ` +
    `(INT8/FP32 ${m.ratio.toFixed(2)}; ${m.rounds} interleaved rounds of ${m.runsPerRound} warm runs each); ` +
    `${m.why}: serving ${m.chosen.toUpperCase()}`
  );
}

/** The INT8 model and the measured choice between it and the float model. */
export async function choosePrecisionByMeasurement(request: Int8EngineRequest & { options: EngineOptions }): Promise<PrecisionChoiceResult> {
  const { options, report } = request;
  const int8 = await quantizeForEngine(request);
  const concurrency = options.concurrency ?? 1;
  const openvino = report.backends.openvino;
  const requested = openVinoDeviceName(options.device);
  // OpenVINO's full name of the device (with the CPU's INT8 features), else every device it lists.
  const device = openvino.devices.find((d) => d === requested || d.startsWith(`${requested} (`)) ?? `${requested} (OpenVINO lists: ${openvino.devices.join(', ') || 'none'})`;
  const runtimeVersion = openvino.version ?? 'unknown';
  const key = {
    int8: { keyHash: int8.quantization.keyHash, digest: int8.digest ?? null },
    device,
    cpu: os.cpus()[0]?.model ?? 'unknown CPU',
    runtime: `openvino ${runtimeVersion}`,
    threads: options.threads ?? null,
    concurrency,
    performanceHint: options.openvino?.performanceHint ?? null,
    inferencePrecision: options.openvino?.inferencePrecision ?? null,
    timing: TIMING,
  };
  const cachePath = int8.quantization.cachePath !== null && int8.digest !== undefined ? `${int8.quantization.cachePath}.precision-${sha256(canonicalJson(key)).slice(0, 16)}.json` : null;
  const cached = cachePath === null ? undefined : await readStoredChoice(cachePath, key);
  if (cached) {
    const choice: EnginePrecisionChoice = { ...cached, source: 'cache', cachePath };
    return { int8, choice, reason: describeChoice(cached, 'cache') };
  }

  try {
    const measurement = await measureBoth(request.bytes, int8, options, device, runtimeVersion);
    if (cachePath !== null) {
      const stored: StoredChoice = { format: PRECISION_CHOICE_FORMAT, version: PRECISION_CHOICE_VERSION, key, measurement };
      await writeFileAtomic(cachePath, `${JSON.stringify(stored, null, 2)}\n`);
    }
    return { int8, choice: { ...measurement, source: 'measured', cachePath }, reason: describeChoice(measurement, 'measured') };
  } catch (err) {
    await int8.release?.();
    throw err;
  }
}

async function measureBoth(floatModel: Uint8Array, int8: Int8EngineResult, options: EngineOptions, device: string, runtimeVersion: string): Promise<PrecisionMeasurement> {
  const { createEngine } = await import('../engine');
  const shared = timedEngineOptions(options);
  const fp32Engine = await createEngine({ ...shared, model: floatModel });
  let measurement: PrecisionMeasurement;
  try {
    const int8Engine = await createEngine({ ...shared, model: int8.modelPath ?? int8.bytes });
    try {
      const samples = await measure(fp32Engine, int8Engine, options.signal);
      const fp32Ms = median(samples.fp32);
      const int8Ms = median(samples.int8);
      const { agreement } = int8.quantization;
      measurement = {
        device,
        runtimeVersion,
        rounds: TIMING.rounds,
        runsPerRound: TIMING.runsPerRound,
        fp32: { medianMs: fp32Ms, inferencePrecision: fp32Engine.info.inferencePrecision ?? null },
        int8: { medianMs: int8Ms, passed: agreement.passed, estimatedDrop: agreement.estimatedDrop, maxDrop: agreement.maxDrop },
        ...decide(fp32Ms, int8Ms, int8),
        measuredAt: new Date().toISOString(),
      };
    } finally {
      await int8Engine.dispose();
    }
  } finally {
    await fp32Engine.dispose();
  }
  return measurement;
}
