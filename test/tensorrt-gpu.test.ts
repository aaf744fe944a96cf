/**
 * TensorRT on a real GPU, through the first-run script (scripts/check-tensorrt-gpu.js, `npm run
 * check:tensorrt-gpu`): FP32, FP16 and INT8 (implicit where the version has it, explicit from the
 * portable quantizer's Q/DQ model) engines of YOLOX-Nano, each within 1.0 mAP point of FP32 on
 * coco/eval, and their latency. Skipped, with the reason, where the TensorRT module is not built or
 * sees no GPU. On every machine: the script stops with the probe's reason where TensorRT is
 * missing, and its engine loop, evaluation, timing and table run on OpenVINO, so the script itself
 * works before anyone's first GPU run.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { runtimeStatusSync } from './helpers/runtime-status';

interface FirstRunRow {
  label: string;
  precision?: string;
  buildSeconds?: number;
  contexts?: number;
  mAP?: number;
  mAP50?: number;
  drop?: number;
  medianMs?: number;
  speedup?: number;
  error?: string;
}

interface EngineRuns {
  rows: FirstRunRow[];
  skipped: { label: string; reason: string }[];
  failures: string[];
  latency: { rounds: number; detectsPerRound: number; frame: string } | null;
}

interface FirstRunVersions {
  tensorrt: { loaded: string; compiled: string } | null;
  reason?: string;
}

interface FirstRunOptions {
  calibLimit?: number;
  evalLimit?: number;
  rounds?: number;
  detectsPerRound?: number;
  maxDrop?: number;
  log?: (line: string) => void;
}

/** The script's exports (it is plain JavaScript, run by node directly). */
interface FirstRunModule {
  firstRun(options?: FirstRunOptions): Promise<EngineRuns & { versions: FirstRunVersions }>;
  runEngines(
    options: FirstRunOptions,
    target: { backend: string; device: string; runtime: string; capabilities: { precisionFlags: boolean; implicitInt8: boolean }; cacheVersion: number },
  ): Promise<EngineRuns>;
  formatTable(result: EngineRuns & { versions: FirstRunVersions }): string;
  collectVersions(): Promise<FirstRunVersions>;
  jetPackOf(l4tRelease: string | null): string | undefined;
}

const script = path.resolve(__dirname, '..', '..', 'scripts', 'check-tensorrt-gpu.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const firstRunModule = require(script) as FirstRunModule;
const run = promisify(execFile);

const tensorrt = runtimeStatusSync('tensorrt');
const gpuSkip = tensorrt.loaded && tensorrt.devices.length > 0 ? undefined : (tensorrt.reason ?? 'TensorRT sees no GPU');
if (gpuSkip !== undefined) console.log(`tensorrt-gpu: the GPU tests are skipped: ${gpuSkip}`);

test('the first-run script names JetPack from the L4T release', (t) => {
  t.is(firstRunModule.jetPackOf('35.4.1'), 'JetPack 5');
  t.is(firstRunModule.jetPackOf('36.4.3'), 'JetPack 6');
  t.is(firstRunModule.jetPackOf('38.2.0'), 'JetPack 7');
  t.is(firstRunModule.jetPackOf(null), undefined);
});

(gpuSkip === undefined ? test.skip : test)('without TensorRT the first-run script prints the probe reason a user sees and exits 1', async (t) => {
  const err = (await t.throwsAsync(run(process.execPath, [script], { timeout: 120_000 }))) as Error & { code?: number; stdout?: string };
  t.is(err.code, 1);
  t.regex(err.stdout ?? '', /^int8-detect \d+\.\d+\.\d+, Node /m);
  t.regex(err.stdout ?? '', /^TensorRT {5}not loaded$/m);
  t.regex(err.stdout ?? '', /check-tensorrt-gpu: 1 failure\(s\):\n {2}- TensorRT cannot run here: .+/);
  t.true((err.stdout ?? '').includes(tensorrt.reason ?? '<no reason>'), 'the same reason probe() gives');
});

const openvino = runtimeStatusSync('openvino');
if (!openvino.loaded) console.log(`tensorrt-gpu: the script's OpenVINO self-check is skipped: ${openvino.reason}`);

(openvino.loaded ? test : test.skip)("the first run's engine loop, evaluation, timing and table, exercised on OpenVINO", async (t) => {
  const result = await firstRunModule.runEngines(
    { calibLimit: 8, evalLimit: 8, rounds: 2, detectsPerRound: 2, maxDrop: Infinity, log: () => undefined },
    { backend: 'openvino', device: 'CPU', runtime: 'OpenVINO', capabilities: { precisionFlags: false, implicitInt8: false }, cacheVersion: 100300 },
  );
  t.deepEqual(result.failures, []);
  t.deepEqual(result.rows.map((r) => [r.label, r.precision, r.error]), [
    ['fp32', 'fp32', undefined],
    ['int8 explicit (Q/DQ)', 'int8', undefined],
  ]);
  for (const row of result.rows) {
    t.true(Number.isFinite(row.mAP) && Number.isFinite(row.mAP50) && (row.medianMs ?? 0) > 0, JSON.stringify(row));
  }
  t.true((result.rows[0].mAP ?? 0) > 10, 'FP32 YOLOX-Nano finds objects');
  t.deepEqual(result.skipped.map((s) => s.label), ['fp16', 'int8 implicit (cache)', 'int8 implicit (device)']);
  const table = firstRunModule.formatTable({ versions: await firstRunModule.collectVersions(), ...result });
  t.regex(table, /^engine +precision +build\+load s +contexts +mAP +mAP50 +drop +median ms +vs fp32$/m);
  t.regex(table, /^int8 explicit \(Q\/DQ\) +int8 +/m);
  t.regex(table, /check-tensorrt-gpu: all passed$/);
});

if (gpuSkip === undefined) {
  const major = Number.parseInt(tensorrt.version ?? '0', 10);
  let result: (EngineRuns & { versions: FirstRunVersions }) | undefined;

  test.before(async () => {
    result = await firstRunModule.firstRun({ calibLimit: 177 });
    console.log(firstRunModule.formatTable(result));
  });

  const row = (label: string) => result?.rows.find((r) => r.label === label);
  const within = (t: import('ava').ExecutionContext, label: string) => {
    const found = row(label);
    t.truthy(found, `no ${label} row: ${JSON.stringify(result?.rows)}`);
    t.is(found?.error, undefined);
    t.true((found?.drop ?? Infinity) <= 1.0, `${label}: ${found?.mAP} mAP, ${found?.drop} points below FP32`);
  };

  test.serial('the first run passes: every engine built, evaluated and timed', (t) => {
    t.deepEqual(result?.failures, []);
    for (const r of result?.rows ?? []) t.true((r.medianMs ?? 0) > 0, `${r.label} was timed`);
  });

  test.serial('FP32 engine as accurate as the model', (t) => {
    t.true((row('fp32')?.mAP ?? 0) > 20, `FP32 mAP ${row('fp32')?.mAP}`);
  });

  test.serial('INT8 explicit (Q/DQ model from the portable quantizer) within 1.0 point of FP32', (t) => within(t, 'int8 explicit (Q/DQ)'));

  const implicit = major > 0 && major <= 10;
  const noImplicit = `TensorRT ${tensorrt.version} has no FP16 flag or implicit INT8 (TensorRT 11 builds strongly typed networks)`;
  (implicit ? test.serial : test.skip)(`FP16 within 1.0 point of FP32${implicit ? '' : ` (skipped: ${noImplicit})`}`, (t) => within(t, 'fp16'));
  (implicit ? test.serial : test.skip)(`INT8 implicit from the portable calibration cache within 1.0 point${implicit ? '' : ` (skipped: ${noImplicit})`}`, (t) =>
    within(t, 'int8 implicit (cache)'),
  );
  (implicit ? test.serial : test.skip)(`INT8 implicit, calibrated on the device through the bridge, within 1.0 point${implicit ? '' : ` (skipped: ${noImplicit})`}`, (t) =>
    within(t, 'int8 implicit (device)'),
  );
} else {
  test.skip(`TensorRT GPU engines (skipped: ${gpuSkip})`, () => undefined);
}
