/**
 * int8_detect_tensorrt.node, loaded lazily by the one optional-module loader, never at require()
 * of the package. It links libnvinfer and the CUDA runtime, so a mismatched driver or library can
 * abort the process inside dlopen: it is tried in a child process first.
 */
import { optionalModule, type OptionalModuleSpec, type OptionalModuleStatus } from '../../native/optional-module';
import { Int8DetectError } from '../../util/errors';
import type { NativeTensorRtRuntimeInfo, TensorRtAddon } from './native-types';

const SPEC: OptionalModuleSpec = {
  name: 'tensorrt',
  title: 'TensorRT',
  buildHint: "install TensorRT (headers and libraries) and the CUDA toolkit, then run 'npm run build:native', which compiles it only where TensorRT is found",
  crashHint: 'the TensorRT or CUDA libraries do not match this driver',
};

export type TensorRtModuleStatus = OptionalModuleStatus<TensorRtAddon, NativeTensorRtRuntimeInfo>;

/** Tried once per file and process; `refresh` asks the CUDA runtime again. */
export function tensorRtModuleStatus(options: { file?: string; refresh?: boolean } = {}): Promise<TensorRtModuleStatus> {
  return optionalModule<TensorRtAddon, NativeTensorRtRuntimeInfo>(SPEC, options);
}

/** The loaded module, or ERR_BACKEND_UNAVAILABLE with the reason it is not. */
export async function loadTensorRtModule(file?: string): Promise<{ addon: TensorRtAddon; info: NativeTensorRtRuntimeInfo }> {
  const status = await tensorRtModuleStatus(file !== undefined ? { file } : {});
  if (!status.loaded) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `TensorRT cannot run here: ${status.reason}`);
  return { addon: status.addon, info: status.info };
}
