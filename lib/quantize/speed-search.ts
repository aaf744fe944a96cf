/**
 * Precision chosen by measured speed: after the accuracy search, groups of quantized compute
 * nodes whose INT8 kernels may be slower than the float ones on this device are tried in float,
 * and kept there where the whole model measures faster.
 *
 * Why groups and whole-model timing: a kernel's cost is not the layer's alone. Keeping one conv
 * in float moves the precision transitions around it (its producer writes float instead of
 * INT8, a reorder appears or disappears, a fused post-op changes), and per-layer counters on a
 * shared machine vary by tens of percent. So each candidate is the current artefact with one
 * group more in float, timed against the current one in interleaved rounds on the device (the
 * median of per-round ratios), and kept only when it is faster by more than `margin`. The groups
 * are the kernel families a CPU plugin picks by shape: depthwise, 1x1 and k x k dense
 * convolutions, and the convolutions that read the image. Measured on AVX2 without VNNI: OpenVINO's
 * depthwise INT8 convolution is slower than its f32 one (docs/openvino.md).
 *
 * Keeping a group in float only removes quantization, so the accuracy check that passed still
 * holds; the search never goes below `minInt8Fraction` of the multiply-accumulates in INT8, and
 * says how many it gave up for speed.
 */
import { performance } from 'node:perf_hooks';
import { indexGraph } from '../onnx/graph-index';
import { intAttribute, type OnnxModel } from '../onnx/model';
import { throwIfAborted } from '../util/errors';
import { median } from '../util/statistics';
import type { ArtefactEmitter } from './adapter';
import type { CandidateDetector, OpenCandidate } from './candidate';
import type { QuantizationPlan } from './plan';
import { DEFAULT_MIN_INT8_FRACTION } from './mixed-precision';

export interface SpeedGroup {
  /** 'depthwise convolutions', '1x1 convolutions', ... */
  name: string;
  /** The compute nodes (keys) of the group. */
  nodes: string[];
  /** The tensors the group puts in float: the nodes' weights, and inputs only they read quantized. */
  tensors: string[];
  /** Multiply-accumulates per frame of the group. */
  macs: number;
  /** Median over rounds of (with the group in float) / (the artefact as it stood) latency; undefined when not tried. */
  ratio?: number;
  /** Kept in float: measured faster by more than the margin. */
  kept: boolean;
  /** Why it was kept or not, in words. */
  reason: string;
}

export interface SpeedSearchResult {
  groups: SpeedGroup[];
  /** The accuracy search's float set, plus the groups kept in float for speed. */
  keepFloat: string[];
  /** INT8 multiply-accumulates given up for speed, as a share of all. */
  macsGivenUp: number;
  /** Latency of the artefact before and after (medians of the last comparison each took part in), ms. */
  beforeMs: number;
  afterMs: number;
  rounds: number;
  runsPerRound: number;
  seconds: number;
}

/** The timing settings a caller may change (tests use short ones). */
export interface SpeedSearchSettings {
  /** Interleaved rounds per comparison (default 5). */
  rounds?: number;
  /** Timed runs of each model per round (default 10). */
  runsPerRound?: number;
  /** A family stays float only when faster by more than this fraction (default 0.03). */
  margin?: number;
  /** Keep at least this share of the multiply-accumulates in INT8 (default 0.9). */
  minInt8Fraction?: number;
}

export interface SpeedSearchOptions extends SpeedSearchSettings {
  model: OnnxModel;
  plan: QuantizationPlan;
  emitter: ArtefactEmitter;
  open: OpenCandidate;
  /** A preprocessed input to time with (a held-back frame). */
  input: Float32Array | Uint8Array;
  /** What the accuracy search kept in float. */
  keepFloat: readonly string[];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The kernel families, by shape, among the quantized compute nodes. */
export function speedGroups(model: OnnxModel, plan: QuantizationPlan): Omit<SpeedGroup, 'kept' | 'reason'>[] {
  const index = indexGraph(model.graph);
  const byKey = new Map([...index.nodeKey].map(([node, key]) => [key, node]));
  const inputs = new Set(model.graph.inputs.map((i) => i.name));
  const families = new Map<string, string[]>();
  for (const c of plan.compute) {
    if (!c.quantized) continue;
    const node = byKey.get(c.node);
    const weight = c.weight ? index.initializers.get(c.weight) : undefined;
    if (!node || !weight) continue;
    const group = intAttribute(node, 'group', 1);
    const kernel = weight.dims.slice(2);
    const family = inputs.has(c.input)
      ? 'convolutions reading the image'
      : node.opType !== 'Conv'
        ? `${node.opType} nodes`
        : group > 1 && group === weight.dims[0]
          ? 'depthwise convolutions'
          : kernel.every((k) => k === 1)
            ? '1x1 convolutions'
            : `${kernel.join('x')} convolutions`;
    families.set(family, [...(families.get(family) ?? []), c.node]);
  }
  const readers = new Map(plan.activations.map((a) => [a.name, a.consumers]));
  return [...families.entries()].map(([name, nodes]) => {
    const members = new Set(nodes);
    const tensors = new Set<string>();
    let macs = 0;
    for (const c of plan.compute.filter((x) => members.has(x.node))) {
      if (c.weight) tensors.add(c.weight);
      // The input goes float only when no quantized node outside the group reads it.
      if ((readers.get(c.input) ?? []).every((r) => members.has(r))) tensors.add(c.input);
      macs += c.macs ?? 0;
    }
    return { name, nodes, tensors: [...tensors], macs };
  });
}

async function timeRuns(detector: CandidateDetector, input: Float32Array | Uint8Array, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await detector.infer(input);
    times.push(performance.now() - started);
  }
  return median(times);
}

export async function searchSpeed(options: SpeedSearchOptions): Promise<SpeedSearchResult> {
  const started = Date.now();
  const { plan, emitter, open, input } = options;
  const rounds = options.rounds ?? 5;
  const runsPerRound = options.runsPerRound ?? 10;
  const margin = options.margin ?? 0.03;
  const minInt8 = options.minInt8Fraction ?? DEFAULT_MIN_INT8_FRACTION;
  const total = emitter.macs(new Set()).total;
  const keep = new Set(options.keepFloat);
  const int8Share = (set: ReadonlySet<string>) => (total > 0 ? emitter.macs(set).int8 / total : 0);
  const startShare = int8Share(keep);
  const groups: SpeedGroup[] = speedGroups(options.model, plan).map((g) => ({ ...g, kept: false, reason: '' }));
  let beforeMs = Number.NaN;
  let afterMs = Number.NaN;
  for (const [i, group] of groups.entries()) {
    throwIfAborted(options.signal, 'The speed search');
    options.onProgress?.(i, groups.length);
    const trial = new Set([...keep, ...group.tensors]);
    if (group.tensors.every((t) => keep.has(t))) {
      group.reason = 'already in float after the accuracy search';
      continue;
    }
    if (int8Share(trial) < minInt8) {
      group.reason = `in float it would leave ${(100 * int8Share(trial)).toFixed(1)} % of the multiply-accumulates in INT8, below ${(100 * minInt8).toFixed(0)} %`;
      continue;
    }
    const current = await emitter.candidate(keep);
    const candidate = await emitter.candidate(trial);
    try {
      const a = await open(current);
      try {
        const b = await open(candidate);
        try {
          for (let w = 0; w < 3; w++) {
            await a.infer(input);
            await b.infer(input);
          }
          const ratios: number[] = [];
          const currentMs: number[] = [];
          const trialMs: number[] = [];
          for (let r = 0; r < rounds; r++) {
            throwIfAborted(options.signal, 'The speed search');
            const first = r % 2 === 0 ? a : b;
            const second = r % 2 === 0 ? b : a;
            const x = await timeRuns(first, input, runsPerRound);
            const y = await timeRuns(second, input, runsPerRound);
            const [cur, tri] = r % 2 === 0 ? [x, y] : [y, x];
            currentMs.push(cur);
            trialMs.push(tri);
            ratios.push(tri / cur);
          }
          group.ratio = median(ratios);
          if (Number.isNaN(beforeMs)) beforeMs = median(currentMs);
          if (group.ratio < 1 - margin) {
            group.kept = true;
            group.reason = `measured ${(100 * (1 - group.ratio)).toFixed(1)} % faster in float`;
            for (const t of group.tensors) keep.add(t);
            afterMs = median(trialMs);
          } else {
            group.reason = group.ratio < 1 ? `only ${(100 * (1 - group.ratio)).toFixed(1)} % faster in float (margin ${(100 * margin).toFixed(0)} %): INT8 kept` : `INT8 measured faster (float/INT8 ${group.ratio.toFixed(3)})`;
            afterMs = median(currentMs);
          }
        } finally {
          await b.dispose();
        }
      } finally {
        await a.dispose();
      }
    } finally {
      await emitter.release?.(current);
      await emitter.release?.(candidate);
    }
  }
  options.onProgress?.(groups.length, groups.length);
  return {
    groups,
    keepFloat: [...keep],
    macsGivenUp: Math.max(0, startShare - int8Share(keep)),
    beforeMs,
    afterMs,
    rounds,
    runsPerRound,
    seconds: (Date.now() - started) / 1000,
  };
}
