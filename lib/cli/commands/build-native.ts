/** `int8-detect build-native`: build the TensorRT module against the TensorRT installed here. */
import { buildNativeModules } from '../../native-build';
import { parseCommandArgs, parseNumber } from '../args';
import type { Command } from '../main';

export const buildNativeCommand: Command = {
  name: 'build-native',
  summary: 'build the TensorRT module from source against the TensorRT and CUDA installed here',
  help: `Usage: int8-detect build-native [--tensorrt-root DIR] [--cuda-root DIR] [--jobs N]

Builds int8_detect_tensorrt.node from the C++ sources shipped in the package, against your
TensorRT (JetPack on Jetson; NVIDIA's packages elsewhere) and CUDA toolkit, into build/Release
inside the int8-detect package, where int8-detect finds it. Then loads it once in a child process.
Needs CMake 3.19 or later and a C++17 compiler. 'npm rebuild int8-detect --build-from-source'
runs the same. The core addon and OpenVINO come prebuilt and are not rebuilt.

Options:
      --tensorrt-root DIR  TensorRT's folder (include/ and lib/), when not in a system folder
                           (default: TENSORRT_ROOT)
      --cuda-root DIR      the CUDA toolkit's folder (default: CUDAToolkit_ROOT, CUDA_HOME, /usr/local/cuda)
      --jobs N             parallel compile jobs
  -h, --help               show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      { 'tensorrt-root': { type: 'string' }, 'cuda-root': { type: 'string' }, jobs: { type: 'string' } },
      false,
    );
    const result = await buildNativeModules({
      tensorRtRoot: values['tensorrt-root'] as string | undefined,
      cudaRoot: values['cuda-root'] as string | undefined,
      jobs: parseNumber(values.jobs, '--jobs', { integer: true, min: 1 }),
    });
    process.stdout.write(`build-native: built ${result.file} against TensorRT ${result.tensorRt.version ?? '(version unknown)'}; 'int8-detect probe' now lists it\n`);
  },
};
