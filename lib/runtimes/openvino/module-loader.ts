/**
 * Loads int8_detect_openvino.node lazily, by explicit path, never at require() of the package, so
 * the core loads where OpenVINO is absent. The module links libopenvino (found through its RPATH);
 * like the TensorRT module it is first loaded in a child process, so a broken OpenVINO install
 * (a library that aborts inside dlopen) becomes a reason instead of a crash. Every failure is a reason.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { config } from '../../util/config';
import { Int8DetectError } from '../../util/errors';
import { describeBinarySource, findNativeModule, isDevelopmentCheckout, isPlatformPublished, type BinaryLookup, type BinarySource } from '../../native/binaries';
import { packageRoot } from '../../util/package';
import type { NativeOpenVinoRuntimeInfo, OpenVinoAddon } from './native-types';

export interface OpenVinoModuleStatus {
  loaded: boolean;
  /** The module file tried. */
  file: string;
  /** Whether that file exists (false: not built here). */
  built: boolean;
  /** Why it cannot be used, when it cannot. */
  reason?: string;
  /** OpenVINO's version ('2026.4.1'), when it loaded. */
  version?: string;
  /** OpenVINO's full build number, when it loaded. */
  buildNumber?: string;
  addon?: OpenVinoAddon;
  info?: NativeOpenVinoRuntimeInfo;
  /** Where the module was found: 'platform-package', 'prebuilds', 'local-build' or 'environment'. */
  source?: BinarySource;
  /** The same in words: 'the platform package @int8-detect/linux-x64'. */
  from?: string;
}

/**
 * Where this process looks for the module (lib/native/binaries.ts): INT8_DETECT_OPENVINO_MODULE
 * alone when set, else the platform package, prebuilds/, the local build.
 */
export function openVinoModuleLookup(): BinaryLookup {
  return findNativeModule('openvino', { environment: config.openVinoModule });
}

/** The module this process uses: the first place that has it, else where a local build puts it. */
export function openVinoModulePath(lookup: BinaryLookup = openVinoModuleLookup()): string {
  return (lookup.found ?? lookup.tried.find((candidate) => candidate.source === 'local-build') ?? lookup.tried[0]).file;
}

const CHILD_TIMEOUT_MS = 60_000;

function lastLines(text: string, count: number): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('at ') && !line.startsWith('Node.js v'))
    .slice(-count)
    .join(' ');
}

/** Load the module in a child process and ask it for runtimeInfo(); a reason when that fails. */
function testInChildProcess(file: string): string | undefined {
  const script = `const m = require(${JSON.stringify(file)}); process.stdout.write(JSON.stringify(m.runtimeInfo()));`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, windowsHide: true });
  const name = path.basename(file);
  if (child.error) return `${name} could not be tried in a child process: ${child.error.message}`;
  if (child.signal) return `loading ${name} killed a test process with ${child.signal}: the OpenVINO libraries cannot load here${child.stderr ? ` (${lastLines(child.stderr, 2)})` : ''}`;
  if (child.status !== 0) return `${name} failed to load in a test process: ${lastLines(child.stderr, 3) || `exit code ${child.status}`}`;
  return undefined;
}

const statusByFile = new Map<string, OpenVinoModuleStatus>();

/** '2026.4.1-22982-e213a147257-releases/2026/4' -> '2026.4.1' */
export function shortOpenVinoVersion(buildNumber: string): string {
  return /^\d+\.\d+\.\d+/.exec(buildNumber)?.[0] ?? buildNumber;
}

/** An installed int8-detect without the module: what npm skipped, or that this platform has none. */
function notInstalledReason(lookup: BinaryLookup): string {
  const name = lookup.platformPackage.name;
  const advice = isPlatformPublished()
    ? `reinstall with 'npm install --os=${process.platform} --cpu=${process.arch} int8-detect' so that npm installs ${name} (see the README's install section)`
    : `no platform package is published for ${process.platform}-${process.arch}: build the module against your OpenVINO with 'npx int8-detect build-native --module openvino --openvino-dir DIR'`;
  return `the OpenVINO module is not installed (${lookup.platformPackage.reason ?? `not in ${name}`}; nor in ${lookup.tried.map((c) => c.file).join(', ')}): ${advice}`;
}

function loadStatus(file: string, lookup?: BinaryLookup): OpenVinoModuleStatus {
  const found = lookup?.found;
  const source = found ? { source: found.source, from: describeBinarySource(found, lookup?.platformPackage) } : {};
  if (!fs.existsSync(file) && lookup && lookup.tried[0]?.source !== 'environment' && !isDevelopmentCheckout()) {
    return { loaded: false, file, built: false, reason: notInstalledReason(lookup) };
  }
  if (!fs.existsSync(file)) {
    const where = path.relative(packageRoot, file) || file;
    return {
      loaded: false,
      file,
      built: false,
      reason:
        `the OpenVINO module is not built (no ${where.startsWith('..') ? file : where} in ${packageRoot}): ` +
        `run 'npm run setup:openvino' (installs the pinned OpenVINO wheel into .venv), then 'npm run build:native'`,
    };
  }
  const childReason = testInChildProcess(file);
  if (childReason !== undefined) return { loaded: false, file, built: true, reason: childReason, ...source };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(file) as OpenVinoAddon;
    const info = addon.runtimeInfo();
    return { loaded: true, file, built: true, addon, info, buildNumber: info.buildNumber, version: shortOpenVinoVersion(info.buildNumber), ...source };
  } catch (err) {
    return { loaded: false, file, built: true, reason: `${path.basename(file)} failed to load: ${(err as Error).message}`, ...source };
  }
}

/** Load once per file and process (the child-process test included); `refresh` lists the devices again. */
export function openVinoModuleStatus(options: { file?: string; refresh?: boolean } = {}): OpenVinoModuleStatus {
  const lookup = options.file === undefined ? openVinoModuleLookup() : undefined;
  const file = options.file ?? openVinoModulePath(lookup);
  let status = statusByFile.get(file);
  if (status === undefined) {
    status = loadStatus(file, lookup);
    statusByFile.set(file, status);
  } else if (options.refresh && status.loaded && status.addon) {
    status = { ...status, info: status.addon.runtimeInfo() };
    statusByFile.set(file, status);
  }
  return status;
}

/** The loaded module, or ERR_BACKEND_UNAVAILABLE with the reason it is not. */
export function loadOpenVinoModule(file?: string): OpenVinoAddon {
  const status = openVinoModuleStatus({ file });
  if (!status.loaded || !status.addon) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `OpenVINO cannot run here: ${status.reason}`);
  return status.addon;
}
