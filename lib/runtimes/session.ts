/**
 * What a runtime session is: the tensors it takes and returns, and the session every runtime opens.
 * Types only, importing nothing, so every layer (the detector, the quantizer's statistics) can
 * speak of sessions without depending on a runtime.
 */

/** Precision the engine computes in; 'auto' lets the engine measure and choose. */
export type Precision = 'fp32' | 'fp16' | 'int8';

export type TensorElementType = 'float32' | 'float16' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool' | string;

/** A model input or output as the runtime reports it; symbolic dimensions stay strings. */
export interface TensorInfo {
  name: string;
  type: TensorElementType;
  dims: readonly (number | string)[];
}

/** Tensor data handed to a backend. */
export interface InputTensor {
  data: Float32Array | Uint8Array;
  dims: readonly number[];
}

export type TensorData =
  | Float32Array
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float64Array;

/** A tensor of any element type, as a runtime returns it. */
export interface RawTensor {
  name: string;
  type: TensorElementType;
  dims: readonly number[];
  data: TensorData;
}

export interface RunOptions {
  /**
   * Let the backend move the input buffers to its worker instead of copying them (the engine's own
   * pooled buffers); never set for buffers that belong to the caller.
   */
  transferInputs?: boolean;
}

/**
 * What one run returns: the outputs, and the input buffers handed back. A backend may move the
 * input memory to another thread during the run (zero-copy transfer); callers keep using the
 * returned buffers, which hold the same bytes, and must not touch the ones they passed in.
 */
export interface RunResult {
  outputs: Record<string, RawTensor>;
  inputs: Record<string, InputTensor>;
}

export interface BackendOpenOptions {
  /** Path of the model file, for messages and caches. */
  modelPath: string;
  /** The model's bytes, already read and checked to be an ONNX model; empty for a file the backend reads itself (readModelFile). */
  modelBytes: Uint8Array;
  /** Backend-specific device name ('cpu', 'GPU.0', 'cuda:0'); the backend's default when absent. */
  device?: string;
  precision: Precision;
  /** How many runs may be in flight at once (worker threads, infer requests, execution contexts). */
  concurrency: number;
  /** Threads one run may use; 0 lets the backend choose. */
  threads: number;
  /** Where the backend may keep compiled engines and caches. */
  cacheDir: string;
}

/** One layer's profiling counters, summed over runs (OpenVINO's PERF_COUNT). */
export interface LayerPerfCounter {
  name: string;
  /** The layer's type in the compiled graph (Convolution, Eltwise, Subgraph, ...). */
  nodeType: string;
  /** The kernel that ran it, which names its precision (brgconv_avx512_I8, jit_avx2_FP32, ...). */
  execType: string;
  status: 'EXECUTED' | 'NOT_RUN' | 'OPTIMIZED_OUT';
  realTimeUs: number;
  runs: number;
}

export interface PerfCounterReport {
  /** Runs the counters are summed over. */
  runs: number;
  layers: LayerPerfCounter[];
}

/** An opened model on one backend: runs it, possibly several runs at a time. */
export interface BackendSession {
  readonly backend: string;
  readonly device: string;
  readonly precision: Precision;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** How many runs execute at once; more are queued by the session. */
  readonly concurrency: number;
  /** Runtime version, for engine.info and cache keys. */
  readonly runtimeVersion: string;
  run(inputs: Record<string, InputTensor>, options?: RunOptions): Promise<RunResult>;
  /** The float type the runtime computes in where it chooses its own (OpenVINO: 'f32', 'bf16'). */
  readonly inferencePrecision?: string;
  /** What the runtime says about the precision it runs, in words, for engine.info. */
  readonly precisionDetail?: string;
  /** Per-layer counters summed since the last reset, where the backend profiles (OpenVINO with perfCounters). */
  perfCounters?(reset?: boolean): PerfCounterReport | undefined;
  /** Waits for in-flight runs, then frees the runtime's resources. */
  dispose(): Promise<void>;
}
