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
import { packageRoot } from '../../native/core';
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
}

/** The module this process uses: INT8_DETECT_OPENVINO_MODULE, else where CMake puts it. */
export function openVinoModulePath(): string {
  return config.openVinoModule ?? path.join(packageRoot, 'build', 'Release', 'int8_detect_openvino.node');
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

function loadStatus(file: string): OpenVinoModuleStatus {
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
  if (childReason !== undefined) return { loaded: false, file, built: true, reason: childReason };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(file) as OpenVinoAddon;
    const info = addon.runtimeInfo();
    return { loaded: true, file, built: true, addon, info, buildNumber: info.buildNumber, version: shortOpenVinoVersion(info.buildNumber) };
  } catch (err) {
    return { loaded: false, file, built: true, reason: `${path.basename(file)} failed to load: ${(err as Error).message}` };
  }
}

/** Load once per file and process (the child-process test included); `refresh` lists the devices again. */
export function openVinoModuleStatus(options: { file?: string; refresh?: boolean } = {}): OpenVinoModuleStatus {
  const file = options.file ?? openVinoModulePath();
  let status = statusByFile.get(file);
  if (status === undefined) {
    status = loadStatus(file);
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
