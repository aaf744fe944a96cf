/**
 * Builds the TensorRT module from the sources shipped in the package, against the user's own
 * TensorRT and CUDA: an explicit step (`npx int8-detect build-native`, or
 * `npm rebuild int8-detect --build-from-source`), never a surprise at install (node-llama-cpp's
 * habit). TensorRT is checked first, so a machine without it gets one message naming what is
 * missing and where it was looked for, before any compiler runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError } from './errors';
import { nativeModuleFile } from './native-binaries';
import { packageRoot } from './native';
import { findTensorRt, type TensorRtInstall } from './tensorrt/find-tensorrt';
import { testModuleInChildProcess } from './tensorrt/module-loader';

export interface BuildNativeOptions {
  /** TensorRT's folder (include/, lib/), when it is not in a system folder: default TENSORRT_ROOT. */
  tensorRtRoot?: string;
  /** The CUDA toolkit's folder: default CUDAToolkit_ROOT, CUDA_HOME, /usr/local/cuda. */
  cudaRoot?: string;
  /** Parallel compile jobs; default: CMake's. */
  jobs?: number;
  /** Where the build's output goes line by line (default: this process's stderr). */
  log?: (line: string) => void;
}

export interface BuildNativeResult {
  file: string;
  tensorRt: TensorRtInstall;
}

function notFound(install: TensorRtInstall): Int8DetectError {
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
    throw new Int8DetectError('ERR_NATIVE', 'Cannot build the TensorRT module: CMake 3.19 or later is needed on the PATH (and a C++17 compiler)');
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
      else reject(new Int8DetectError('ERR_NATIVE', `Building the TensorRT module failed (exit code ${code}):\n${tail.join('\n')}`));
    });
  });
}

/** Build int8_detect_tensorrt.node into build/Release, then load it in a child process. */
export async function buildNativeModules(options: BuildNativeOptions = {}): Promise<BuildNativeResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.cudaRoot !== undefined) process.env.CUDAToolkit_ROOT = options.cudaRoot;
  const tensorRt = findTensorRt({ root: options.tensorRtRoot });
  if (!tensorRt.found) throw notFound(tensorRt);
  requireCMake();
  log(`build-native: TensorRT ${tensorRt.version ?? '(version unknown)'} (${tensorRt.includeDir}, ${tensorRt.libraryDir}), CUDA in ${tensorRt.cudaRoot}`);

  // `build`, not `compile`: compile retries with a clean build folder, which would also delete
  // the other modules a development checkout keeps there.
  const args = [cmakeJsCli(), 'build', '--directory', packageRoot, '--out', path.join(packageRoot, 'build'), '--target', 'int8_detect_tensorrt'];
  const root = options.tensorRtRoot ?? process.env.TENSORRT_ROOT;
  if (root) args.push(`--CDTENSORRT_ROOT=${root}`);
  if (tensorRt.cudaRoot) args.push(`--CDCUDAToolkit_ROOT=${tensorRt.cudaRoot}`);
  if (options.jobs !== undefined) args.push('--parallel', String(options.jobs));
  await run(process.execPath, args, log);

  const file = path.join(packageRoot, 'build', 'Release', nativeModuleFile('tensorrt'));
  if (!fs.existsSync(file)) throw new Int8DetectError('ERR_NATIVE', `The build finished but ${file} is missing: see CMake's messages above`);
  const reason = testModuleInChildProcess(file);
  if (reason !== undefined) throw new Int8DetectError('ERR_NATIVE', `Built ${file}, but it does not load: ${reason}`);
  return { file, tensorRt };
}
