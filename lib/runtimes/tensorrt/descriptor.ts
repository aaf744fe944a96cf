/**
 * NVIDIA TensorRT (GPUs, Jetson) through int8_detect_tensorrt.node, built only where TensorRT and
 * CUDA are found and loaded lazily. open() finds or builds the plan (build-plan.ts): TensorRT
 * builds FP16 and INT8 (implicit, from a calibrator or a calibration cache; explicit, from a Q/DQ
 * model) from the ONNX model itself, and loads it with one execution context per concurrent run.
 */
import { Int8DetectError, invalidArgument } from '../../util/errors';
import type { BackendDescriptor } from '../backend';
import { buildTensorRtPlan, type TensorRtBuildOptions } from './build-plan';
import { describeCuda } from './cuda';
import { loadTensorRtModule, tensorRtModuleStatus } from './module';
import { tensorRtSession } from './session';
import { decodeTensorRtVersion, formatTensorRtVersion } from './version';

/** TensorRT's own settings (createEngine's `tensorrt` group), beside the options every backend takes. */
export type TensorRtBackendOptions = Omit<TensorRtBuildOptions, 'precision' | 'device' | 'concurrency' | 'cacheDir'>;

declare module '../backend' {
  interface BackendOptionsByName {
    tensorrt: TensorRtBackendOptions;
  }
}

/** 'cuda:1', '1' or undefined (device 0) -> the CUDA device index. */
export function parseCudaDevice(device: string | undefined): number {
  if (device === undefined || device === '' || device === 'cuda' || device === 'gpu') return 0;
  const match = /^(?:cuda:|gpu:)?(\d+)$/i.exec(device);
  if (!match) throw new Int8DetectError('ERR_ARGUMENT', `Expected a CUDA device such as 'cuda:0' for the tensorrt backend's device but received "${device}"`);
  return Number(match[1]);
}

export const tensorRtBackend: BackendDescriptor<'tensorrt'> = {
  name: 'tensorrt',
  title: 'TensorRT',
  priority: 30,
  capabilities: { embedded: false, buildsFromFloat: true, measuresPrecision: false },

  /**
   * Loaded by explicit path after a test load in a child process (a driver mismatch must not
   * crash this one); its CUDA runtime then says which GPUs it can use.
   */
  async probe({ cuda: cudaProbe, jetson, refresh }) {
    const cuda = describeCuda(cudaProbe, jetson);
    const status = await tensorRtModuleStatus({ refresh });
    if (!status.loaded) return { available: false, reason: `${status.reason}. ${cuda}`, devices: [] };
    const version = formatTensorRtVersion(decodeTensorRtVersion(status.info.libraryVersion));
    const devices = status.info.devices.map((d) => `${d.name} (cuda:${d.index}, compute capability ${d.computeCapability})`);
    if (devices.length === 0) {
      const why = status.info.cudaError ?? 'the CUDA runtime reports no devices';
      return { available: false, version, reason: `TensorRT ${version} loaded, but no GPU is usable: ${why}. ${cuda}`, devices: [] };
    }
    return { available: true, version, devices };
  },

  checkOptions(value) {
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) throw invalidArgument('an object', 'options.tensorrt', value);
  },

  async open(options) {
    const loaded = await loadTensorRtModule();
    const device = parseCudaDevice(options.device);
    const extra = options.settings ?? {};
    const built = await buildTensorRtPlan(
      options.modelPath,
      { ...extra, precision: options.precision, device, concurrency: options.concurrency, cacheDir: options.cacheDir },
      loaded,
      options.modelBytes,
    );
    let handle;
    try {
      handle = await loaded.addon.loadEngine({ plan: built.plan, device, dlaCore: extra.dlaCore ?? -1, contexts: options.concurrency });
    } catch (err) {
      throw new Int8DetectError('ERR_NATIVE', `TensorRT could not load the plan ${built.planPath}: ${(err as Error).message}`, { cause: err });
    }
    const where = extra.dlaCore !== undefined ? `dla:${extra.dlaCore} on cuda:${device}` : `cuda:${device}`;
    return tensorRtSession(handle, `${where} (${built.gpu.name})`, options.precision, built.tensorrtVersion);
  },
};
