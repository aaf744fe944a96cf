/**
 * Loads int8_detect_tensorrt.node lazily, by explicit path, never at require() of the package.
 * The module links libnvinfer and the CUDA runtime, so a mismatched driver or library can abort
 * the process inside dlopen; it is therefore first loaded in a child process (node-llama-cpp's
 * testBindingBinary habit) and only then in this one. Every failure becomes a reason.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError } from '../../util/errors';
import { packageRoot } from '../../native/core';
import type { NativeTensorRtRuntimeInfo, TensorRtAddon } from './native-types';

export type TensorRtModuleStatus =
  | { loaded: true; file: string; addon: TensorRtAddon; info: NativeTensorRtRuntimeInfo }
  | { loaded: false; file: string; built: boolean; reason: string };

/** Where CMake puts the module (the same place probe() names). */
export const defaultTensorRtModulePath = path.join(packageRoot, 'build', 'Release', 'int8_detect_tensorrt.node');

const CHILD_TIMEOUT_MS = 60_000;
const statusByFile = new Map<string, TensorRtModuleStatus>();

function lastLines(text: string, count: number): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('at ') && !line.startsWith('Node.js v'))
    .slice(-count)
    .join(' ');
}

/** Load the module in a child process and ask it for runtimeInfo(); a reason when that fails. */
export function testModuleInChildProcess(file: string): string | undefined {
  const script = `const m = require(${JSON.stringify(file)}); process.stdout.write(JSON.stringify(m.runtimeInfo()));`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, windowsHide: true });
  if (child.error) return `${path.basename(file)} could not be tried in a child process: ${child.error.message}`;
  if (child.signal) {
    return `loading ${path.basename(file)} killed a test process with ${child.signal}${child.stderr ? ` (${lastLines(child.stderr, 2)})` : ''}: the TensorRT or CUDA libraries do not match this driver`;
  }
  if (child.status !== 0) return `${path.basename(file)} failed to load in a test process: ${lastLines(child.stderr, 3) || `exit code ${child.status}`}`;
  try {
    JSON.parse(child.stdout);
  } catch {
    return `${path.basename(file)} loaded in a test process but its runtimeInfo() printed no JSON`;
  }
  return undefined;
}

function loadStatus(file: string): TensorRtModuleStatus {
  if (!fs.existsSync(file)) {
    return { loaded: false, file, built: false, reason: `the TensorRT module is not built (no ${path.relative(packageRoot, file) || file} in ${packageRoot})` };
  }
  const childReason = testModuleInChildProcess(file);
  if (childReason !== undefined) return { loaded: false, file, built: true, reason: childReason };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(file) as TensorRtAddon;
    return { loaded: true, file, addon, info: addon.runtimeInfo() };
  } catch (err) {
    return { loaded: false, file, built: true, reason: `${path.basename(file)} failed to load: ${(err as Error).message}` };
  }
}

/** Load once per file and process (the child-process test included); `refresh` asks the CUDA runtime again. */
export function tensorRtModuleStatus(options: { file?: string; refresh?: boolean } = {}): TensorRtModuleStatus {
  const file = options.file ?? defaultTensorRtModulePath;
  let status = statusByFile.get(file);
  if (status === undefined) {
    status = loadStatus(file);
    statusByFile.set(file, status);
  } else if (options.refresh && status.loaded) {
    status = { ...status, info: status.addon.runtimeInfo() };
    statusByFile.set(file, status);
  }
  return status;
}

/** The loaded module, or ERR_BACKEND_UNAVAILABLE with the reason it is not. */
export function loadTensorRtModule(file?: string): { addon: TensorRtAddon; info: NativeTensorRtRuntimeInfo } {
  const status = tensorRtModuleStatus({ file });
  if (!status.loaded) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `TensorRT cannot run here: ${status.reason}`);
  return { addon: status.addon, info: status.info };
}
