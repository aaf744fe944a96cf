/**
 * Everything the quantization report shows, gathered from a quantizeWithSearch() result: each
 * activation's histogram with the ranges of every method and the one chosen, the per-layer
 * FP32-against-INT8 error, what stayed in float and why, the label-free check, and (with
 * labelled images) mAP and latency of FP32 against INT8. Plain data: report-html.ts renders it.
 */
import { cpuInfo } from '../hardware/cpu';
import { loadCocoDataset } from '../eval/coco';
import { evaluateEngine } from '../eval/evaluate-engine';
import type { CandidateDetector } from '../quantize/candidate';
import type { LabelFreeCheckSummary, MixedPrecisionResult, TensorSensitivity } from '../quantize/mixed-precision';
import type { MethodChoice } from '../quantize/plan';
import type { ActivationMode } from '../quantize/qparams';
import { RANGE_METHODS, type Range, type RangeMethod } from '../quantize/statistics';
import { candidateOpener } from '../runtimes/open-detector';
import type { QuantizedModel } from '../runtimes/quantize-model';
import { backendDescriptor } from '../runtimes/registry';
import { invalidArgument } from '../util/errors';
import { median } from '../util/statistics';
import { layerErrors } from './layer-error';

/** A Q/DQ quantization with its label-free check: what the report reads. */
export type ReportedQuantization = QuantizedModel & { search: MixedPrecisionResult; heldBack: NonNullable<QuantizedModel['heldBack']>; preprocess: NonNullable<QuantizedModel['preprocess']> };

/** The result, checked to be one the report can read. */
export function reportable(result: QuantizedModel): ReportedQuantization {
  if (typeof result !== 'object' || result === null || !result.plan || !result.search || !result.heldBack || !result.preprocess) {
    throw invalidArgument('a quantizeModel() result with its label-free check (heldBack frames)', 'the report\'s result', result);
  }
  return result as ReportedQuantization;
}

/** Bars per histogram in the report (the statistics hold 2048 bins; the page needs no more). */
export const REPORT_HISTOGRAM_BARS = 160;

export interface ReportTensor {
  name: string;
  producer: string;
  reason: string;
  method: RangeMethod;
  range: Range;
  observed: Range;
  scale: number;
  zeroPoint: number;
  /**
   * The tensor whose grid this one shares (an INT8 junction: Concat, MaxPool, Resize...), whose
   * method and range it takes; null when its range was chosen from its own candidates.
   */
  alignedWith: string | null;
  /** The tensors on one grid with it, merged for a Concat (itself included; the grid is the Concat output's). Null when none. */
  sharedGrid: string[] | null;
  /** Every method's range and estimated error on this tensor (the chosen one among them, unless aligned). */
  candidates: { method: RangeMethod; range: Range; error: number }[];
  /** Counts over [start, start + binWidth * counts.length). */
  histogram: { start: number; binWidth: number; counts: number[] };
  /** Kept in float by the mixed-precision search. */
  keptFloat: boolean;
  /** Its place in the sensitivity ranking (1 = most sensitive), when the search ranked. */
  sensitivityRank: number | null;
  sensitivityError: number | null;
  sqnrDb: number | null;
  cosine: number | null;
}

export interface ReportEvaluation {
  images: number;
  fp32: { mAP: number; AP50: number; AP75: number };
  int8: { mAP: number; AP50: number; AP75: number };
}

export interface ReportLatency {
  /** Median of per-round medians, milliseconds per raw inference, one call in flight. */
  fp32Ms: number;
  int8Ms: number;
  /** Median of the per-round INT8/FP32 ratios. */
  ratio: number;
  rounds: number;
  callsPerRound: number;
}

export interface QuantizationReportData {
  title: string;
  createdAt: string;
  cpu: { model: string; int8: string };
  method: MethodChoice;
  activationMode: ActivationMode;
  weightBits: number;
  opset: { from: number; to: number };
  calibration: { frames: number; seconds: number };
  quantizedWeights: number;
  macs: { int8: number; total: number; int8Fraction: number };
  check: LabelFreeCheckSummary & { sensitivity: TensorSensitivity[]; seconds: number };
  tensors: ReportTensor[];
  /** Activations the search kept in float, most sensitive first, with the words why. */
  keptFloat: { name: string; rank: number | null; error: number | null; why: string }[];
  /** Nodes the placement kept in float (detection head, ignored scope). */
  floatNodes: { node: string; opType: string; reason: string }[];
  /** Frames the per-layer error was measured on. */
  layerErrorFrames: number;
  evaluation: ReportEvaluation | null;
  latency: ReportLatency | null;
  warnings: string[];
  /** Seconds spent gathering the report's own figures. */
  seconds: number;
}

export interface ReportOptions {
  /** The page's heading (default: 'INT8 quantization report'). */
  title?: string;
  /** Held-back frames the per-layer error runs on (default 4). */
  layerErrorFrames?: number;
  /** Labelled images: FP32 and INT8 mAP side by side. */
  evaluation?: { imagesDir: string; annotations: string; limit?: number };
  /** Interleaved FP32/INT8 latency rounds (default 5; 0 skips the latency). */
  latencyRounds?: number;
  onProgress?: (step: 'layers' | 'evaluate' | 'latency', done: number, total: number) => void;
}

function whyKeptFloat(rank: number | null, error: number | null, result: ReportedQuantization): string {
  const chosen = result.search.trials.find((t) => t.keptFloat === result.keepFloat.length);
  const fewer = result.search.trials.filter((t) => t.keptFloat < result.keepFloat.length && !t.passed).sort((a, b) => b.keptFloat - a.keptFloat)[0];
  const ranked = rank === null ? 'kept in float by the search' : `rank ${rank} of ${result.search.sensitivity.length} by the output error it causes alone in INT8 (${error!.toExponential(2)})`;
  const limit = result.maxDrop === null ? '' : ` ${result.maxDrop}`;
  const evidence = fewer
    ? `; with only the ${fewer.keptFloat} most sensitive in float the estimated drop was ${fewer.estimatedDrop.toFixed(4)} > max${limit}`
    : '';
  const outcome = chosen ? `; with these ${result.keepFloat.length} in float it is ${chosen.estimatedDrop.toFixed(4)}` : '';
  return `${ranked}${evidence}${outcome}`;
}

/** Interleaved rounds of raw inference on the same frame: FP32 then INT8 in each round, the ratio taken within the round. */
async function measureLatency(fp32: CandidateDetector, int8: CandidateDetector, tensor: Float32Array | Uint8Array, rounds: number, calls: number, onRound: (r: number) => void): Promise<ReportLatency> {
  const time = async (engine: CandidateDetector, n = calls) => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      await engine.infer(tensor);
      samples.push(performance.now() - started);
    }
    return median(samples);
  };
  // Warm-up: the first runs allocate and pick kernels.
  await time(fp32, 2);
  await time(int8, 2);
  const fp32Ms: number[] = [];
  const int8Ms: number[] = [];
  for (let r = 0; r < rounds; r++) {
    fp32Ms.push(await time(fp32));
    int8Ms.push(await time(int8));
    onRound(r + 1);
  }
  return { fp32Ms: median(fp32Ms), int8Ms: median(int8Ms), ratio: median(int8Ms.map((v, i) => v / fp32Ms[i])), rounds, callsPerRound: calls };
}

/** A detector as evaluateEngine reads an engine. */
function asEvaluated(detector: CandidateDetector) {
  return { detect: detector.detect.bind(detector), info: { labels: detector.labels } };
}

const headline = (m: { mAP: number; AP50: number; AP75: number }) => ({ mAP: m.mAP, AP50: m.AP50, AP75: m.AP75 });

export async function buildReportData(quantized: QuantizedModel, options: ReportOptions = {}): Promise<QuantizationReportData> {
  const result = reportable(quantized);
  const started = Date.now();
  const { plan, statistics } = result;
  const symmetric = plan.activationMode === 'int8-symmetric';
  const rank = new Map(result.search.sensitivity.map((s, i) => [s.name, { rank: i + 1, error: s.error }]));
  const keep = new Set(result.keepFloat);

  const frames = Math.min(options.layerErrorFrames ?? 4, result.heldBack.tensors.length);
  options.onProgress?.('layers', 0, 1);
  const errors = new Map(
    (
      await layerErrors({
        fp32: result.model,
        int8: result.bytes,
        tensors: plan.activations.map((a) => a.name),
        feeds: result.heldBack.tensors.slice(0, frames),
        preprocess: result.preprocess,
        ...(result.detector.threads !== undefined ? { threads: result.detector.threads } : {}),
      })
    ).map((e) => [e.name, e]),
  );
  options.onProgress?.('layers', 1, 1);

  const tensors: ReportTensor[] = plan.activations.map((a) => {
    const stats = statistics.statistics.get(a.name)!;
    const h = stats.histogram();
    // Fewer, wider bars over the bins that hold values (the histogram may have grown past them).
    let first = h.counts.findIndex((c) => c > 0);
    let last = h.counts.length - 1 - [...h.counts].reverse().findIndex((c) => c > 0);
    if (first < 0) [first, last] = [0, h.counts.length - 1];
    const group = Math.max(1, Math.ceil((last - first + 1) / REPORT_HISTOGRAM_BARS));
    const counts: number[] = [];
    for (let i = first; i <= last; i += group) {
      let sum = 0;
      for (let j = i; j < Math.min(i + group, last + 1); j++) sum += h.counts[j];
      counts.push(sum);
    }
    const candidates = RANGE_METHODS.map((method) => {
      const range = stats.range(method, symmetric);
      return { method, range, error: stats.quantizationError(range, symmetric) };
    });
    const e = errors.get(a.name);
    const r = rank.get(a.name);
    return {
      name: a.name,
      producer: a.producer,
      reason: a.reason,
      method: a.method,
      range: a.range,
      observed: a.observed,
      scale: a.scale,
      zeroPoint: a.zeroPoint,
      alignedWith: a.alignedWith ?? null,
      sharedGrid: a.sharedGrid ?? null,
      candidates,
      histogram: { start: h.start + first * h.binWidth, binWidth: h.binWidth * group, counts },
      keptFloat: keep.has(a.name),
      sensitivityRank: r?.rank ?? null,
      sensitivityError: r?.error ?? null,
      sqnrDb: e ? e.sqnrDb : null,
      cosine: e ? e.cosine : null,
    };
  });

  let evaluation: ReportEvaluation | null = null;
  let latency: ReportLatency | null = null;
  const rounds = options.latencyRounds ?? 5;
  if (options.evaluation || rounds > 0) {
    const open = candidateOpener(backendDescriptor(result.backend), result.detector);
    const fp32 = await open(result.inputBytes);
    try {
      const int8 = await open(result.bytes);
      try {
        if (options.evaluation) {
          const dataset = await loadCocoDataset(options.evaluation.annotations);
          const limit = options.evaluation.limit;
          const common = { imagesDir: options.evaluation.imagesDir, dataset, ...(limit !== undefined ? { limit } : {}) };
          const total = limit === undefined ? dataset.images.length : Math.min(limit, dataset.images.length);
          const a = await evaluateEngine(asEvaluated(fp32), { ...common, onProgress: (done) => options.onProgress?.('evaluate', done, 2 * total) });
          const b = await evaluateEngine(asEvaluated(int8), { ...common, onProgress: (done) => options.onProgress?.('evaluate', total + done, 2 * total) });
          evaluation = { images: a.images, fp32: headline(a.metrics), int8: headline(b.metrics) };
        }
        if (rounds > 0 && result.heldBack.tensors.length > 0) {
          latency = await measureLatency(fp32, int8, result.heldBack.tensors[0], rounds, 5, (r) => options.onProgress?.('latency', r, rounds));
        }
      } finally {
        await int8.dispose();
      }
    } finally {
      await fp32.dispose();
    }
  }

  const cpu = cpuInfo();
  return {
    title: options.title ?? 'INT8 quantization report',
    createdAt: new Date().toISOString(),
    cpu: { model: cpu.model, int8: cpu.int8Summary },
    method: plan.method,
    activationMode: plan.activationMode,
    weightBits: plan.weightBits,
    opset: plan.opset,
    calibration: { frames: plan.calibration.frames, seconds: plan.calibration.seconds },
    quantizedWeights: plan.weights.length,
    macs: result.macs,
    check: {
      heldBackFrames: result.heldBack.frames.length,
      heldBackShared: result.heldBack.shared,
      floor: result.search.agreement.floor,
      allInt8: result.search.agreement.allInt8,
      chosen: result.search.agreement.chosen,
      estimatedDrop: result.search.estimatedDrop,
      estimatedDropInterval: result.search.estimatedDropInterval,
      maxDrop: result.maxDrop,
      passed: result.passed,
      trials: result.search.trials,
      sensitivity: result.search.sensitivity,
      seconds: result.search.seconds,
    },
    tensors,
    keptFloat: result.keepFloat.map((name) => {
      const r = rank.get(name);
      return { name, rank: r?.rank ?? null, error: r?.error ?? null, why: whyKeptFloat(r?.rank ?? null, r?.error ?? null, result) };
    }),
    floatNodes: plan.float.map((f) => ({ node: f.node, opType: f.opType, reason: f.reason })),
    layerErrorFrames: frames,
    evaluation,
    latency,
    warnings: result.warnings,
    seconds: (Date.now() - started) / 1000,
  };
}
