/**
 * The runtimes this package ships, one registration line each. A new runtime is a folder under
 * lib/runtimes/ exporting a descriptor, plus one line here. (The side-effect imports keep each
 * runtime's declaration merging of BackendOptionsByName in the published .d.ts files.)
 */
import './onnxruntime/descriptor';
import './openvino/descriptor';
import './tensorrt/descriptor';
import './triton/descriptor';
import { onnxRuntimeBackend } from './onnxruntime/descriptor';
import { openVinoBackend } from './openvino/descriptor';
import { registerBackend } from './registry';
import { tensorRtBackend } from './tensorrt/descriptor';
import { tritonBackend } from './triton/descriptor';

registerBackend(tensorRtBackend);
registerBackend(openVinoBackend);
registerBackend(onnxRuntimeBackend);
registerBackend(tritonBackend);
