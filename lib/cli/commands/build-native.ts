/** `int8-detect build-native`: build native modules from source, by default TensorRT's. */
import type { NativeModuleName } from '../../native/binaries';
import { buildNativeModules } from '../../native/build';
import { parseCommandArgs, parseNumber, UsageError } from '../args';
import type { Command } from '../main';

const MODULES: readonly NativeModuleName[] = ['tensorrt', 'core', 'openvino'];

export const buildNativeCommand: Command = {
  name: 'build-native',
  summary: 'build the TensorRT module (or, where no platform package exists, the others) from source',
  help: `Usage: int8-detect build-native [--module tensorrt|core|openvino ...] [options]

Builds native modules from the C++ sources shipped in the package into build/Release inside the
int8-detect package, where int8-detect finds them, then loads each once in a child process.
Needs CMake 3.19 or later and a C++17 compiler. 'npm rebuild int8-detect --build-from-source'
builds the TensorRT module the same way.

By default: the TensorRT module, against your TensorRT (JetPack on Jetson; NVIDIA's packages
elsewhere) and CUDA toolkit. The core addon and OpenVINO come prebuilt in the platform package;
build them only on a platform that has none (--module core, --module openvino).

Options:
      --module M           tensorrt (default), core or openvino; repeatable
      --tensorrt-root DIR  TensorRT's folder (include/ and lib/), when not in a system folder
                           (default: TENSORRT_ROOT)
      --cuda-root DIR      the CUDA toolkit's folder (default: CUDAToolkit_ROOT, CUDA_HOME, /usr/local/cuda)
      --openvino-dir DIR   OpenVINO's CMake folder, for --module openvino (default: OpenVINO_DIR)
      --jobs N             parallel compile jobs
  -h, --help               show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      {
        module: { type: 'string', multiple: true },
        'tensorrt-root': { type: 'string' },
        'cuda-root': { type: 'string' },
        'openvino-dir': { type: 'string' },
        jobs: { type: 'string' },
      },
      false,
    );
    const requested = (values.module as unknown as string[] | undefined) ?? ['tensorrt'];
    for (const name of requested) {
      if (!MODULES.includes(name as NativeModuleName)) throw new UsageError(`--module expects ${MODULES.join(', ')}, got ${name}`);
    }
    const result = await buildNativeModules({
      modules: [...new Set(requested)] as NativeModuleName[],
      tensorRtRoot: values['tensorrt-root'] as string | undefined,
      cudaRoot: values['cuda-root'] as string | undefined,
      openVinoDir: values['openvino-dir'] as string | undefined,
      jobs: parseNumber(values.jobs, '--jobs', { integer: true, min: 1 }),
    });
    for (const file of result.files) process.stdout.write(`build-native: built ${file}\n`);
    process.stdout.write("build-native: 'int8-detect probe' shows which module each backend loads\n");
  },
};
