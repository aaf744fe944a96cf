/**
 * `int8-detect build-native` for TensorRT: the module is always built on the machine that runs it,
 * against its own TensorRT and CUDA (JetPack, NVIDIA's packages), which int8-detect never ships.
 */
import { Int8DetectError } from '../../util/errors';
import type { NativeBuildRecipe } from '../backend';
import { findTensorRt } from './find-tensorrt';

export const tensorRtNativeBuild: NativeBuildRecipe = {
  module: 'tensorrt',
  byDefault: true,
  flags: {
    'tensorrt-root': "TensorRT's folder (include/ and lib/), when not in a system folder (default: TENSORRT_ROOT)",
    'cuda-root': "the CUDA toolkit's folder (default: CUDAToolkit_ROOT, CUDA_HOME, CUDA_PATH, /usr/local/cuda)",
  },
  prepare(flags) {
    if (flags['cuda-root'] !== undefined) process.env.CUDAToolkit_ROOT = flags['cuda-root'];
    const root = flags['tensorrt-root'] ?? process.env.TENSORRT_ROOT;
    const install = findTensorRt({ root });
    if (!install.found) {
      const headers = install.version ? `TensorRT ${install.version} headers` : 'TensorRT headers';
      const partly = install.includeDir ? ` (${headers} are in ${install.includeDir}, but not all of it is here)` : '';
      throw new Int8DetectError(
        'ERR_BACKEND_UNAVAILABLE',
        `Cannot build the TensorRT module: TensorRT is not installed here${partly}. Not found: ${install.missing.join('; ')}. ` +
          "Install TensorRT and the CUDA toolkit (on Jetson they come with JetPack; elsewhere NVIDIA's packages: " +
          'libnvinfer-dev, libnvonnxparsers-dev and cuda-toolkit), set TENSORRT_ROOT if TensorRT is not in a system folder, then run this again.',
      );
    }
    return {
      defines: { ...(root ? { TENSORRT_ROOT: root } : {}), ...(install.cudaRoot ? { CUDAToolkit_ROOT: install.cudaRoot } : {}) },
      summary: `TensorRT ${install.version ?? '(version unknown)'} (${install.includeDir}, ${install.libraryDir}), CUDA in ${install.cudaRoot}`,
    };
  },
};
