/**
 * Backends in priority order. ONNX Runtime is built in; OpenVINO and TensorRT are separate native
 * modules that load lazily, so a machine without them never fails at require().
 */
import { Int8DetectError } from '../util/errors';
import type { Backend, BackendName } from './backend';
import { onnxRuntimeBackend } from './onnxruntime/session';
import { openVinoBackend } from './openvino/descriptor';
import { openVinoModuleStatus } from './openvino/module-loader';
import { tensorRtBackend } from './tensorrt/descriptor';
import { tensorRtModuleStatus } from './tensorrt/module-loader';

const builtIn: Partial<Record<BackendName, Backend>> = {
  onnxruntime: onnxRuntimeBackend,
};

/** The implementation of a backend that probe() found available. */
export function backendImplementation(name: BackendName): Backend {
  // TensorRT is registered only once its separately built module has loaded (tested in a child process first).
  if (name === 'tensorrt') {
    const status = tensorRtModuleStatus();
    if (!status.loaded) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `The tensorrt backend cannot run here: ${status.reason}`);
    return tensorRtBackend;
  }
  // OpenVINO likewise: its module is built only where OpenVINO was found, and loaded on first use.
  if (name === 'openvino') {
    const status = openVinoModuleStatus();
    if (!status.loaded) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `The openvino backend cannot run here: ${status.reason}`);
    return openVinoBackend;
  }
  const backend = builtIn[name];
  if (!backend) {
    throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `The ${name} backend is not part of this build of int8-detect`);
  }
  return backend;
}
