/**
 * Builds native modules from the sources shipped in the package: an explicit step
 * (`npx int8-detect build-native`, or `npm rebuild int8-detect --build-from-source`), never a
 * surprise at install (node-llama-cpp's habit). By default it builds the TensorRT module against
 * the user's own TensorRT and CUDA, which int8-detect never ships; `core` and `openvino` are for
 * platforms without a platform package. Each prerequisite is checked first, so a machine without
 * TensorRT gets one message naming what is missing and where it was looked for, before any
 * compiler runs. The modules land in build/Release, the loaders' local-build place.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError } from '../util/errors';
import { nativeModuleFile, type NativeModuleName } from './binaries';
import { packageRoot } from './core';
import { findTensorRt, type TensorRtInstall } from '../runtimes/tensorrt/find-tensorrt';

export interface BuildNativeOptions {
  /** What to build: default ['tensorrt']. */
  modules?: readonly NativeModuleName[];
  /** TensorRT's folder (include/, lib/), when it is not in a system folder: default TENSORRT_ROOT. */
  tensorRtRoot?: string;
  /** The CUDA toolkit's folder: default CUDAToolkit_ROOT, CUDA_HOME, /usr/local/cuda. */
  cudaRoot?: string;
  /** OpenVINO's CMake config folder, for `openvino`: default OpenVINO_DIR. */
  openVinoDir?: string;
  /** Parallel compile jobs; default: CMake's. */
  jobs?: number;
  /** Where the build's output goes line by line (default: this process's stderr). */
  log?: (line: string) => void;
}

export interface BuildNativeResult {
  /** The modules built, each loaded once in a child process. */
  files: string[];
  /** What was found of TensorRT, when the TensorRT module was built. */
  tensorRt?: TensorRtInstall;
}

function tensorRtNotFound(install: TensorRtInstall): Int8DetectError {
  const headers = install.version ? `TensorRT ${install.version} headers` : 'TensorRT headers';
  const partly = install.includeDir ? ` (${headers} are in ${install.includeDir}, but not all of it is here)` : '';
  return new Int8DetectError(
    'ERR_BACKEND_UNAVAILABLE',
    `Cannot build the TensorRT module: TensorRT is not installed here${partly}. Not found: ${install.missing.join('; ')}. ` +
      "Install TensorRT and the CUDA toolkit (on Jetson they come with JetPack; elsewhere NVIDIA's packages: " +
      'libnvinfer-dev, libnvonnxparsers-dev and cuda-toolkit), set TENSORRT_ROOT if TensorRT is not in a system folder, then run this again.',
  );
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

/** Build the modules into build/Release, then load each in a child process. */
export async function buildNativeModules(options: BuildNativeOptions = {}): Promise<BuildNativeResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const modules = options.modules ?? ['tensorrt'];
  const defines: string[] = [];
  let tensorRt: TensorRtInstall | undefined;
  if (modules.includes('tensorrt')) {
    if (options.cudaRoot !== undefined) process.env.CUDAToolkit_ROOT = options.cudaRoot;
    tensorRt = findTensorRt({ root: options.tensorRtRoot });
    if (!tensorRt.found) throw tensorRtNotFound(tensorRt);
    const root = options.tensorRtRoot ?? process.env.TENSORRT_ROOT;
    if (root) defines.push(`--CDTENSORRT_ROOT=${root}`);
    if (tensorRt.cudaRoot) defines.push(`--CDCUDAToolkit_ROOT=${tensorRt.cudaRoot}`);
    log(`build-native: TensorRT ${tensorRt.version ?? '(version unknown)'} (${tensorRt.includeDir}, ${tensorRt.libraryDir}), CUDA in ${tensorRt.cudaRoot}`);
  }
  if (modules.includes('openvino')) {
    const dir = options.openVinoDir ?? process.env.OpenVINO_DIR;
    if (!dir || !fs.existsSync(path.join(dir, 'OpenVINOConfig.cmake'))) {
      throw new Int8DetectError(
        'ERR_BACKEND_UNAVAILABLE',
        `Cannot build the OpenVINO module: no OpenVINOConfig.cmake in ${dir ?? '(OpenVINO_DIR is not set)'}. ` +
          "Point --openvino-dir (or OpenVINO_DIR) at OpenVINO's CMake folder: a toolkit's runtime/cmake, or the openvino wheel's (python -c \"import openvino; print(openvino.get_cmake_path())\")",
      );
    }
    defines.push(`--CDOpenVINO_DIR=${dir}`);
  }
  requireCMake();
  const cmakeJs = cmakeJsCli();

  const files: string[] = [];
  for (const module of modules) {
    // `build`, not `compile`: compile retries with a clean build folder, which would also delete
    // the other modules a development checkout keeps there.
    const args = [cmakeJs, 'build', '--directory', packageRoot, '--out', path.join(packageRoot, 'build'), '--target', `int8_detect_${module}`, ...defines];
    if (options.jobs !== undefined) args.push('--parallel', String(options.jobs));
    await run(process.execPath, args, log);
    const file = path.join(packageRoot, 'build', 'Release', nativeModuleFile(module));
    if (!fs.existsSync(file)) throw new Int8DetectError('ERR_NATIVE', `The build finished but ${file} is missing: see CMake's messages above`);
    const reason = loadsInChildProcess(file);
    if (reason !== undefined) throw new Int8DetectError('ERR_NATIVE', `Built ${file}, but it does not load: ${reason}`);
    files.push(file);
  }
  return { files, ...(tensorRt ? { tensorRt } : {}) };
}
