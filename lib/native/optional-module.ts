/**
 * The one loader of the optional native modules (int8_detect_openvino.node,
 * int8_detect_tensorrt.node). They link a runtime's libraries, and a library that does not match
 * this machine can abort the process inside dlopen, so each module is first loaded in a child
 * process (node-llama-cpp's testBindingBinary habit), asynchronously, never blocking the event
 * loop; only a module that loaded there is loaded here. Every failure becomes a reason, never a
 * crash at require(). One status per file and process.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { config } from '../util/config';
import { packageRoot } from '../util/package';

/** What every optional module exports: a description of the runtime it loaded. */
export interface OptionalAddon<Info> {
  runtimeInfo(): Info;
}

export type OptionalModuleStatus<Addon extends OptionalAddon<Info>, Info> =
  | { loaded: true; file: string; built: true; addon: Addon; info: Info }
  | { loaded: false; file: string; built: boolean; reason: string };

export interface OptionalModuleSpec {
  /** The module's short name: NAME loads int8_detect_NAME.node. */
  name: string;
  /** The runtime's name in messages: 'OpenVINO'. */
  title: string;
  /** What to do when it is not built, e.g. "run 'npm run setup:openvino', then 'npm run build:native'". */
  buildHint: string;
  /** Why a load that kills the test process fails, in words ('the TensorRT or CUDA libraries do not match this driver'). */
  crashHint: string;
}

/** The module file this process uses: INT8_DETECT_<NAME>_MODULE, else where CMake builds it. */
export function optionalModulePath(name: string): string {
  return config.nativeModule(name) ?? path.join(packageRoot, 'build', 'Release', `int8_detect_${name}.node`);
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
export function trialLoad(file: string, spec: Pick<OptionalModuleSpec, 'crashHint'>): Promise<string | undefined> {
  const script = `const m = require(${JSON.stringify(file)}); process.stdout.write(JSON.stringify(m.runtimeInfo()));`;
  const name = path.basename(file);
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, windowsHide: true, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const killed = error.signal ?? (error.killed ? 'SIGTERM' : null);
        if (killed) {
          const timedOut = error.killed && error.signal === 'SIGTERM';
          resolve(
            timedOut
              ? `loading ${name} in a test process did not finish within ${CHILD_TIMEOUT_MS / 1000} s`
              : `loading ${name} killed a test process with ${killed}${stderr ? ` (${lastLines(stderr, 2)})` : ''}: ${spec.crashHint}`,
          );
          return;
        }
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string') resolve(`${name} could not be tried in a child process: ${error.message}`);
        else resolve(`${name} failed to load in a test process: ${lastLines(stderr, 3) || `exit code ${String(code)}`}`);
        return;
      }
      try {
        JSON.parse(stdout);
        resolve(undefined);
      } catch {
        resolve(`${name} loaded in a test process but its runtimeInfo() printed no JSON`);
      }
    });
  });
}

async function loadStatus<Addon extends OptionalAddon<Info>, Info>(file: string, spec: OptionalModuleSpec): Promise<OptionalModuleStatus<Addon, Info>> {
  if (!fs.existsSync(file)) {
    const where = path.relative(packageRoot, file);
    return {
      loaded: false,
      file,
      built: false,
      reason: `the ${spec.title} module is not built (no ${where === '' || where.startsWith('..') ? file : where} in ${packageRoot}): ${spec.buildHint}`,
    };
  }
  const childReason = await trialLoad(file, spec);
  if (childReason !== undefined) return { loaded: false, file, built: true, reason: childReason };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(file) as Addon;
    return { loaded: true, file, built: true, addon, info: addon.runtimeInfo() };
  } catch (err) {
    return { loaded: false, file, built: true, reason: `${path.basename(file)} failed to load: ${(err as Error).message}` };
  }
}

const statusByFile = new Map<string, Promise<OptionalModuleStatus<OptionalAddon<unknown>, unknown>>>();

/**
 * The module's status, trying it once per file and process; `refresh` asks a loaded module for
 * its runtime information again (devices may have changed), without loading it again.
 */
export async function optionalModule<Addon extends OptionalAddon<Info>, Info>(
  spec: OptionalModuleSpec,
  options: { file?: string; refresh?: boolean } = {},
): Promise<OptionalModuleStatus<Addon, Info>> {
  const file = options.file ?? optionalModulePath(spec.name);
  let status = statusByFile.get(file) as Promise<OptionalModuleStatus<Addon, Info>> | undefined;
  if (status === undefined) {
    status = loadStatus<Addon, Info>(file, spec);
    statusByFile.set(file, status as Promise<OptionalModuleStatus<OptionalAddon<unknown>, unknown>>);
  } else if (options.refresh) {
    const known = await status;
    if (known.loaded) {
      status = Promise.resolve({ ...known, info: known.addon.runtimeInfo() });
      statusByFile.set(file, status as Promise<OptionalModuleStatus<OptionalAddon<unknown>, unknown>>);
    }
  }
  return status;
}
