/**
 * The quantization half of the OpenVINO module (native/openvino/quantize), typed, so the
 * TypeScript side never calls `any`. The module itself is loaded lazily by module.ts.
 */
import { Int8DetectError } from '../../util/errors';
import { loadOpenVinoModule } from './module';

export interface NativeEmitJob {
  /** The float ONNX model: a path or its bytes. */
  model: string | Uint8Array;
  activations: { tensor: string; consumers: string[]; low: number; high: number; levels: number }[];
  weights: { tensor: string; axis: number; low: Float32Array; high: Float32Array; levels: number }[];
  biases: { tensor: string; delta: Float32Array }[];
  xmlPath: string;
  binPath: string;
}

export interface NativeEmitReport {
  activationFakeQuantizes: number;
  weightFakeQuantizes: number;
  biasesShifted: number;
  warnings: string[];
}

export interface NativeStatisticsRunner {
  readonly inputName: string;
  /** The model's outputs, then the exposed tensors. */
  readonly outputNames: string[];
  run(data: Float32Array, dims: readonly number[]): Promise<Record<string, { data: Float32Array; dims: number[] }>>;
  dispose(): void;
}

export interface OpenVinoQuantizeBindings {
  emitFakeQuantizeIr(job: NativeEmitJob): Promise<NativeEmitReport>;
  createStatisticsRunner(options: { model: string | Uint8Array; tensors: readonly string[]; threads?: number }): Promise<NativeStatisticsRunner>;
}

export async function loadOpenVinoQuantizeBindings(): Promise<OpenVinoQuantizeBindings> {
  const module = (await loadOpenVinoModule()).addon as unknown as Partial<OpenVinoQuantizeBindings>;
  if (typeof module.emitFakeQuantizeIr !== 'function' || typeof module.createStatisticsRunner !== 'function') {
    throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', 'The OpenVINO module was built without its quantization bindings (native/openvino/quantize); rebuild it with npm run build:native');
  }
  return module as OpenVinoQuantizeBindings;
}
