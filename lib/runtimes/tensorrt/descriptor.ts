/**
 * The TensorRT backend. Importing this file loads nothing native: the module
 * build/Release/int8_detect_tensorrt.node is loaded (after a child-process test) by open(), by
 * explicit path. open() finds or builds the plan (lib/tensorrt/build-plan.ts) and loads it with
 * one execution context per concurrent run.
 */
import { Int8DetectError } from '../../util/errors';
import { buildTensorRtPlan, type TensorRtBuildOptions } from './build-plan';
import { loadTensorRtModule } from './module-loader';
import type { Backend, BackendOpenOptions, BackendSession } from '../backend';
import { TensorRtSession } from './session';

/** TensorRT's own settings, beside the options every backend takes. */
export type TensorRtBackendOptions = Omit<TensorRtBuildOptions, 'precision' | 'device' | 'concurrency' | 'cacheDir'>;

export interface TensorRtOpenOptions extends BackendOpenOptions {
  tensorrt?: TensorRtBackendOptions;
}

/** 'cuda:1', '1' or undefined (device 0) -> the CUDA device index. */
export function parseCudaDevice(device: string | undefined): number {
  if (device === undefined || device === '' || device === 'cuda' || device === 'gpu') return 0;
  const match = /^(?:cuda:|gpu:)?(\d+)$/i.exec(device);
  if (!match) throw new Int8DetectError('ERR_ARGUMENT', `Expected a CUDA device such as 'cuda:0' for the tensorrt backend's device but received "${device}"`);
  return Number(match[1]);
}

export const tensorRtBackend: Backend = {
  name: 'tensorrt',
  async open(options: TensorRtOpenOptions): Promise<BackendSession> {
    const loaded = loadTensorRtModule();
    const device = parseCudaDevice(options.device);
    const extra = options.tensorrt ?? {};
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
    return new TensorRtSession(handle, `${where} (${built.gpu.name})`, options.precision, built.tensorrtVersion);
  },
};
