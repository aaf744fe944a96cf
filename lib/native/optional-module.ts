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
import { describeBinarySource, findNativeModule, isDevelopmentCheckout, isPlatformPublished, type BinaryLookup, type BinarySource } from './binaries';

/** What every optional module exports: a description of the runtime it loaded. */
export interface OptionalAddon<Info> {
  runtimeInfo(): Info;
}

/** Where a module was found (lib/native/binaries.ts), when it was found by the search rather than named by the caller. */
export interface ModuleOrigin {
  source?: BinarySource;
  /** The source in words: 'the platform package @int8-detect/linux-x64'. */
  from?: string;
}

export type OptionalModuleStatus<Addon extends OptionalAddon<Info>, Info> =
  | ({ loaded: true; file: string; built: true; addon: Addon; info: Info } & ModuleOrigin)
  | ({ loaded: false; file: string; built: boolean; reason: string } & ModuleOrigin);

export interface OptionalModuleSpec {
  /** The module's short name: NAME loads int8_detect_NAME.node. */
  name: string;
  /** The runtime's name in messages: 'OpenVINO'. */
  title: string;
  /**
   * What to do when it is not built, e.g. "run 'npm run setup:openvino', then 'npm run build:native'";
   * a function when it depends on what is installed (TensorRT: the exact command where TensorRT is found).
   */
  buildHint: string | (() => string);
  /** Why a load that kills the test process fails, in words ('the TensorRT or CUDA libraries do not match this driver'). */
  crashHint: string;
  /** Whether the platform package carries it prebuilt (OpenVINO: yes; TensorRT: never, it is built against the user's own). */
  prebuilt: boolean;
}

/**
 * Where this process looks for the module (lib/native/binaries.ts): INT8_DETECT_<NAME>_MODULE
 * alone when set, else the platform package, prebuilds/, the local build.
 */
export function optionalModuleLookup(name: string): BinaryLookup {
  return findNativeModule(name, { environment: config.nativeModule(name) });
}

/** The module file this process uses: the first place that has it, else where a local build puts it. */
export function optionalModulePath(name: string, lookup: BinaryLookup = optionalModuleLookup(name)): string {
  return (lookup.found ?? lookup.tried.find((candidate) => candidate.source === 'local-build') ?? lookup.tried[0]).file;
}

/**
 * An installed int8-detect (not a checkout) whose module is nowhere: what npm skipped, or that
 * this platform has no platform package. Undefined where the module is not the platform
 * package's to carry (`prebuilt` false) or the lookup was not the search.
 */
function notInstalledReason(spec: OptionalModuleSpec, lookup: BinaryLookup | undefined): string | undefined {
  if (!spec.prebuilt || lookup === undefined || lookup.tried[0]?.source === 'environment' || isDevelopmentCheckout()) return undefined;
  const name = lookup.platformPackage.name;
  const advice = isPlatformPublished()
    ? `reinstall with 'npm install --os=${process.platform} --cpu=${process.arch} int8-detect' so that npm installs ${name} (see the README's install section)`
    : `no platform package is published for ${process.platform}-${process.arch}: build it from source with 'npx int8-detect build-native --module ${spec.name}'`;
  return `the ${spec.title} module is not installed (${lookup.platformPackage.reason ?? `not in ${name}`}; nor in ${lookup.tried.map((c) => c.file).join(', ')}): ${advice}`;
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

async function loadStatus<Addon extends OptionalAddon<Info>, Info>(file: string, spec: OptionalModuleSpec, lookup?: BinaryLookup): Promise<OptionalModuleStatus<Addon, Info>> {
  const notInstalled = fs.existsSync(file) ? undefined : notInstalledReason(spec, lookup);
  if (notInstalled !== undefined) return { loaded: false, file, built: false, reason: notInstalled };
  const found = lookup?.found;
  const origin: ModuleOrigin = found ? { source: found.source, from: describeBinarySource(found, lookup?.platformPackage) } : {};
  if (!fs.existsSync(file)) {
    const where = path.relative(packageRoot, file);
    return {
      loaded: false,
      file,
      built: false,
      reason: `the ${spec.title} module is not built (no ${where === '' || where.startsWith('..') ? file : where} in ${packageRoot}): ${typeof spec.buildHint === 'function' ? spec.buildHint() : spec.buildHint}`,
    };
  }
  const childReason = await trialLoad(file, spec);
  if (childReason !== undefined) return { loaded: false, file, built: true, reason: childReason, ...origin };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(file) as Addon;
    return { loaded: true, file, built: true, addon, info: addon.runtimeInfo(), ...origin };
  } catch (err) {
    return { loaded: false, file, built: true, reason: `${path.basename(file)} failed to load: ${(err as Error).message}`, ...origin };
  }
}

/**
 * Why CMake did not build a module, from the note it leaves beside where the module would be
 * (`int8_detect_NAME.not-built.txt`): what it did not find, or a runtime too old to build against
 * (JetPack 5's TensorRT 8.5). Undefined when there is no note.
 */
export async function notBuiltNote(file: string): Promise<string | undefined> {
  const note = await fs.promises.readFile(file.replace(/\.node$/, '.not-built.txt'), 'utf8').catch(() => undefined);
  return note?.trim() || undefined;
}

async function withNotBuiltNote<S extends { loaded: boolean; built: boolean; file: string; reason?: string }>(status: S): Promise<S> {
  if (status.loaded || status.built) return status;
  const note = await notBuiltNote(status.file);
  return note === undefined ? status : { ...status, reason: `${status.reason} (CMake's last configure said: ${note})` };
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
  const lookup = options.file === undefined ? optionalModuleLookup(spec.name) : undefined;
  const file = options.file ?? optionalModulePath(spec.name, lookup);
  let status = statusByFile.get(file) as Promise<OptionalModuleStatus<Addon, Info>> | undefined;
  if (status === undefined) {
    status = loadStatus<Addon, Info>(file, spec, lookup).then(withNotBuiltNote);
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
