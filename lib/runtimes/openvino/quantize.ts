/**
 * NNCF-style post-training quantization for OpenVINO, written on the runtime-independent parts of
 * lib/quantize: placement (quantize-placement.ts), statistics from OpenVINO inference streamed into
 * the core's native collectors (quantize-statistics.ts + collect.ts), the plan with NNCF's presets
 * (quantize-fake-quantize.ts), the label-free mixed-precision search over FakeQuantize IR
 * candidates (mixed-precision.ts with an OpenVINO CandidateFactory), and the IR written
 * atomically (quantize-emit.ts).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Int8DetectError, invalidArgument } from '../../util/errors';
import type { RawFrame } from '../../image/frame';
import { indexGraph } from '../../onnx/graph-index';
import { decodeModel, encodeModel } from '../../onnx/model';
import { biasCorrectionInputs, type BiasCorrectionMode } from '../../quantize/bias-correction';
import type { EqualizedChain } from '../../quantize/equalize';
import { checkBiasCorrection, correctActivationBias, equalizeForCalibration, type QuantizeModelOptions } from '../../quantize/quantize';
import type { PreprocessSpec } from '../../detect/types';
import { prepareHeldBack, type CandidateEngineOptions, type CandidateFactory } from '../../quantize/candidate';
import { collectStatistics } from '../../quantize/collect';
import { searchMixedPrecision, type MixedPrecisionResult } from '../../quantize/mixed-precision';
import type { IgnoredScope } from '../../quantize/placement';
import { buildPlan, type MethodChoice, type QuantizationPlan } from '../../quantize/plan';
import type { CalibrationBatch, Calibrator } from '../../quantize/types';
import { emitOpenVinoIr, type EmittedIr } from './emit-ir';
import { activationFakeQuantize, OPENVINO_PRESETS, openVinoMacCounts, presetActivationMode, weightNamesByNode, type OpenVinoPreset } from './fake-quantize';
import { loadOpenVinoQuantizeBindings, type OpenVinoQuantizeBindings } from './quantize-bindings';
import { placeOpenVinoQuantization } from './placement';
import { openVinoStatisticsSession } from './statistics-session';

/** NNCF's default subset size: calibration stops after this many frames. */
export const DEFAULT_SUBSET_SIZE = 300;

export interface OpenVinoQuantizeOptions {
  /** The float ONNX model: a path or its bytes. */
  model: string | Uint8Array;
  calibrator: Calibrator;
  /** Where the INT8 IR goes (`.xml`; the weights go beside it in `.bin`). */
  out: string;
  /** 'performance' (symmetric activations) or 'mixed' (asymmetric activations); default 'mixed'. */
  preset?: OpenVinoPreset;
  method?: MethodChoice;
  ignoredScope?: IgnoredScope;
  /** Frames calibrated at most (default 300, NNCF's subset size). */
  subsetSize?: number;
  /**
   * Frames held back from calibration for the label-free check and the mixed-precision search,
   * with the model's preprocessing; no check and no search without them.
   */
  heldBack?: { frames: readonly RawFrame[]; preprocess: PreprocessSpec };
  /** Largest estimated mAP drop the check accepts (default 0.01); Infinity: check only. */
  maxDrop?: number;
  /** Family, labels, threads... of the engines that run candidates in the search. */
  engineOptions?: CandidateEngineOptions;
  threads?: number;
  /**
   * Fast bias correction of the quantized convs' biases (lib/quantize/bias-correction.ts): 'all'
   * (default here: the weights' and the activations' rounding), 'weights', or 'none'.
   */
  biasCorrection?: BiasCorrectionMode;
  /** Channel equalization before calibration (see lib/quantize/equalize.ts); on by default. */
  equalize?: QuantizeModelOptions['equalize'];
  signal?: AbortSignal;
  onProgress?: (progress: { phase: 'collect' | 'plan' | 'bias' | 'reference' | 'sensitivity' | 'search' | 'emit'; done?: number; total?: number }) => void;
}

export interface OpenVinoQuantizeResult extends EmittedIr {
  preset: OpenVinoPreset;
  plan: QuantizationPlan;
  /** The float ONNX model the plan's tensor names refer to: the input, or its channel-equalized rewrite. */
  floatModel: Uint8Array;
  /** The Conv -> SiLU chains equalized before calibration. */
  equalized: EqualizedChain[];
  keepFloat: string[];
  /** Multiply-accumulates per frame in INT8 on OpenVINO (a Conv with quantized input and weight), and in all. */
  macs: { int8: number; total: number; int8Fraction: number };
  search: MixedPrecisionResult | undefined;
  warnings: string[];
  seconds: number;
}

/** At most `frames` frames of the calibrator (the last batch cut to fit). */
export function limitCalibrator(calibrator: Calibrator, frames: number): Calibrator {
  return {
    batchSize: calibrator.batchSize,
    ...(calibrator.size !== undefined ? { size: Math.min(calibrator.size, frames) } : {}),
    async *[Symbol.asyncIterator](): AsyncGenerator<CalibrationBatch> {
      let seen = 0;
      for await (const batch of calibrator) {
        const n = batch.dims[0];
        if (seen + n <= frames) yield batch;
        else {
          const keep = frames - seen;
          const per = batch.data.length / n;
          yield { input: batch.input, data: batch.data.subarray(0, keep * per), dims: [keep, ...batch.dims.slice(1)] };
        }
        seen += n;
        if (seen >= frames) return;
      }
    },
  };
}

/** Candidates of the search as FakeQuantize IRs in a temporary folder, run by the 'openvino' backend. */
export function openVinoCandidateFactory(
  bindings: OpenVinoQuantizeBindings,
  fp32Model: Uint8Array,
  plan: QuantizationPlan,
  preset: OpenVinoPreset,
  folder: string,
): CandidateFactory {
  let serial = 0;
  return {
    backend: 'openvino',
    fp32Model,
    emit: async (keepFloat) => (await emitOpenVinoIr(bindings, { model: fp32Model, plan, preset, keepFloat, xmlPath: path.join(folder, `candidate-${serial++}.xml`) })).xmlPath,
    macs: (keepFloat) => openVinoMacCounts(plan, keepFloat),
    release: async (candidate) => {
      if (typeof candidate !== 'string') return;
      await Promise.all([fs.rm(candidate, { force: true }), fs.rm(candidate.replace(/\.xml$/, '.bin'), { force: true })]);
    },
  };
}

async function readModelBytes(model: unknown): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (typeof model !== 'string' || model === '') throw invalidArgument('an ONNX model path or its bytes', 'options.model', model);
  try {
    return await fs.readFile(model);
  } catch (err) {
    throw new Int8DetectError('ERR_MODEL', `Cannot read the model ${model}: ${(err as Error).message}`, { cause: err });
  }
}

export async function quantizeForOpenVino(options: OpenVinoQuantizeOptions): Promise<OpenVinoQuantizeResult> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'quantizeForOpenVino(options)', options);
  const preset = options.preset ?? 'mixed';
  if (!OPENVINO_PRESETS.includes(preset)) throw invalidArgument("'performance' or 'mixed'", 'options.preset', preset);
  const subsetSize = options.subsetSize ?? DEFAULT_SUBSET_SIZE;
  if (!Number.isInteger(subsetSize) || subsetSize < 1) throw invalidArgument('a positive integer', 'options.subsetSize', subsetSize);
  if (typeof options.out !== 'string' || !options.out.toLowerCase().endsWith('.xml')) throw invalidArgument("a path ending in '.xml'", 'options.out', options.out);
  const biasCorrection = checkBiasCorrection(options.biasCorrection, 'all');
  const started = Date.now();
  const bindings = loadOpenVinoQuantizeBindings();
  const inputBytes = await readModelBytes(options.model);
  const original = decodeModel(inputBytes);
  // The same exact channel equalization as the portable quantizer: OpenVINO quantizes the SiLU
  // products (conv inputs), whose per-channel ranges differ by up to 300x in a detector's stem.
  const { model, chains: equalized } = await equalizeForCalibration(original, { calibrator: options.calibrator, ...(options.equalize !== undefined ? { equalize: options.equalize } : {}), ...(options.signal ? { signal: options.signal } : {}), ...(options.threads !== undefined ? { threads: options.threads } : {}) }, options.ignoredScope ?? {});
  const bytes = model === original ? inputBytes : encodeModel(model);
  const placement = placeOpenVinoQuantization(model, { ignoredScope: options.ignoredScope ?? {} });
  const calibrator = limitCalibrator(options.calibrator, subsetSize);
  const openSession = openVinoStatisticsSession(bindings, options.threads ?? 0);
  const statistics = await collectStatistics(model, calibrator, {
    tensors: placement.activations.map((a) => a.tensor),
    shapeTensors: placement.compute.flatMap((c) => [c.input, c.output]).filter((t) => model.graph.nodes.some((n) => n.outputs.includes(t))),
    channelMeans: biasCorrection !== 'none' ? biasCorrectionInputs(indexGraph(model.graph), placement.compute) : [],
    openSession,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (p) => options.onProgress?.({ phase: 'collect', done: p.frames, ...(p.total !== undefined ? { total: Math.min(p.total, subsetSize) } : {}) }),
  });
  options.onProgress?.({ phase: 'plan' });
  const plan = buildPlan(model, statistics, { method: options.method ?? 'auto', activations: presetActivationMode(preset), ignoredScope: options.ignoredScope ?? {}, correctWeightBias: biasCorrection !== 'none' }, placement);
  if (biasCorrection === 'all') {
    options.onProgress?.({ phase: 'bias' });
    // The activations' rounding on the grids OpenVINO's FakeQuantize will use (the preset's).
    const weightOf = weightNamesByNode(plan);
    await correctActivationBias(model, plan, placement, calibrator, (a) => activationFakeQuantize(a, preset, weightOf), {
      openSession,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  const warnings = [...plan.warnings];
  let search: MixedPrecisionResult | undefined;
  if (options.heldBack && options.heldBack.frames.length > 0 && plan.activations.length > 0) {
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-ov-candidates-'));
    try {
      search = await searchMixedPrecision({
        fp32Model: bytes,
        model,
        plan,
        heldBack: await prepareHeldBack(options.heldBack.frames, options.heldBack.preprocess),
        engineOptions: options.engineOptions ?? {},
        maxDrop: options.maxDrop ?? 0.01,
        candidates: openVinoCandidateFactory(bindings, bytes, plan, preset, folder),
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (p) => options.onProgress?.(p),
      });
    } finally {
      await fs.rm(folder, { recursive: true, force: true });
    }
  }
  if (options.signal?.aborted) throw new Int8DetectError('ERR_CALIBRATION', 'OpenVINO quantization was aborted');
  options.onProgress?.({ phase: 'emit' });
  const keepFloat = search?.keepFloat ?? [];
  const emitted = await emitOpenVinoIr(bindings, { model: bytes, plan, preset, keepFloat: new Set(keepFloat), xmlPath: options.out });
  warnings.push(...emitted.report.warnings);
  const macs = openVinoMacCounts(plan, new Set(keepFloat));
  return {
    ...emitted,
    preset,
    plan,
    floatModel: bytes,
    equalized,
    keepFloat,
    macs: { ...macs, int8Fraction: macs.total > 0 ? macs.int8 / macs.total : 0 },
    search,
    warnings,
    seconds: (Date.now() - started) / 1000,
  };
}
