/**
 * `bench --compare` and `bench --batch`: engines opened side by side and timed in interleaved
 * rounds (lib/bench-compare.ts), printed as one table with ratios.
 *
 * --compare: for one model, on every available backend (or the one --backend names), FP32, the
 * device's default float precision where it may differ (the descriptor's fullFloatSettings), and
 * INT8: the INT8 model files given (--int8; a file a backend reads itself goes to that backend,
 * an ONNX file to every other one), or, with --calib, each backend's own quantization of the model
 * (createEngine with precision 'int8', cached after the first run). Ratios are to each backend's
 * default precision and to the first backend's.
 *
 * --batch 1,4,8: one engine per batch size on the chosen backend; frames per second at each size,
 * and each size's time per frame against batch 1's.
 */
import { compareEngines, ratioOf, type CompareEntry, type CompareRow } from '../../bench-compare';
import { createEngine, type Engine, type EngineOptions } from '../../engine';
import type { RawFrame } from '../../image/frame';
import { probe } from '../../probe';
import type { BackendDescriptor } from '../../runtimes/backend';
import { registeredBackends } from '../../runtimes/registry';
import { UsageError } from '../args';

export interface CompareRun {
  frame: RawFrame;
  iterations: number;
  rounds: number;
  onRound?: (round: number, rounds: number) => void;
  /** Progress lines (quantizing, opening). */
  log?: (line: string) => void;
}

export interface CompareTable {
  rows: (CompareRow & { backend: string; precision: string; vsDefault: number; vsFirst: number; detail: string })[];
}

async function open(options: EngineOptions, log?: (line: string) => void, what?: string): Promise<Engine> {
  if (what) log?.(what);
  return createEngine(options);
}

/** Which INT8 file each backend gets: a file a backend reads itself goes to it alone; an ONNX file to the rest. */
function int8FileFor(backend: BackendDescriptor, files: readonly string[]): string | undefined {
  const own = files.find((f) => backend.readsModelFile?.(f));
  if (own) return own;
  return files.find((f) => !registeredBackends().some((b) => b.readsModelFile?.(f)));
}

export async function runCompare(
  base: EngineOptions,
  int8Files: readonly string[],
  calib: string | undefined,
  run: CompareRun,
): Promise<CompareTable> {
  const report = await probe();
  const requested = base.backend ?? 'auto';
  const backends = registeredBackends().filter((b) => (requested === 'auto' ? report.backends[b.name]?.available : b.name === requested));
  if (backends.length === 0) throw new UsageError(`no backend is available to compare on (${requested})`);
  const entries: (CompareEntry & { backend: string; precision: string; detail: string })[] = [];
  const engines: Engine[] = [];
  try {
    for (const backend of backends) {
      const common: EngineOptions = { ...base, backend: backend.name };
      const push = (engine: Engine, precision: string) => {
        engines.push(engine);
        const detail = `${engine.info.precision}${engine.info.inferencePrecision ? `, float in ${engine.info.inferencePrecision}` : ''}`;
        entries.push({ label: `${backend.name} ${precision}`, engine, backend: backend.name, precision, detail });
      };
      if (backend.fullFloatSettings !== undefined) {
        push(await open({ ...common, precision: 'fp32', [backend.name]: { ...(common[backend.name] as object | undefined), ...backend.fullFloatSettings } }, run.log), 'fp32');
        push(await open({ ...common, precision: 'fp32' }, run.log), 'default');
      } else {
        push(await open({ ...common, precision: 'fp32' }, run.log), 'default');
      }
      const file = int8FileFor(backend, int8Files);
      if (file !== undefined) {
        push(await open({ ...common, model: file, precision: 'auto' }, run.log, `${backend.name}: INT8 model ${file}`), 'int8');
      } else if (calib !== undefined && backend.quantizer) {
        push(await open({ ...common, precision: 'int8', calibrator: calib }, run.log, `${backend.name}: quantizing with ${calib} (cached after the first run)...`), 'int8');
      }
    }
    const rows = await compareEngines(entries, { frame: run.frame, iterations: run.iterations, rounds: run.rounds, ...(run.onRound ? { onRound: run.onRound } : {}) });
    const first = rows[0];
    return {
      rows: rows.map((row, i) => {
        const entry = entries[i];
        const def = rows.find((r, j) => entries[j].backend === entry.backend && entries[j].precision === 'default')!;
        return { ...row, backend: entry.backend, precision: entry.precision, detail: entry.detail, vsDefault: ratioOf(row, def), vsFirst: ratioOf(row, first) };
      }),
    };
  } finally {
    await Promise.all(engines.map((e) => e.dispose()));
  }
}

export async function runBatchSizes(base: EngineOptions, sizes: readonly number[], run: CompareRun): Promise<CompareTable> {
  const engines: Engine[] = [];
  try {
    const entries: CompareEntry[] = [];
    for (const batch of sizes) {
      const engine = await open({ ...base, batch }, run.log);
      engines.push(engine);
      entries.push({ label: `batch ${batch}`, engine, batch });
    }
    const rows = await compareEngines(entries, { frame: run.frame, iterations: run.iterations, rounds: run.rounds, ...(run.onRound ? { onRound: run.onRound } : {}) });
    const info = engines[0].info;
    return {
      rows: rows.map((row) => ({ ...row, backend: info.backend, precision: info.precision, detail: `${info.precision}`, vsDefault: ratioOf(row, rows[0]), vsFirst: ratioOf(row, rows[0]) })),
    };
  } finally {
    await Promise.all(engines.map((e) => e.dispose()));
  }
}

export function formatCompare(table: CompareTable, firstLabel: string): string {
  const lines = [
    `${'engine'.padEnd(22)} ${'batch'.padStart(5)} ${'ms/call'.padStart(9)} ${'frames/s'.padStart(9)} ${'vs default'.padStart(10)} ${`vs ${firstLabel}`.padStart(22)}  runs`,
  ];
  for (const r of table.rows) {
    lines.push(
      `${r.label.padEnd(22)} ${String(r.batch).padStart(5)} ${r.msPerCall.toFixed(2).padStart(9)} ${r.framesPerSecond.toFixed(1).padStart(9)} ${r.vsDefault.toFixed(3).padStart(10)} ${r.vsFirst.toFixed(3).padStart(22)}  ${r.detail}`,
    );
  }
  return lines.join('\n');
}
