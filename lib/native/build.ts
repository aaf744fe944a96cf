/**
 * Builds native modules from the sources shipped in the package with cmake-js (a dependency), into
 * build/Release, the loaders' local-build place, then loads each once in a child process. Only ever
 * an explicit step (`npx int8-detect build-native`, `npm rebuild int8-detect --build-from-source`),
 * never a surprise at install (node-llama-cpp's habit). What each runtime's module needs on the
 * machine is checked by its own recipe (NativeBuildRecipe) before this runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError } from '../util/errors';
import { packageRoot } from '../util/package';
import { nativeModuleFile } from './binaries';

export interface NativeBuildTarget {
  /** 'core', or a runtime's module name: CMake target int8_detect_<module>. */
  module: string;
  /** CMake definitions (NAME -> value). */
  defines: Record<string, string>;
}

/** cmake-js, a dependency of int8-detect, finds Node's headers and drives CMake. */
function cmakeJsCli(): string {
  try {
    return require.resolve('cmake-js/bin/cmake-js', { paths: [packageRoot] });
  } catch {
    throw new Int8DetectError('ERR_NATIVE', `cmake-js is not installed beside int8-detect in ${packageRoot}: reinstall int8-detect (it is one of its dependencies)`);
  }
}

function requireCMake(): void {
  const result = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Int8DetectError('ERR_NATIVE', 'Cannot build the native modules: CMake 3.19 or later is needed on the PATH, and a C++17 compiler');
  }
}

function run(command: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail: string[] = [];
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        log(line);
        tail = [...tail.slice(-19), line];
      }
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Int8DetectError('ERR_NATIVE', `The native build failed (exit code ${code}):\n${tail.join('\n')}`));
    });
  });
}

/** Load a freshly built module in a child process: a reason when it does not load. */
function loadsInChildProcess(file: string): string | undefined {
  const result = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8', timeout: 60_000 });
  if (result.error) return result.error.message;
  if (result.signal) return `the test process was killed with ${result.signal}`;
  if (result.status !== 0) return result.stderr.trim().split('\n').filter((line) => !line.trim().startsWith('at ')).slice(-3).join(' ');
  return undefined;
}

/** Build each target into build/Release and load it once in a child process; the files built. */
export async function buildNativeTargets(targets: readonly NativeBuildTarget[], options: { jobs?: number; log?: (line: string) => void } = {}): Promise<string[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  requireCMake();
  const cmakeJs = cmakeJsCli();
  const defines = targets.flatMap((target) => Object.entries(target.defines).map(([name, value]) => `--CD${name}=${value}`));
  const files: string[] = [];
  for (const target of targets) {
    // `build`, not `compile`: compile retries with a clean build folder, which would also delete
    // the other modules a development checkout keeps there.
    const args = [cmakeJs, 'build', '--directory', packageRoot, '--out', path.join(packageRoot, 'build'), '--target', `int8_detect_${target.module}`, ...defines];
    if (options.jobs !== undefined) args.push('--parallel', String(options.jobs));
    await run(process.execPath, args, log);
    const file = path.join(packageRoot, 'build', 'Release', nativeModuleFile(target.module));
    if (!fs.existsSync(file)) throw new Int8DetectError('ERR_NATIVE', `The build finished but ${file} is missing: see CMake's messages above`);
    const reason = loadsInChildProcess(file);
    if (reason !== undefined) throw new Int8DetectError('ERR_NATIVE', `Built ${file}, but it does not load: ${reason}`);
    files.push(file);
  }
  return files;
}
