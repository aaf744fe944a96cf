/**
 * Everything int8_detect_tensorrt.node exports, as types (node-llama-cpp's AddonTypes habit): the
 * TypeScript side never calls `any`. The module is built only where TensorRT and CUDA are found.
 */

export interface NativeTensorRtDevice {
  index: number;
  name: string;
  computeCapability: string;
  totalMemoryBytes: number;
  /** Jetson-style integrated GPU sharing memory with the CPU. */
  integrated: boolean;
}

export interface NativeTensorRtRuntimeInfo {
  /** getInferLibVersion() of the loaded library: 8601 for 8.6.1, 100300 for 10.3.0. */
  libraryVersion: number;
  /** NV_TENSORRT_MAJOR/MINOR/PATCH of the headers the module was compiled with. */
  compiled: { major: number; minor: number; patch: number };
  capabilities: {
    /** IInt8EntropyCalibrator2 / IInt8MinMaxCalibrator and calibration caches (TensorRT <= 10). */
    implicitInt8: boolean;
    /** BuilderFlag kFP16 / kINT8 (TensorRT <= 10). */
    precisionFlags: boolean;
    /** IProgressMonitor: build phases and cancellation (TensorRT >= 10). */
    progressMonitor: boolean;
    /** Every network strongly typed (TensorRT 11). */
    alwaysStronglyTyped: boolean;
  };
  /** cudaRuntimeGetVersion / cudaDriverGetVersion, e.g. 12040. */
  cudaRuntimeVersion: number;
  cudaDriverVersion: number;
  devices: NativeTensorRtDevice[];
  /** Why the CUDA runtime could not list devices, when it could not. */
  cudaError?: string;
}

export interface NativeInputShape {
  name: string;
  min: number[];
  opt: number[];
  max: number[];
}

export interface NativeBuildProgress {
  kind: 'start' | 'step' | 'finish';
  phase: string;
  parent: string;
  step: number;
  steps: number;
}

/** One complete build: TypeScript fills every field, C++ only executes it. */
export interface NativeBuildOptions {
  model: Uint8Array;
  modelPath: string;
  precision: 'fp32' | 'fp16' | 'int8';
  int8Mode: 'none' | 'implicit' | 'explicit';
  calibrator: 'entropy2' | 'minmax';
  calibrationCache: Uint8Array | null;
  /** Next calibration batch (exactly calibrationElements values) or null at the end. */
  pull: (() => Promise<Float32Array | null>) | null;
  calibrationElements: number;
  batchTimeoutMs: number;
  inputShapes: NativeInputShape[];
  profiles: number;
  workspaceBytes: number;
  timingCache: Uint8Array | null;
  dlaCore: number;
  gpuFallback: boolean;
  device: number;
  onProgress: ((progress: NativeBuildProgress) => void) | null;
}

export interface NativeBuildResult {
  plan: Buffer;
  timingCache: Buffer | null;
  calibrationCache: Buffer | null;
  calibrationBatches: number;
  /** TensorRT's warnings and errors during the build. */
  log: string[];
}

export interface NativeBuildHandle {
  promise: Promise<NativeBuildResult>;
  /** Stops the build (and a calibration waiting for a batch) with this reason. */
  abort(reason?: string): void;
}

export interface NativeEngineTensor {
  name: string;
  input: boolean;
  type: string;
  /** -1 for dynamic dimensions. */
  dims: number[];
  /** Optimization profile 0's range, for dynamic inputs. */
  min?: number[];
  opt?: number[];
  max?: number[];
}

export interface NativeRunInput {
  name: string;
  dims: readonly number[];
  data: ArrayBufferView;
}

export interface NativeRunOutput {
  name: string;
  type: string;
  dims: number[];
  data: ArrayBuffer;
}

export interface NativeEngineHandle {
  tensors: NativeEngineTensor[];
  /** Execution contexts, each with its own CUDA stream; one run per slot at a time. */
  slots: number;
  run(slot: number, inputs: NativeRunInput[]): Promise<NativeRunOutput[]>;
  /** Drops the engine; runs in flight finish first. */
  dispose(): void;
}

export interface TensorRtAddon {
  runtimeInfo(): NativeTensorRtRuntimeInfo;
  buildPlan(options: NativeBuildOptions): NativeBuildHandle;
  loadEngine(options: { plan: Uint8Array; device: number; dlaCore: number; contexts: number }): Promise<NativeEngineHandle>;
  napiVersion: number;
}
