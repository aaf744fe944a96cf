/**
 * What int8_detect_openvino.node exports for inference, as types (node-llama-cpp's AddonTypes habit):
 * the TypeScript side never calls `any`. The quantization functions (native/openvino/quantize/) are
 * typed by lib/openvino/quantize*.ts; the index signature lets them sit beside these.
 */

export interface NativeOpenVinoDevice {
  /** 'CPU', 'GPU.0', 'NPU' */
  name: string;
  /** FULL_DEVICE_NAME, e.g. 'Intel(R) Core(TM) Ultra 7 155H' */
  fullName: string;
  /** OPTIMIZATION_CAPABILITIES: 'FP32', 'INT8', 'BF16', ... */
  capabilities: string[];
}

export interface NativeOpenVinoRuntimeInfo {
  /** ov::get_openvino_version().buildNumber: '2026.4.1-22982-...' */
  buildNumber: string;
  description: string;
  devices: NativeOpenVinoDevice[];
  /** Why the devices could not be listed, when they could not. */
  devicesError?: string;
}

export interface NativeOpenVinoPort {
  name: string;
  type: string;
  /** -1 for a dynamic dimension. */
  dims: number[];
}

/** One complete load: TypeScript fills every field, C++ only executes it. */
export interface NativeOpenVinoLoadOptions {
  /** ONNX bytes; null to read modelPath (ONNX, or IR .xml with its .bin beside it). */
  model: Uint8Array | null;
  modelPath: string;
  device: string;
  performanceHint: 'LATENCY' | 'THROUGHPUT';
  /** Infer requests in the pool (the slots). */
  requests: number;
  /** CPU threads; 0 lets OpenVINO choose. */
  threads: number;
  /** OpenVINO's CACHE_DIR; null for none. */
  cacheDir: string | null;
  /** INFERENCE_PRECISION_HINT; null keeps the device's default (bf16 on a BF16 CPU). */
  inferencePrecision: 'f32' | 'bf16' | 'f16' | null;
  perfCounters: boolean;
  /** Inputs whose first dimension is 1 get a dynamic one (OpenVINO's reshape): an IR run with batch > 1. */
  dynamicBatch?: boolean;
}

export interface NativeOpenVinoOutput {
  name: string;
  type: string;
  dims: number[];
  data: ArrayBuffer;
}

export interface NativeOpenVinoLayerCounter {
  name: string;
  /** The layer's type in the compiled graph: Convolution, Eltwise, Subgraph, ... */
  nodeType: string;
  /** The kernel: brgconv_avx512_I8, jit_avx2_FP32, ref_any, ... */
  execType: string;
  status: 'EXECUTED' | 'NOT_RUN' | 'OPTIMIZED_OUT';
  /** Summed over `runs` runs. */
  realTimeUs: number;
  cpuTimeUs: number;
  runs: number;
}

export interface NativeOpenVinoPerfCounters {
  enabled: boolean;
  runs: number;
  layers: NativeOpenVinoLayerCounter[];
}

export interface NativeOpenVinoExecNode {
  name: string;
  layerType: string;
  primitiveType: string;
  /** I8, U8, FP32, BF16, ... */
  runtimePrecision: string;
}

export interface NativeOpenVinoModelHandle {
  inputs: NativeOpenVinoPort[];
  outputs: NativeOpenVinoPort[];
  slots: number;
  device: string;
  /** The devices it really runs on (AUTO names its choice). */
  executionDevices: string[];
  /** ov::hint::inference_precision of the compiled model ('f32', 'bf16', 'f16'); '' when the device does not say. */
  inferencePrecision: string;
  performanceHint: string;
  optimalRequests: number;
  /** FakeQuantize nodes in the model as read (an INT8 IR, or a Q/DQ ONNX model). */
  fakeQuantizeNodes: number;
  run(slot: number, inputs: { name: string; dims: readonly number[]; data: ArrayBufferView }[]): Promise<NativeOpenVinoOutput[]>;
  /** Counters summed since the last reset (PERF_COUNT must have been enabled at load). */
  perfCounters(reset?: boolean): NativeOpenVinoPerfCounters;
  execGraph(): NativeOpenVinoExecNode[];
  dispose(): void;
}

export interface NativeOpenVinoConvertOptions {
  model: Uint8Array | null;
  modelPath: string;
  xmlPath: string;
  compressToFp16: boolean;
}

export interface OpenVinoAddon {
  runtimeInfo(): NativeOpenVinoRuntimeInfo;
  loadModel(options: NativeOpenVinoLoadOptions): Promise<NativeOpenVinoModelHandle>;
  convertToIr(options: NativeOpenVinoConvertOptions): Promise<void>;
  napiVersion: number;
  /** The quantization functions, typed where they are used. */
  [name: string]: unknown;
}
