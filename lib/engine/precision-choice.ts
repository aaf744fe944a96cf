/**
 * precision 'auto' with a calibrator, on a backend that measures (capabilities.measuresPrecision):
 * get the INT8 model (quantized, or from the INT8 cache), time it against the float model on the
 * device (warm runs, interleaved rounds, medians: single runs on shared machines vary by tens of
 * percent), and serve the faster of those that pass the label-free accuracy check (FP32 always
 * passes). The measurement is cached beside the INT8 entry, keyed by that entry's digest, the
 * device, the runtime's version and every setting that changes the timing, so a second
 * createEngine neither quantizes nor times again.
 */
import * as os from 'node:os';
import { Detector } from '../detect/detector';
import { preprocessFrame, tensorSize } from '../detect/preprocess';
import type { PreprocessSpec } from '../detect/types';
import { validateRawFrame } from '../image/frame';
import { abortError } from '../quantize/calibrator';
import type { BackendProbe, Precision } from '../runtimes/backend';
import { onnxModelSource, openSessionWithProfile, readModelFor, type DetectorSettings, type ModelSource } from '../runtimes/open-detector';
import { lookupRecord, storeRecord, type ArtefactKind } from '../util/artefact-cache';
import { canonicalJson, sha256 } from '../util/hash';
import { median } from '../util/statistics';
import { quantizeForEngine, type Int8EngineRequest, type Int8EngineResult } from './int8';

/** Timed runs: `rounds` rounds of `runsPerRound` runs each per precision, after `warmRuns` untimed ones. */
export const TIMING = { warmRuns: 2, rounds: 3, runsPerRound: 5 } as const;

export interface PrecisionMeasurement {
  /** The device as timed: the runtime's name for it, with its full name where the probe gives one. */
  device: string;
  runtimeVersion: string;
  rounds: number;
  runsPerRound: number;
  /** The float model at the runtime's default inference precision (OpenVINO: bf16 on a BF16 CPU) unless its options force one. */
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

const MEASUREMENT: ArtefactKind<unknown> = { format: 'int8-detect-precision-choice', version: 2, noun: 'precision measurement', manifestNoun: 'file' };

/** A synthetic frame (a smooth gradient) preprocessed for the model: timing does not depend on content. */
async function timingInput(spec: PreprocessSpec): Promise<Float32Array | Uint8Array> {
  const { width, height } = spec;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 255;
  const input = spec.dtype === 'uint8' ? new Uint8Array(tensorSize(spec)) : new Float32Array(tensorSize(spec));
  await preprocessFrame(validateRawFrame({ data, width, height, format: 'rgb' }), spec, input);
  return input;
}

async function timeRuns(detector: Detector, input: Float32Array | Uint8Array, runs: number, into: number[]): Promise<void> {
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await detector.infer(input);
    into.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
}

/** FP32 and INT8 in interleaved rounds (the order alternating), after warm runs of each. */
async function measure(fp32: Detector, int8: Detector, signal: AbortSignal | undefined): Promise<{ fp32: number[]; int8: number[] }> {
  const input = await timingInput(fp32.profile.preprocess);
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

/** The choice from the two medians and the INT8 model's accuracy check: the faster of those that pass. Exported for its tests. */
export function decidePrecision(
  fp32Ms: number,
  int8Ms: number,
  agreement: { passed: boolean; estimatedDrop: number; maxDrop: number | null },
): Pick<PrecisionMeasurement, 'chosen' | 'why' | 'ratio'> {
  const ratio = int8Ms / fp32Ms;
  const check = `estimated mAP drop ${agreement.estimatedDrop.toFixed(4)}${agreement.maxDrop === null ? '' : ` (max ${agreement.maxDrop})`}`;
  if (!agreement.passed) return { ratio, chosen: 'fp32', why: `INT8 failed the label-free accuracy check (${check}), so FP32 is served whatever the timings` };
  if (int8Ms < fp32Ms) return { ratio, chosen: 'int8', why: `INT8 passed the accuracy check (${check}) and measured faster` };
  return { ratio, chosen: 'fp32', why: `INT8 passed the accuracy check (${check}) but did not measure faster than FP32` };
}

export function describeChoice(m: PrecisionMeasurement, source: EnginePrecisionChoice['source'], title: string): string {
  const floatType = m.fp32.inferencePrecision ? `, float layers in ${m.fp32.inferencePrecision}` : '';
  return (
    `precision 'auto' ${source === 'cache' ? 'read the measurement from the cache' : 'measured'} on ${m.device} (${title} ${m.runtimeVersion}): ` +
    `FP32${floatType} median ${m.fp32.medianMs.toFixed(2)} ms, INT8 median ${m.int8.medianMs.toFixed(2)} ms ` +
    `(INT8/FP32 ${m.ratio.toFixed(2)}; ${m.rounds} interleaved rounds of ${m.runsPerRound} warm runs each); ` +
    `${m.why}: serving ${m.chosen.toUpperCase()}`
  );
}

export interface PrecisionChoiceRequest extends Int8EngineRequest {
  /** The backend's probe entry: its version and devices key the measurement. */
  probe: BackendProbe;
  /** How the served engine opens (device, concurrency, threads, overrides, the backend's settings): the timed ones open alike. */
  detector: DetectorSettings;
}

/** The device's name with its full name where the probe lists one ('CPU (AMD EPYC ...; AVX2 ...)'). */
function deviceText(sessionDevice: string, probe: BackendProbe): string {
  return probe.devices.find((d) => d === sessionDevice || d.startsWith(`${sessionDevice} (`)) ?? sessionDevice;
}

/** The INT8 model and the measured choice between it and the float model. */
export async function choosePrecisionByMeasurement(request: PrecisionChoiceRequest): Promise<PrecisionChoiceResult> {
  const { options, probe, backend, detector } = request;
  const int8 = await quantizeForEngine(request);
  const runtimeVersion = probe.version ?? 'unknown';
  const key = {
    int8: { keyHash: int8.quantization.keyHash, digest: int8.digest ?? null },
    backend: backend.name,
    device: { requested: detector.device ?? null, available: probe.devices },
    cpu: os.cpus()[0]?.model ?? 'unknown CPU',
    runtime: `${backend.name} ${runtimeVersion}`,
    threads: options.threads ?? null,
    concurrency: detector.concurrency ?? 1,
    settings: detector.settings ?? null,
    timing: TIMING,
  };
  const cachePath = int8.quantization.cachePath !== null && int8.digest !== undefined ? `${int8.quantization.cachePath}.precision-${sha256(canonicalJson(key)).slice(0, 16)}.json` : null;
  const cached = cachePath === null ? undefined : await lookupRecord<typeof key, PrecisionMeasurement>(MEASUREMENT as ArtefactKind<typeof key>, cachePath, key);
  if (cached) {
    return { int8, choice: { ...cached, source: 'cache', cachePath }, reason: describeChoice(cached, 'cache', backend.title) };
  }
  try {
    const measurement = await measureBoth(request, int8, runtimeVersion);
    if (cachePath !== null) await storeRecord(MEASUREMENT as ArtefactKind<typeof key>, cachePath, key, measurement);
    return { int8, choice: { ...measurement, source: 'measured', cachePath }, reason: describeChoice(measurement, 'measured', backend.title) };
  } catch (err) {
    await int8.release?.();
    throw err;
  }
}

async function openTimed(request: PrecisionChoiceRequest, source: ModelSource, precision: Precision): Promise<Detector> {
  const { session, profile } = await openSessionWithProfile(request.backend, source, precision, request.detector);
  return new Detector(session, profile);
}

async function measureBoth(request: PrecisionChoiceRequest, int8: Int8EngineResult, runtimeVersion: string): Promise<PrecisionMeasurement> {
  const fp32 = await openTimed(request, onnxModelSource(request.bytes, request.modelName), 'fp32');
  try {
    const int8Source = int8.modelPath !== undefined ? await readModelFor(request.backend, int8.modelPath) : onnxModelSource(int8.bytes, request.modelName);
    const quantized = await openTimed(request, int8Source, 'int8');
    try {
      const samples = await measure(fp32, quantized, request.options.signal);
      const fp32Ms = median(samples.fp32);
      const int8Ms = median(samples.int8);
      const { agreement } = int8.quantization;
      const session = fp32.session;
      return {
        device: deviceText(session.device, request.probe),
        runtimeVersion,
        rounds: TIMING.rounds,
        runsPerRound: TIMING.runsPerRound,
        fp32: { medianMs: fp32Ms, inferencePrecision: session.inferencePrecision ?? null },
        int8: { medianMs: int8Ms, passed: agreement.passed, estimatedDrop: agreement.estimatedDrop, maxDrop: agreement.maxDrop },
        ...decidePrecision(fp32Ms, int8Ms, agreement),
        measuredAt: new Date().toISOString(),
      };
    } finally {
      await quantized.dispose();
    }
  } finally {
    await fp32.dispose();
  }
}
