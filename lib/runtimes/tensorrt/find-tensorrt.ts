/**
 * Finds an installed TensorRT (headers and libraries) and CUDA toolkit on disk, in the places
 * CMakeLists.txt searches, without loading anything: `build-native` checks it before compiling, and
 * probe() uses it to tell "TensorRT is here, build the module" from "TensorRT is not installed".
 * TensorRT comes with JetPack and NVIDIA's packages; int8-detect never ships it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TensorRtInstall {
  /** Headers and libraries all found, and the CUDA toolkit. */
  found: boolean;
  /** What was found where. */
  includeDir?: string;
  libraryDir?: string;
  /** From NvInferVersion.h, e.g. '10.3.0'. */
  version?: string;
  cudaRoot?: string;
  /** What is missing, in words, each with where it was looked for. */
  missing: string[];
}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Debian's multiarch folder for this CPU. */
function multiarch(): string {
  return process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
}

function includeDirs(root: string | undefined): string[] {
  return [
    ...(root ? [path.join(root, 'include'), root] : []),
    `/usr/include/${multiarch()}`,
    '/usr/local/tensorrt/include',
    '/usr/include',
  ];
}

function libraryDirs(root: string | undefined): string[] {
  const fromLdPath = (env('LD_LIBRARY_PATH') ?? '').split(path.delimiter).filter((dir) => dir !== '');
  return [
    ...(root ? ['lib', 'lib64', `targets/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux/lib`].map((sub) => path.join(root, sub)) : []),
    ...fromLdPath,
    `/usr/lib/${multiarch()}`,
    '/usr/local/tensorrt/lib',
    '/usr/lib64',
    '/usr/lib',
  ];
}

function firstWith(dirs: readonly string[], test: (dir: string) => boolean): string | undefined {
  return dirs.find((dir) => {
    try {
      return test(dir);
    } catch {
      return false;
    }
  });
}

/** libnvinfer.so, libnvinfer.so.10, nvinfer_10.dll ... */
function hasLibrary(dir: string, name: string): boolean {
  return fs.readdirSync(dir).some((file) => file === `lib${name}.so` || file.startsWith(`lib${name}.so.`) || new RegExp(`^${name}(_\\d+)?\\.(dll|lib)$`).test(file));
}

/**
 * NV_TENSORRT_MAJOR.MINOR.PATCH from NvInferVersion.h; TensorRT 11 defines them through other
 * macros (TRT_MAJOR_ENTERPRISE), so names are resolved until a number is reached.
 */
export function readTensorRtVersion(includeDir: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(includeDir, 'NvInferVersion.h'), 'utf8');
  } catch {
    return undefined;
  }
  const defines = new Map<string, string>();
  for (const match of text.matchAll(/^\s*#define\s+(\w+)\s+(\w+)/gm)) defines.set(match[1], match[2]);
  const resolve = (name: string): string | undefined => {
    let value: string | undefined = name;
    for (let depth = 0; value !== undefined && !/^\d+$/.test(value) && depth < 8; depth += 1) value = defines.get(value);
    return value !== undefined && /^\d+$/.test(value) ? value : undefined;
  };
  const parts = ['NV_TENSORRT_MAJOR', 'NV_TENSORRT_MINOR', 'NV_TENSORRT_PATCH'].map(resolve);
  return parts.every((part) => part !== undefined) ? parts.join('.') : undefined;
}

/** The CUDA toolkit: CUDAToolkit_ROOT, CUDA_PATH, CUDA_HOME, /usr/local/cuda, then /usr (Debian's packages). */
function findCuda(): string | undefined {
  const roots = [env('CUDAToolkit_ROOT'), env('CUDA_PATH'), env('CUDA_HOME'), '/usr/local/cuda', '/usr'].filter((dir): dir is string => dir !== undefined);
  return firstWith(roots, (root) => fs.existsSync(path.join(root, 'include', 'cuda_runtime_api.h')));
}

/** Look for TensorRT under `root` (default: TENSORRT_ROOT) and the system's folders, and for CUDA. */
export function findTensorRt(options: { root?: string } = {}): TensorRtInstall {
  const root = options.root ?? env('TENSORRT_ROOT');
  const includes = includeDirs(root);
  const libraries = libraryDirs(root);
  const missing: string[] = [];

  const includeDir = firstWith(includes, (dir) => fs.existsSync(path.join(dir, 'NvInfer.h')));
  const headers = ['NvInfer.h', 'NvOnnxParser.h'].filter((header) => !firstWith(includes, (dir) => fs.existsSync(path.join(dir, header))));
  if (headers.length > 0) missing.push(`${headers.join(' and ')} (looked in ${includes.join(', ')})`);
  const libraryDir = firstWith(libraries, (dir) => hasLibrary(dir, 'nvinfer'));
  const libs = ['nvinfer', 'nvonnxparser'].filter((name) => !firstWith(libraries, (dir) => hasLibrary(dir, name)));
  if (libs.length > 0) missing.push(`${libs.map((name) => `lib${name}`).join(' and ')} (looked in ${libraries.join(', ')})`);
  const cudaRoot = findCuda();
  if (!cudaRoot) missing.push('the CUDA toolkit (cuda_runtime_api.h; set CUDAToolkit_ROOT or CUDA_HOME)');

  return {
    found: missing.length === 0,
    ...(includeDir ? { includeDir, version: readTensorRtVersion(includeDir) } : {}),
    ...(libraryDir ? { libraryDir } : {}),
    ...(cudaRoot ? { cudaRoot } : {}),
    missing,
  };
}

/**
 * What probe() says when the TensorRT module is missing: the exact command when TensorRT is here
 * (`developmentCheckout`: the checkout's own build), else what is missing.
 */
export function tensorRtBuildAdvice(install: TensorRtInstall, developmentCheckout: boolean): string {
  const command = developmentCheckout ? "'npm run build:native'" : "'npx int8-detect build-native'";
  if (install.found) {
    return `TensorRT ${install.version ?? '(version unknown)'} is installed (${install.includeDir}, ${install.libraryDir}; CUDA in ${install.cudaRoot}): run ${command} to build the module against it`;
  }
  const missing = install.missing.map((line) => line.replace(/ \(looked in .*\)$/, '')).join(', ');
  return `install TensorRT and the CUDA toolkit (not found here: ${missing}), then run ${command}, which builds the module against them`;
}
