#!/usr/bin/env node
// The first run on a machine with TensorRT (`npm run check:tensorrt-gpu`, after `npm run build:native`
// and `npm run build:ts`): builds FP32, FP16 and INT8 engines of a detector (implicit INT8 calibrated
// on the device and from the portable quantizer's calibration cache where TensorRT <= 10 has it,
// explicit INT8 from a Q/DQ model on 10 and 11), evaluates each on a labelled COCO set, times them
// in interleaved rounds, and prints one table with the versions (TensorRT, CUDA, driver, GPU,
// Jetson model and JetPack). Exits 1 on any failure (a build, a load, an evaluation, an engine
// further than --max-drop from FP32), and 1 with the probe's reason where TensorRT cannot run.
// test/tensorrt-gpu.test.ts runs the same firstRun() on machines with a GPU.
//
//   node scripts/check-tensorrt-gpu.js [--model M.onnx] [--calib DIR] [--images DIR --annotations FILE]
//     [--calib-limit N] [--eval-limit N] [--rounds N] [--max-drop POINTS] [--device N] [--json]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist', 'lib');

function requireDist(file) {
  const full = path.join(dist, file);
  if (!fs.existsSync(full)) throw new Error(`${path.relative(root, full)} is missing: run 'npm run build:ts' first`);
  return require(full);
}

/** JetPack from the L4T release (/etc/nv_tegra_release): L4T 35 is JetPack 5, 36 is 6, 38 is 7. */
function jetPackOf(l4tRelease) {
  const major = Number.parseInt(String(l4tRelease ?? ''), 10);
  const jetpack = { 32: '4', 35: '5', 36: '6', 38: '7' }[major];
  return jetpack === undefined ? undefined : `JetPack ${jetpack}`;
}

function cudaVersion(encoded) {
  return encoded > 0 ? `${Math.floor(encoded / 1000)}.${Math.floor((encoded % 1000) / 10)}` : 'unknown';
}

/** The kernel driver's release ("560.35.03") where the desktop driver says it; Jetson has none. */
function driverRelease() {
  try {
    const text = fs.readFileSync('/proc/driver/nvidia/version', 'utf8');
    return /Kernel Module\s+([\d.]+)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** Everything a report of a first run must name, whether TensorRT loaded or not. */
async function collectVersions(options = {}) {
  const { probe } = requireDist('probe.js');
  const { tensorRtModuleStatus } = requireDist('runtimes/tensorrt/module.js');
  const { decodeTensorRtVersion, formatTensorRtVersion } = requireDist('runtimes/tensorrt/version.js');
  const { packageVersion } = requireDist('util/package.js');
  const report = await probe({ refresh: true });
  const status = await tensorRtModuleStatus();
  const versions = {
    node: process.versions.node,
    int8Detect: packageVersion(),
    platform: `${process.platform}-${process.arch}`,
    cpu: `${report.cpu.model} (${report.cpu.int8Summary})`,
    jetson: report.jetson ? { model: report.jetson.model, l4t: report.jetson.l4tRelease, jetpack: jetPackOf(report.jetson.l4tRelease) } : null,
    driver: driverRelease() ?? null,
    cudaDriverApi: report.cuda.available && report.cuda.driverVersion ? cudaVersion(report.cuda.driverVersion) : null,
    tensorrt: null,
    gpus: [],
    reason: report.backends.tensorrt?.available ? undefined : report.backends.tensorrt?.reason ?? 'TensorRT is not registered',
  };
  if (status.loaded) {
    const info = status.info;
    versions.tensorrt = {
      libraryVersion: info.libraryVersion,
      loaded: formatTensorRtVersion(decodeTensorRtVersion(info.libraryVersion)),
      compiled: `${info.compiled.major}.${info.compiled.minor}.${info.compiled.patch}`,
      capabilities: info.capabilities,
      cudaRuntime: cudaVersion(info.cudaRuntimeVersion),
      cudaDriver: cudaVersion(info.cudaDriverVersion),
    };
    versions.gpus = info.devices.map((d) => ({
      index: d.index,
      name: d.name,
      computeCapability: d.computeCapability,
      multiprocessors: d.multiprocessors,
      memoryGiB: Number((d.totalMemoryBytes / 1024 ** 3).toFixed(1)),
      integrated: d.integrated,
    }));
    if (options.device !== undefined && !versions.gpus.some((g) => g.index === options.device)) {
      versions.reason = `CUDA device ${options.device} was asked for, but TensorRT sees ${versions.gpus.length} device(s)`;
    }
  }
  return versions;
}

function fixture(...parts) {
  const { config } = requireDist('util/config.js');
  return path.join(config.fixturesDir, ...parts);
}

function defaults() {
  return {
    model: fixture('models', 'yolox_nano.onnx'),
    calib: fixture('coco', 'calib'),
    images: fixture('coco', 'eval', 'images'),
    annotations: fixture('coco', 'eval', 'instances.json'),
    calibLimit: 100,
    evalLimit: undefined,
    rounds: 5,
    detectsPerRound: 30,
    maxDrop: 1.0,
    device: 0,
    log: (line) => console.error(line),
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The whole first run. Never throws for a failure of TensorRT: each one is a row's `error` and a
 * line of `failures`; a missing TensorRT is `versions.reason` and one failure.
 */
async function firstRun(given = {}) {
  const options = { ...defaults(), ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  const versions = await collectVersions(options);
  if (versions.reason !== undefined || versions.tensorrt === null) {
    return { versions, rows: [], skipped: [], failures: [`TensorRT cannot run here: ${versions.reason}`], latency: null };
  }
  const target = {
    backend: 'tensorrt',
    device: `cuda:${options.device}`,
    runtime: `TensorRT ${versions.tensorrt.loaded}`,
    capabilities: versions.tensorrt.capabilities,
    cacheVersion: encodeCacheVersion(versions.tensorrt.libraryVersion),
  };
  return { versions, ...(await runEngines(options, target)) };
}

function encodeCacheVersion(libraryVersion) {
  const { encodeTensorRtVersion, decodeTensorRtVersion } = requireDist('runtimes/tensorrt/version.js');
  return encodeTensorRtVersion(decodeTensorRtVersion(libraryVersion));
}

/**
 * Builds, evaluates and times every engine `target` can build. `target.backend` is 'tensorrt' for
 * the first run; the suite also runs this on OpenVINO (FP32 and the Q/DQ model) on machines
 * without a GPU, so the script itself is exercised before anyone's first GPU run.
 */
async function runEngines(given, target) {
  const options = { ...defaults(), ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  const log = options.log;
  const result = { rows: [], skipped: [], failures: [], latency: null };
  for (const [what, file] of [['model', options.model], ['calibration folder', options.calib], ['evaluation images', options.images], ['annotations', options.annotations]]) {
    if (!fs.existsSync(file)) {
      result.failures.push(`the ${what} ${file} does not exist: pass --${what === 'calibration folder' ? 'calib' : what === 'evaluation images' ? 'images' : what} or set INT8_DETECT_FIXTURES`);
    }
  }
  if (result.failures.length > 0) return result;

  const { createEngine } = requireDist('engine.js');
  const { evaluateEngine } = requireDist('eval/evaluate-engine.js');
  const { loadCocoDataset } = requireDist('eval/coco.js');
  const { decodeImage } = requireDist('image/decode.js');
  const { calibratorFromFolder } = requireDist('quantize/calibrator.js');
  const { quantizeModel } = requireDist('runtimes/onnxruntime/quantize.js');
  const { emitTensorRtCalibrationCache } = requireDist('quantize/emitters/tensorrt-cache.js');

  const capabilities = target.capabilities;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-trt-first-run-'));
  const cacheDir = path.join(work, 'cache');
  const dataset = await loadCocoDataset(options.annotations);
  const engines = [];
  let fp32mAP;

  async function calibrator(preprocess, inputName) {
    return calibratorFromFolder(options.calib, { preprocess, inputName, limit: options.calibLimit });
  }

  async function attempt(label, engineOptions) {
    log(`check-tensorrt-gpu: building ${label} ...`);
    const started = Date.now();
    let engine;
    try {
      engine = await createEngine({ backend: target.backend, device: target.device, ...engineOptions });
    } catch (err) {
      result.rows.push({ label, error: `${err.code ?? 'ERROR'}: ${err.message}` });
      result.failures.push(`${label}: ${err.message}`);
      return undefined;
    }
    const row = { label, precision: engine.info.precision, buildSeconds: (Date.now() - started) / 1000, contexts: engine.info.concurrency };
    try {
      const { metrics } = await evaluateEngine(engine, { imagesDir: options.images, dataset, limit: options.evalLimit });
      row.mAP = metrics.mAP * 100;
      row.mAP50 = metrics.AP50 * 100;
    } catch (err) {
      row.error = `evaluation failed: ${err.message}`;
      result.failures.push(`${label}: ${row.error}`);
    }
    result.rows.push(row);
    engines.push({ label, engine, row });
    return engine;
  }

  // Plans go to a folder of this run's own, so every engine is really built (and timed) here.
  const savedCacheDir = process.env.INT8_DETECT_CACHE_DIR;
  process.env.INT8_DETECT_CACHE_DIR = cacheDir;
  try {
    const fp32 = await attempt('fp32', { model: options.model, precision: 'fp32' });
    fp32mAP = result.rows.find((r) => r.label === 'fp32')?.mAP;
    const preprocess = fp32?.info.preprocess;
    const inputName = fp32?.info.model.inputs[0]?.name;
    if (capabilities.precisionFlags) {
      await attempt('fp16', { model: options.model, precision: 'fp16' });
    } else {
      result.skipped.push({ label: 'fp16', reason: `${target.runtime} builds strongly typed networks: FP16 needs an FP16 ONNX model` });
    }
    if (!preprocess || !inputName) {
      result.skipped.push({ label: 'int8', reason: 'the FP32 engine failed, so its preprocessing is unknown to calibrate with' });
    } else {
      // The portable quantizer's Q/DQ model (symmetric INT8 activations: TensorRT's explicit
      // quantization takes no zero point) and, from the same statistics, a calibration cache.
      log('check-tensorrt-gpu: quantizing the model with the portable quantizer ...');
      const quantized = await quantizeModel({ model: options.model, calibrator: await calibrator(preprocess, inputName), activations: 'int8-symmetric', allTensors: true });
      const qdq = path.join(work, `${path.basename(options.model, '.onnx')}.qdq.onnx`);
      fs.writeFileSync(qdq, quantized.bytes);
      await attempt('int8 explicit (Q/DQ)', { model: qdq, precision: 'int8' });
      if (capabilities.implicitInt8) {
        // The header names the TensorRT that reads it (build-plan.ts retargets it anyway).
        const cacheFile = path.join(work, 'portable.calib');
        fs.writeFileSync(cacheFile, emitTensorRtCalibrationCache(quantized.statistics.statistics, quantized.plan, { version: target.cacheVersion }));
        await attempt('int8 implicit (cache)', { model: options.model, precision: 'int8', tensorrt: { calibrationCache: cacheFile } });
        await attempt('int8 implicit (device)', {
          model: options.model,
          precision: 'int8',
          tensorrt: { calibrator: await calibrator(preprocess, inputName), calibrationId: `first-run-${options.calibLimit}` },
        });
      } else {
        const reason = `${target.runtime} has no implicit INT8 (calibrators, calibration caches)`;
        result.skipped.push({ label: 'int8 implicit (cache)', reason }, { label: 'int8 implicit (device)', reason });
      }
    }

    for (const { label, row } of engines) {
      if (label === 'fp32' || row.mAP === undefined || fp32mAP === undefined) continue;
      row.drop = fp32mAP - row.mAP;
      if (row.drop > options.maxDrop) result.failures.push(`${label}: mAP ${row.mAP.toFixed(2)} is ${row.drop.toFixed(2)} points below FP32's ${fp32mAP.toFixed(2)} (more than --max-drop ${options.maxDrop})`);
    }
    if (fp32mAP !== undefined && fp32mAP < 10) result.failures.push(`fp32: mAP ${fp32mAP.toFixed(2)} is too low for ${path.basename(options.model)}: the engine's outputs are wrong`);

    // Latency: every engine in each round, so a slow minute of a shared GPU touches them all.
    if (engines.length > 0) {
      const frame = await decodeImage(path.join(options.images, dataset.images[0].file_name));
      const samples = new Map(engines.map(({ label }) => [label, []]));
      for (const { engine } of engines) for (let i = 0; i < 10; i++) await engine.detect(frame);
      for (let round = 0; round < options.rounds; round++) {
        for (const { label, engine } of engines) {
          for (let i = 0; i < options.detectsPerRound; i++) {
            const t0 = process.hrtime.bigint();
            await engine.detect(frame);
            samples.get(label).push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
        }
      }
      for (const { label, row } of engines) row.medianMs = median(samples.get(label));
      const base = engines.find((e) => e.label === 'fp32')?.row.medianMs;
      if (base !== undefined) for (const { row } of engines) row.speedup = base / row.medianMs;
      result.latency = { rounds: options.rounds, detectsPerRound: options.detectsPerRound, frame: dataset.images[0].file_name };
    }
  } catch (err) {
    result.failures.push(`the first run stopped: ${err.stack ?? err.message}`);
  } finally {
    if (savedCacheDir === undefined) delete process.env.INT8_DETECT_CACHE_DIR;
    else process.env.INT8_DETECT_CACHE_DIR = savedCacheDir;
    for (const { engine } of engines) await engine.dispose().catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
  return result;
}

function formatVersions(v) {
  const lines = [
    `int8-detect ${v.int8Detect}, Node ${v.node}, ${v.platform}`,
    `CPU          ${v.cpu}`,
    `Jetson       ${v.jetson ? `${v.jetson.model}, L4T ${v.jetson.l4t ?? 'unknown'}${v.jetson.jetpack ? ` (${v.jetson.jetpack})` : ''}` : 'no'}`,
    `NVIDIA driver ${v.driver ?? 'release not readable (no /proc/driver/nvidia/version)'}${v.cudaDriverApi ? `, CUDA driver API ${v.cudaDriverApi}` : ''}`,
  ];
  if (v.tensorrt) {
    lines.push(`TensorRT     ${v.tensorrt.loaded} (module compiled against ${v.tensorrt.compiled}), CUDA runtime ${v.tensorrt.cudaRuntime}`);
    for (const g of v.gpus) lines.push(`GPU          cuda:${g.index} ${g.name}, compute capability ${g.computeCapability}, ${g.multiprocessors} SMs, ${g.memoryGiB} GiB${g.integrated ? ', integrated' : ''}`);
  } else {
    lines.push('TensorRT     not loaded');
  }
  return lines.join('\n');
}

function formatTable(result) {
  const lines = [formatVersions(result.versions), ''];
  if (result.rows.length > 0) {
    const header = ['engine', 'precision', 'build+load s', 'contexts', 'mAP', 'mAP50', 'drop', 'median ms', 'vs fp32'];
    const cells = result.rows.map((r) =>
      r.error
        ? [r.label, 'FAILED', '', '', '', '', '', '', r.error]
        : [
            r.label,
            r.precision,
            r.buildSeconds.toFixed(1),
            String(r.contexts),
            r.mAP?.toFixed(2) ?? '-',
            r.mAP50?.toFixed(2) ?? '-',
            r.drop === undefined ? '' : r.drop.toFixed(2),
            r.medianMs?.toFixed(2) ?? '-',
            r.speedup === undefined ? '' : `${r.speedup.toFixed(2)}x`,
          ],
    );
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const row = (c) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
    lines.push(row(header), row(widths.map((w) => '-'.repeat(w))), ...cells.map(row));
    if (result.latency) lines.push('', `latency: median of ${result.latency.rounds} interleaved rounds x ${result.latency.detectsPerRound} detect() of ${result.latency.frame}`);
  }
  for (const s of result.skipped) lines.push(`skipped ${s.label}: ${s.reason}`);
  lines.push('', result.failures.length === 0 ? 'check-tensorrt-gpu: all passed' : `check-tensorrt-gpu: ${result.failures.length} failure(s):\n${result.failures.map((f) => `  - ${f}`).join('\n')}`);
  return lines.join('\n');
}

function parseArgs(argv) {
  const options = {};
  const numbers = { '--calib-limit': 'calibLimit', '--eval-limit': 'evalLimit', '--rounds': 'rounds', '--max-drop': 'maxDrop', '--device': 'device' };
  const paths = { '--model': 'model', '--calib': 'calib', '--images': 'images', '--annotations': 'annotations' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--json') options.json = true;
    else if (flag === '-h' || flag === '--help') options.help = true;
    else if (flag in numbers || flag in paths) {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${flag} needs a value`);
      if (flag in paths) options[paths[flag]] = path.resolve(value);
      else {
        const n = Number(value);
        if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} expects a non-negative number, got ${value}`);
        options[numbers[flag]] = n;
      }
    } else throw new Error(`unknown argument ${flag}`);
  }
  return options;
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`check-tensorrt-gpu: ${err.message}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 13).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    return;
  }
  const result = await firstRun(options);
  console.log(options.json ? JSON.stringify(result, null, 2) : formatTable(result));
  process.exitCode = result.failures.length === 0 ? 0 : 1;
}

module.exports = { firstRun, runEngines, collectVersions, formatTable, jetPackOf };

if (require.main === module) {
  main().catch((err) => {
    console.error(`check-tensorrt-gpu: ${err.stack ?? err.message}`);
    process.exit(1);
  });
}
