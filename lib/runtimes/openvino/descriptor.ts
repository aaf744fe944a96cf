/**
 * The OpenVINO backend. Importing this file loads nothing native: int8_detect_openvino.node is
 * loaded (after a child-process test) by open(), by explicit path. open() hands the native module
 * one complete load: the model (ONNX bytes, or the path of an ONNX file or an IR .xml), the device,
 * the performance hint, the pool size, the cache folder and the precision hint.
 */
import { promises as fs } from 'node:fs';
import { Int8DetectError } from '../../util/errors';
import { isOpenVinoIrPath } from './ir-model';
import { loadOpenVinoModule, openVinoModuleStatus } from './module-loader';
import type { NativeOpenVinoExecNode } from './native-types';
import { resolveOpenVinoOptions, type OpenVinoBackendOptions } from './options';
import type { Backend, BackendOpenOptions, BackendSession, Precision } from '../backend';
import { OpenVinoSession } from './session';

export type { OpenVinoBackendOptions };

export interface OpenVinoOpenOptions extends BackendOpenOptions {
  openvino?: OpenVinoBackendOptions;
}

/** Layers whose multiply-accumulates are the model's cost: the ones worth running in INT8. */
const COMPUTE_LAYERS = new Set(['Convolution', 'GroupConvolution', 'Deconvolution', 'FullyConnected', 'MatMul']);

/** "38 of 64 convolution/matmul layers run in INT8 kernels", from the compiled graph. */
export function describeExecGraph(nodes: readonly NativeOpenVinoExecNode[]): { computeLayers: number; int8Layers: number; text: string } {
  const compute = nodes.filter((node) => COMPUTE_LAYERS.has(node.layerType));
  const int8 = compute.filter((node) => /^(I8|U8)$/i.test(node.runtimePrecision) || /_I8$|_U8$/i.test(node.primitiveType));
  return {
    computeLayers: compute.length,
    int8Layers: int8.length,
    text: `${int8.length} of ${compute.length} convolution/matmul layers run in INT8 kernels`,
  };
}

function nativeCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export const openVinoBackend: Backend = {
  name: 'openvino',
  async open(options: OpenVinoOpenOptions): Promise<BackendSession> {
    const addon = loadOpenVinoModule();
    const version = openVinoModuleStatus().version ?? 'unknown';
    const settings = resolveOpenVinoOptions(options.openvino, { device: options.device, concurrency: options.concurrency, cacheDir: options.cacheDir });
    const ir = isOpenVinoIrPath(options.modelPath) && options.modelBytes.length === 0;
    if (settings.cacheDir !== null) await fs.mkdir(settings.cacheDir, { recursive: true });
    let handle;
    try {
      handle = await addon.loadModel({
        model: ir ? null : options.modelBytes,
        modelPath: options.modelPath,
        device: settings.device,
        performanceHint: settings.performanceHint,
        requests: options.concurrency,
        threads: options.threads,
        cacheDir: settings.cacheDir,
        inferencePrecision: settings.inferencePrecision,
        perfCounters: settings.perfCounters,
      });
    } catch (err) {
      const code = nativeCode(err);
      const known = code === 'ERR_MODEL' || code === 'ERR_ARGUMENT' || code === 'ERR_ENGINE_BUILD' ? code : 'ERR_NATIVE';
      throw new Int8DetectError(known, (err as Error).message, { cause: err });
    }
    const graph = describeExecGraph(handle.execGraph());
    const int8 = handle.fakeQuantizeNodes > 0 || graph.int8Layers > 0;
    const precision: Precision = int8 ? 'int8' : options.precision;
    const floatType = handle.inferencePrecision || undefined;
    const devices = handle.executionDevices.join(', ');
    const detail =
      `OpenVINO ${version} on ${devices} (${settings.performanceHint} hint, ${handle.slots} infer request${handle.slots === 1 ? '' : 's'}, ` +
      `${handle.optimalRequests} optimal): ${handle.fakeQuantizeNodes} FakeQuantize nodes; ${graph.text}; float layers compute in ` +
      `${floatType ?? 'the device default'}${settings.inferencePrecision ? ' (forced)' : ' (the device default)'}`;
    return new OpenVinoSession(handle, devices, precision, version, floatType, detail);
  },
};
