/**
 * int8-detect/backends: the backend registry, for a runtime of your own (onnxruntime-node's
 * registerBackend habit): a descriptor with its name, priority, probe, open and capabilities.
 */
import '../runtimes/builtin';

export { registerBackend, registeredBackends, backendDescriptor } from '../runtimes/registry';
export type { BackendDescriptor, BackendCapabilities, BackendProbe, ProbeContext, BackendModelFile, BackendCliFlags, BackendOptionsByName } from '../runtimes/backend';
export type { BackendSession, BackendOpenOptions, RunOptions, RunResult, TensorData } from '../runtimes/session';
