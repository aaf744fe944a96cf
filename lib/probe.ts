/**
 * What can run here, on which devices, and why not: each registered backend's own probe, in
 * priority order, with the machine (CUDA driver, Jetson board, CPU features) looked at once for
 * all of them. No probe throws and none blocks the event loop: a missing runtime is a reason.
 */
import { cpuInfo, type CpuInfo } from './hardware/cpu';
import { detectJetson, type JetsonInfo } from './hardware/jetson';
import { describeBinarySource } from './native/binaries';
import { coreAddonSource, loadCoreAddon, type NativeCudaProbe } from './native/core-addon';
import type { BackendName, BackendOptionsByName, BackendProbe, NativeModuleOrigin, ProbeContext } from './runtimes/backend';
import './runtimes/builtin';
import { backendDescriptor, registeredBackends } from './runtimes/registry';
import { Int8DetectError, invalidArgument } from './util/errors';
import { checkKnownKeys } from './util/option-keys';

export type { BackendName, BackendProbe };

export interface ProbeReport {
  /** Every registered backend, in priority order. */
  backends: Record<BackendName, BackendProbe>;
  /** The core addon: where it was loaded from, or why it could not be. */
  core: Partial<NativeModuleOrigin> & { reason?: string };
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

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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

async function runProbe(refresh: boolean, settings: Partial<BackendOptionsByName> = {}): Promise<ProbeReport> {
  const context: ProbeContext = { cuda: probeCuda(), jetson: detectJetson(), cpu: cpuInfo(), refresh, settings };
  const descriptors = registeredBackends();
  const probes = await Promise.all(
    descriptors.map((d) => d.probe(context).catch((err: unknown): BackendProbe => ({ available: false, reason: `its probe failed: ${errorMessage(err)}`, devices: [] }))),
  );
  const backends = {} as Record<BackendName, BackendProbe>;
  descriptors.forEach((d, i) => (backends[d.name] = probes[i]));
  const loadedCore = coreAddonSource();
  const core = loadedCore ? { file: loadedCore.file, source: loadedCore.source, from: describeBinarySource(loadedCore) } : { reason: context.cuda.reason ?? 'not loaded' };
  return deepFreeze({ backends, core, cpu: context.cpu, cuda: context.cuda, jetson: context.jetson, platform: process.platform, arch: process.arch, node: process.versions.node });
}

let cachedReport: Promise<ProbeReport> | undefined;

export type ProbeOptions = { refresh?: boolean } & Partial<BackendOptionsByName>;

/**
 * Probe once per process; `refresh: true` probes again (the CUDA driver itself is only ever
 * loaded and queried once per process). A backend's option group (`{ triton: { url } }`) tells its
 * probe where to look, and makes a fresh report. The report is frozen, as it is shared.
 */
export function probe(options: ProbeOptions = {}): Promise<ProbeReport> {
  if (options === null || typeof options !== 'object') throw invalidArgument('an object', 'options', options);
  const backends = registeredBackends();
  checkKnownKeys(options, ['refresh', ...backends.map((b) => b.name)], 'probe()');
  if (options.refresh !== undefined && typeof options.refresh !== 'boolean') {
    throw invalidArgument('a boolean', 'options.refresh', options.refresh);
  }
  const settings: Partial<BackendOptionsByName> = {};
  for (const backend of backends) {
    const group = (options as Record<string, unknown>)[backend.name];
    if (group === undefined) continue;
    backend.checkOptions?.(group);
    (settings as Record<string, unknown>)[backend.name] = group;
  }
  if (Object.keys(settings).length > 0) return runProbe(true, settings);
  if (cachedReport === undefined || options.refresh === true) {
    // The first probe of a process also asks each runtime for its devices (the module loads then).
    cachedReport = runProbe(true);
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
  return `${backendDescriptor(name).title}${entry.version ? ` ${entry.version}` : ''} on ${entry.devices.join(', ')}`;
}

/**
 * Pick the backend to run: for 'auto', the first usable one in priority order; a named one must
 * be usable or this throws.
 */
export function chooseBackend(report: ProbeReport, requested: 'auto' | BackendName = 'auto'): BackendChoice {
  const names = Object.keys(report.backends) as BackendName[];
  if (requested !== 'auto' && !names.includes(requested)) {
    throw invalidArgument(`one of 'auto', ${names.map((name) => `'${name}'`).join(', ')}`, 'backend', requested);
  }
  if (requested !== 'auto') {
    const entry = report.backends[requested];
    const why = whyUnusable(entry);
    if (why !== undefined) {
      throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `Backend '${requested}' (${backendDescriptor(requested).title}) cannot run here: ${why}`);
    }
    return { backend: requested, reason: `Using ${describeChosen(requested, entry)}, as requested.` };
  }
  // Backend reasons contain their own punctuation, so each skipped backend gets its own sentence.
  const skipped: string[] = [];
  for (const name of names) {
    const entry = report.backends[name];
    // A served backend's `model` is a name on a server: it is used only when asked for by name.
    const why = backendDescriptor(name).openServed ? `it runs models on a server, by name, only when asked for (backend '${name}')` : whyUnusable(entry);
    if (why === undefined) {
      const chosen = `Using ${describeChosen(name, entry)}`;
      const reason = skipped.length === 0 ? `${chosen}, the first choice in priority order.` : `${chosen}. ${skipped.join(' ')}`;
      return { backend: name, reason };
    }
    skipped.push(`Skipped ${backendDescriptor(name).title}: ${why}.`);
  }
  throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `No backend can run here. ${skipped.join(' ')}`);
}
