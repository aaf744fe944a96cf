/**
 * What can run here, on which devices, and why not. Each backend has one probe function, in
 * priority order; none of them throws, so a missing runtime is a reason, never a crash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as OnnxRuntime from 'onnxruntime-node';
import { cpuInfo, type CpuInfo } from './hardware/cpu';
import { Int8DetectError, invalidArgument } from './util/errors';
import { detectJetson, type JetsonInfo } from './hardware/jetson';
import type { BackendName } from './runtimes/backend';
import { loadCoreAddon, packageRoot, type NativeCudaProbe } from './native/core';
import { openVinoModuleStatus } from './runtimes/openvino/module-loader';
import { tensorRtModuleStatus } from './runtimes/tensorrt/module-loader';
import { decodeTensorRtVersion, formatTensorRtVersion } from './runtimes/tensorrt/version';

export type { BackendName };

export interface BackendProbe {
  available: boolean;
  /** Why it cannot run here, when it cannot. */
  reason?: string;
  /** The runtime's version, when it loaded. */
  version?: string;
  /** Where it can run: 'cpu', GPU names, ... */
  devices: string[];
}

export interface ProbeReport {
  backends: Record<BackendName, BackendProbe>;
  cpu: CpuInfo;
  cuda: NativeCudaProbe;
  jetson: JetsonInfo | null;
  platform: NodeJS.Platform;
  arch: string;
  /** Node.js version. */
  node: string;
}

export interface BackendChoice {
  backend: BackendName;
  /** One sentence: why this backend, and why each one before it was skipped. */
  reason: string;
}

/** What every backend probe may look at: the devices, found once for all of them. */
interface ProbeContext {
  cuda: NativeCudaProbe;
  jetson: JetsonInfo | null;
}

interface BackendProber {
  name: BackendName;
  title: string;
  probe(context: ProbeContext): BackendProbe;
}

/** Where an optional backend's native module is built: its own file, loaded only when probed. */
export function optionalModulePath(backend: 'openvino' | 'tensorrt'): string {
  return path.join(packageRoot, 'build', 'Release', `int8_detect_${backend}.node`);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** 12040 -> "12.4", as cuDriverGetVersion encodes it (1000 * major + 10 * minor). */
function cudaVersionText(version: number): string {
  return `${Math.floor(version / 1000)}.${Math.floor((version % 1000) / 10)}`;
}

/** What the CUDA driver saw, in words, for TensorRT's reason. */
export function describeCuda(cuda: NativeCudaProbe, jetson: JetsonInfo | null): string {
  const board = jetson ? ` on ${jetson.model}${jetson.l4tRelease ? ` (L4T ${jetson.l4tRelease})` : ''}` : '';
  if (!cuda.available) return `CUDA probe${board}: ${cuda.reason ?? 'not available'}`;
  const driver = cuda.driverVersion !== undefined ? ` (driver API ${cudaVersionText(cuda.driverVersion)})` : '';
  const gpus = cuda.devices
    .map((device) => `${device.name} (compute capability ${device.computeCapability}, ${gib(device.totalMemoryBytes)})`)
    .join(', ');
  const count = cuda.devices.length;
  return `CUDA probe${board}: ${count} NVIDIA GPU${count === 1 ? '' : 's'} found${driver}: ${gpus}`;
}

/** Why an optional module is not usable yet: not built (and how to build it), or built but not loaded by this version. */
function optionalModuleReason(backend: 'openvino' | 'tensorrt', title: string, requirement: string): string {
  const file = optionalModulePath(backend);
  if (fs.existsSync(file)) return `${file} exists, but this version of int8-detect does not load the ${title} module`;
  return (
    `the ${title} module is not built (no ${path.relative(packageRoot, file)} in ${packageRoot}): ` +
    `install ${requirement}, then run 'npm run build:native', which compiles it only where ${title} is found`
  );
}

/**
 * TensorRT's module is loaded by explicit path after a test load in a child process (a driver
 * mismatch must not crash this one); its CUDA runtime then says which GPUs it can use.
 */
function probeTensorRt(context: ProbeContext): BackendProbe {
  const cuda = describeCuda(context.cuda, context.jetson);
  const status = tensorRtModuleStatus({ refresh: true });
  if (!status.loaded) {
    const moduleReason = status.built
      ? status.reason
      : optionalModuleReason('tensorrt', 'TensorRT', 'TensorRT (headers and libraries) and the CUDA toolkit');
    return { available: false, reason: `${moduleReason}. ${cuda}`, devices: [] };
  }
  const version = formatTensorRtVersion(decodeTensorRtVersion(status.info.libraryVersion));
  const devices = status.info.devices.map((d) => `${d.name} (cuda:${d.index}, compute capability ${d.computeCapability})`);
  if (devices.length === 0) {
    const why = status.info.cudaError ?? 'the CUDA runtime reports no devices';
    return { available: false, version, reason: `TensorRT ${version} loaded, but no GPU is usable: ${why}. ${cuda}`, devices: [] };
  }
  return { available: true, version, devices };
}

/**
 * OpenVINO's module is loaded by explicit path after a test load in a child process; OpenVINO then
 * lists its devices (available_devices with FULL_DEVICE_NAME). The CPU's INT8 features are in
 * the report's `cpu` and repeated here, since they decide whether INT8 pays on OpenVINO's CPU device.
 */
function probeOpenVino(): BackendProbe {
  const status = openVinoModuleStatus({ refresh: true });
  const cpu = cpuInfo();
  if (!status.loaded || !status.info) {
    return { available: false, reason: `${status.reason ?? 'the OpenVINO module did not load'}. CPU: ${cpu.int8Summary}`, devices: [] };
  }
  const devices = status.info.devices.map((d) => (d.fullName ? `${d.name} (${d.fullName}${d.name === 'CPU' ? `; ${cpu.int8Summary}` : ''})` : d.name));
  if (devices.length === 0) {
    const why = status.info.devicesError ?? 'OpenVINO lists no devices';
    return { available: false, version: status.version, reason: `OpenVINO ${status.version} loaded, but no device is usable: ${why}`, devices: [] };
  }
  return { available: true, version: status.version, devices };
}

function probeOnnxRuntime(): BackendProbe {
  try {
    // Required here, not at the top: a broken onnxruntime-node install must become a reason.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as typeof OnnxRuntime;
    const version = ort.env.versions.node ?? ort.env.versions.common;
    return { available: true, version, devices: ['cpu'] };
  } catch (err) {
    return { available: false, reason: `onnxruntime-node could not be loaded: ${errorMessage(err)}`, devices: [] };
  }
}

/** Priority order: the first usable one wins for backend 'auto'. */
const backendProbers: readonly BackendProber[] = [
  { name: 'tensorrt', title: 'TensorRT', probe: probeTensorRt },
  { name: 'openvino', title: 'OpenVINO', probe: probeOpenVino },
  { name: 'onnxruntime', title: 'ONNX Runtime', probe: probeOnnxRuntime },
];

export const backendPriority: readonly BackendName[] = backendProbers.map((prober) => prober.name);

function titleOf(name: BackendName): string {
  return backendProbers.find((prober) => prober.name === name)?.title ?? name;
}

function probeCuda(): NativeCudaProbe {
  try {
    return loadCoreAddon().cudaProbe();
  } catch (err) {
    return { available: false, reason: `not probed, because ${errorMessage(err)}`, devices: [] };
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function runProbe(): ProbeReport {
  const cuda = probeCuda();
  const jetson = detectJetson();
  const context: ProbeContext = { cuda, jetson };
  const backends = {} as Record<BackendName, BackendProbe>;
  for (const prober of backendProbers) backends[prober.name] = prober.probe(context);
  return deepFreeze({
    backends,
    cpu: cpuInfo(),
    cuda,
    jetson,
    platform: process.platform,
    arch: process.arch,
    node: process.versions.node,
  });
}

let cachedReport: Promise<ProbeReport> | undefined;

/**
 * Probe once per process; `refresh: true` probes again (the CUDA driver itself is only ever
 * loaded and queried once per process). The report is frozen, as it is shared.
 */
export function probe(options: { refresh?: boolean } = {}): Promise<ProbeReport> {
  if (options === null || typeof options !== 'object') throw invalidArgument('an object', 'options', options);
  if (options.refresh !== undefined && typeof options.refresh !== 'boolean') {
    throw invalidArgument('a boolean', 'options.refresh', options.refresh);
  }
  if (cachedReport === undefined || options.refresh === true) {
    cachedReport = Promise.resolve().then(runProbe);
  }
  return cachedReport;
}

/** A backend is usable when it loaded and sees at least one device to run on. */
function whyUnusable(entry: BackendProbe): string | undefined {
  if (!entry.available) return entry.reason ?? 'not available';
  if (entry.devices.length === 0) return 'it loaded but sees no device to run on';
  return undefined;
}

function describeChosen(name: BackendName, entry: BackendProbe): string {
  return `${titleOf(name)}${entry.version ? ` ${entry.version}` : ''} on ${entry.devices.join(', ')}`;
}

/**
 * Pick the backend to run: for 'auto', the first usable one in priority order (TensorRT on an
 * NVIDIA GPU, else OpenVINO, else ONNX Runtime); a named one must be usable or this throws.
 */
export function chooseBackend(report: ProbeReport, requested: 'auto' | BackendName = 'auto'): BackendChoice {
  if (requested !== 'auto' && !backendPriority.includes(requested)) {
    throw invalidArgument(`one of 'auto', ${backendPriority.map((name) => `'${name}'`).join(', ')}`, 'backend', requested);
  }
  if (requested !== 'auto') {
    const entry = report.backends[requested];
    const why = whyUnusable(entry);
    if (why !== undefined) {
      throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `Backend '${requested}' (${titleOf(requested)}) cannot run here: ${why}`);
    }
    return { backend: requested, reason: `Using ${describeChosen(requested, entry)}, as requested.` };
  }
  // Backend reasons contain their own punctuation, so each skipped backend gets its own sentence.
  const skipped: string[] = [];
  for (const name of backendPriority) {
    const entry = report.backends[name];
    const why = whyUnusable(entry);
    if (why === undefined) {
      const chosen = `Using ${describeChosen(name, entry)}`;
      const reason = skipped.length === 0 ? `${chosen}, the first choice in priority order.` : `${chosen}. ${skipped.join(' ')}`;
      return { backend: name, reason };
    }
    skipped.push(`Skipped ${titleOf(name)}: ${why}.`);
  }
  throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `No backend can run here. ${skipped.join(' ')}`);
}
