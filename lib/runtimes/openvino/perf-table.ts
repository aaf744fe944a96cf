/**
 * OpenVINO's per-layer counters grouped two ways, for `bench --perf-counters`: by layer type
 * (where the time goes) and by exec type (which kernel, hence which precision, ran each layer:
 * brgconv_avx512_I8 is INT8, jit_avx2_FP32 is FP32).
 */
import type { PerfCounterReport } from '../session';

export interface PerfGroup {
  /** The layer type or exec type. */
  key: string;
  /** Layers in the group that executed. */
  layers: number;
  /** Mean time per run, in milliseconds. */
  msPerRun: number;
  /** Share of the summed layer time. */
  share: number;
}

export interface PerfSummary {
  runs: number;
  /** Sum of every executed layer's time per run (layers may overlap in time, so this can exceed latency). */
  msPerRun: number;
  byLayerType: PerfGroup[];
  byExecType: PerfGroup[];
  /** Share of layer time spent in INT8 kernels (exec types ending in _I8 or _U8). */
  int8TimeShare: number;
}

/** True for exec types that name an INT8 kernel: brgconv_avx512_I8, jit_avx2_U8, gemm_avx2_I8. */
export function isInt8ExecType(execType: string): boolean {
  return /_(I8|U8)$/i.test(execType);
}

function group(report: PerfCounterReport, keyOf: (layer: PerfCounterReport['layers'][number]) => string, total: number): PerfGroup[] {
  const groups = new Map<string, { layers: number; us: number }>();
  for (const layer of report.layers) {
    if (layer.status !== 'EXECUTED') continue;
    const entry = groups.get(keyOf(layer)) ?? { layers: 0, us: 0 };
    entry.layers++;
    entry.us += layer.realTimeUs;
    groups.set(keyOf(layer), entry);
  }
  const runs = Math.max(report.runs, 1);
  return [...groups.entries()]
    .map(([key, { layers, us }]) => ({ key, layers, msPerRun: us / runs / 1000, share: total > 0 ? us / total : 0 }))
    .sort((a, b) => b.msPerRun - a.msPerRun);
}

export function summarizePerfCounters(report: PerfCounterReport): PerfSummary {
  const executed = report.layers.filter((layer) => layer.status === 'EXECUTED');
  const total = executed.reduce((sum, layer) => sum + layer.realTimeUs, 0);
  const int8 = executed.filter((layer) => isInt8ExecType(layer.execType)).reduce((sum, layer) => sum + layer.realTimeUs, 0);
  return {
    runs: report.runs,
    msPerRun: total / Math.max(report.runs, 1) / 1000,
    byLayerType: group(report, (layer) => layer.nodeType, total),
    byExecType: group(report, (layer) => layer.execType, total),
    int8TimeShare: total > 0 ? int8 / total : 0,
  };
}

function table(title: string, groups: readonly PerfGroup[]): string[] {
  const width = Math.max(title.length, ...groups.map((g) => g.key.length));
  return [
    `${title.padEnd(width)} ${'layers'.padStart(6)} ${'ms/run'.padStart(8)} ${'share'.padStart(6)}`,
    ...groups.map((g) => `${g.key.padEnd(width)} ${String(g.layers).padStart(6)} ${g.msPerRun.toFixed(3).padStart(8)} ${`${(g.share * 100).toFixed(1)}%`.padStart(6)}`),
  ];
}

/** The two tables as text. */
export function formatPerfSummary(summary: PerfSummary): string {
  return [
    `OpenVINO per-layer counters over ${summary.runs} runs: ${summary.msPerRun.toFixed(2)} ms of layer time per run, ${(summary.int8TimeShare * 100).toFixed(1)}% of it in INT8 kernels`,
    '',
    ...table('layer type', summary.byLayerType),
    '',
    ...table('exec type', summary.byExecType),
    '',
  ].join('\n');
}
