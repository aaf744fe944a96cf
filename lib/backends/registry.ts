/**
 * Backends in priority order. ONNX Runtime is built in; OpenVINO and TensorRT are separate native
 * modules that later load lazily, so a machine without them never fails at require().
 */
import { Int8DetectError } from '../errors';
import type { Backend, BackendName } from './backend';
import { onnxRuntimeBackend } from './onnxruntime';

const builtIn: Partial<Record<BackendName, Backend>> = {
  onnxruntime: onnxRuntimeBackend,
};

/** The implementation of a backend that probe() found available. */
export function backendImplementation(name: BackendName): Backend {
  const backend = builtIn[name];
  if (!backend) {
    throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `The ${name} backend is not part of this build of int8-detect`);
  }
  return backend;
}
