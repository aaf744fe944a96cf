/**
 * Intel OpenVINO (CPU, GPU, NPU) through int8_detect_openvino.node, a separately built module
 * loaded lazily. open() hands the native module one complete load: the model (ONNX bytes, or the
 * path of an ONNX file or an IR .xml), the device, the performance hint, the pool size, the cache
 * folder and the precision hint. Its quantizer makes a FakeQuantize IR where OpenVINO fuses it.
 */
import { openVinoNativeBuild } from './native-build';
import { promises as fs } from 'node:fs';
import { batchDynamicBytes } from '../../onnx/dynamic-batch';
import { lowerForOpenVino } from './lowering';
import { Int8DetectError } from '../../util/errors';
import type { BackendDescriptor, Precision } from '../backend';
import { describeExecGraph } from './exec-graph';
import { isOpenVinoIrPath, readOpenVinoIr } from './ir-model';
import { loadOpenVinoModule, openVinoModuleStatus } from './module';
import { checkOpenVinoOptions, openVinoCliFlags, resolveOpenVinoOptions, type OpenVinoBackendOptions } from './options';
import { openVinoQuantizer } from './quantizer';
import { OpenVinoSession } from './session';
import { openVinoStatisticsSession } from './statistics-session';

declare module '../backend' {
  interface BackendOptionsByName {
    openvino: OpenVinoBackendOptions;
  }
}

function nativeCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export const openVinoBackend: BackendDescriptor<'openvino'> = {
  name: 'openvino',
  title: 'OpenVINO',
  priority: 20,
  capabilities: { embedded: false, buildsFromFloat: false, measuresPrecision: true },

  /**
   * OpenVINO lists its devices (available_devices with FULL_DEVICE_NAME). The CPU's INT8 features
   * are in the report's `cpu` and repeated here, since they decide whether INT8 pays on its CPU device.
   */
  async probe({ cpu, refresh }) {
    const status = await openVinoModuleStatus({ refresh });
    if (!status.loaded || !status.info) {
      return { available: false, reason: `${status.reason ?? 'the OpenVINO module did not load'}. CPU: ${cpu.int8Summary}`, devices: [] };
    }
    const devices = status.info.devices.map((d) => (d.fullName ? `${d.name} (${d.fullName}${d.name === 'CPU' ? `; ${cpu.int8Summary}` : ''})` : d.name));
    const module = { file: status.file, source: status.source, from: status.from };
    if (devices.length === 0) {
      const why = status.info.devicesError ?? 'OpenVINO lists no devices';
      return { available: false, version: status.version, reason: `OpenVINO ${status.version} loaded, but no device is usable: ${why}`, devices: [], module };
    }
    return { available: true, version: status.version, devices, module };
  },

  nativeBuild: openVinoNativeBuild,

  checkOptions: checkOpenVinoOptions,

  async open(options) {
    const { addon, version } = await loadOpenVinoModule();
    const settings = resolveOpenVinoOptions(options.settings, { device: options.device, concurrency: options.concurrency, cacheDir: options.cacheDir });
    const ir = isOpenVinoIrPath(options.modelPath) && options.modelBytes.length === 0;
    const batch = options.batch ?? 1;
    // An ONNX model gets its dynamic batch by the ONNX rewrite (which also frees Reshapes to a
    // constant batch); an IR by OpenVINO's reshape, which refuses a graph that fixes the batch.
    const modelBytes = ir ? options.modelBytes : lowerForOpenVino(batch > 1 ? batchDynamicBytes(options.modelBytes).bytes : options.modelBytes);
    if (settings.cacheDir !== null) await fs.mkdir(settings.cacheDir, { recursive: true });
    let handle;
    try {
      handle = await addon.loadModel({
        model: ir ? null : modelBytes,
        modelPath: options.modelPath,
        device: settings.device,
        performanceHint: settings.performanceHint,
        requests: options.concurrency,
        threads: options.threads,
        cacheDir: settings.cacheDir,
        inferencePrecision: settings.inferencePrecision,
        perfCounters: settings.perfCounters,
        ...(batch > 1 && ir ? { dynamicBatch: true } : {}),
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
    return new OpenVinoSession(handle, {
      device: devices,
      precision,
      runtimeVersion: version,
      ...(floatType !== undefined ? { inferencePrecision: floatType } : {}),
      precisionDetail: detail,
    });
  },

  readsModelFile: isOpenVinoIrPath,
  async readModelFile(model) {
    const ir = await readOpenVinoIr(model);
    return { path: ir.xmlPath, info: ir.info, quantized: ir.quantized };
  },

  quantizer: openVinoQuantizer,
  statisticsSession: openVinoStatisticsSession,
  cli: openVinoCliFlags,
  fullFloatSettings: { inferencePrecision: 'f32' },
};
