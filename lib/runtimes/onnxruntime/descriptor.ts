/**
 * ONNX Runtime on the CPU, through the onnxruntime-node package: the embedded default, which ships
 * inside the package and runs everywhere. It runs a model as it is: a Q/DQ model in INT8 (its
 * quantizer makes one from a float model), a float model in FP32.
 */
import type { BackendDescriptor } from '../backend';
import { checkOnnxRuntimeOptions, checkProfileFolder, type OnnxRuntimeBackendOptions } from './options';
import { qdqQuantizer } from './quantizer';
import { openOnnxRuntimeSession } from './session';
import { onnxRuntimeStatisticsSession } from './statistics-session';
import { onnxRuntimeVersion } from './version';

declare module '../backend' {
  interface BackendOptionsByName {
    onnxruntime: OnnxRuntimeBackendOptions;
  }
}

export const onnxRuntimeBackend: BackendDescriptor<'onnxruntime'> = {
  name: 'onnxruntime',
  title: 'ONNX Runtime',
  priority: 10,
  capabilities: { embedded: true, buildsFromFloat: false, measuresPrecision: false },
  async probe() {
    try {
      return { available: true, version: onnxRuntimeVersion(), devices: ['cpu'] };
    } catch (err) {
      return { available: false, reason: `onnxruntime-node could not be loaded: ${err instanceof Error ? err.message : String(err)}`, devices: [] };
    }
  },
  checkOptions: checkOnnxRuntimeOptions,
  async open(options) {
    const prefix = options.settings?.profileFilePrefix;
    if (prefix !== undefined) await checkProfileFolder(prefix);
    return openOnnxRuntimeSession({ ...options, ...(prefix !== undefined ? { profileFilePrefix: prefix } : {}) });
  },
  quantizer: qdqQuantizer,
  statisticsSession: onnxRuntimeStatisticsSession,
};
