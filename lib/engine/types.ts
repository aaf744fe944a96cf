/** The public Engine's types: its options, its info, its methods. */
import type { Detector } from '../detect/detector';
import type { DetectOptions, DetectorFamily, PreprocessSpec } from '../detect/types';
import type { BackendName, BackendOptionsByName, Precision, TensorInfo } from '../runtimes/backend';
import type { EngineQuantizationInfo } from './int8';
import type { Int8EngineOptions } from './int8-settings';
import type { EnginePrecisionChoice } from './precision-choice';

/**
 * Also the INT8 options (calibrator, maxDrop, quantization, onProgress, signal: engine/int8-settings.ts)
 * and each backend's own option group under its name (`openvino: { performanceHint }`, `tensorrt: {...}`).
 */
export interface EngineOptions extends Int8EngineOptions, Partial<BackendOptionsByName> {
  /** The model: an ONNX file's path (YOLOX, YOLOv5, YOLOv8 or YOLO11 export) or its bytes; or a file a backend reads itself (an OpenVINO IR .xml). */
  model: string | Uint8Array;
  /** Which runtime runs it; 'auto' (default) picks the first usable one in priority order (TensorRT on an NVIDIA GPU, else OpenVINO, else ONNX Runtime). */
  backend?: 'auto' | BackendName;
  /** Backend device ('cpu' for onnxruntime); the backend's default when absent. */
  device?: string;
  /**
   * 'fp32' runs the model as it is; 'auto' (default) does the same, except with a calibrator on a
   * backend that measures: there it times FP32 and INT8 on the device and serves the faster of
   * those that pass the accuracy check (engine.info.precisionChoice). A quantized model runs in INT8 either way.
   */
  precision?: Precision | 'auto';
  /** The detector head, when the output shape and metadata do not say it. */
  family?: DetectorFamily;
  /** Class names: a labels file (one a line, or JSON), or the names themselves. */
  labels?: string | readonly string[];
  /** Override any part of the preprocessing the model's family implies. */
  preprocess?: Partial<PreprocessSpec>;
  /** How many inferences may run at once (default 1, at most 64; each gets threads / concurrency CPU threads). */
  concurrency?: number;
  /** CPU threads one inference may use (default: all cores divided by concurrency; at most 4 per core). */
  threads?: number;
  /** Defaults for every detect() call. */
  detect?: DetectOptions;
}

export interface EngineInfo {
  backend: BackendName;
  device: string;
  precision: Precision;
  /** The float type the runtime computes float layers in, where it chooses (OpenVINO: 'f32', or 'bf16' on a BF16 CPU). */
  inferencePrecision?: string;
  runtimeVersion: string;
  model: {
    path: string;
    family: DetectorFamily;
    inputs: readonly TensorInfo[];
    outputs: readonly TensorInfo[];
    opset: number | undefined;
    producer: string;
    quantized: boolean;
  };
  preprocess: PreprocessSpec;
  labels: readonly string[];
  concurrency: number;
  /** Why this backend and this interpretation of the model were chosen, in words. */
  reasons: { backend: string; model: string; precision: string; quantization?: string };
  /** Present when this engine quantized a float model (precision 'int8' with a calibrator), or loaded that result from the cache. */
  quantization?: EngineQuantizationInfo;
  /** precision 'auto' with a calibrator on a backend that measures: both medians, their ratio, the choice and why. */
  precisionChoice?: EnginePrecisionChoice;
}

export interface Engine {
  readonly info: EngineInfo;
  /** Detect objects in one frame: boxes in the frame's own pixel coordinates. */
  detect: Detector['detect'];
  /** Run the model on raw tensors: inputs by name (or one typed array for a one-input model). */
  infer: Detector['infer'];
  /** Wait for in-flight calls, then free the runtime; later calls reject with ERR_DISPOSED. */
  dispose(): Promise<void>;
  /**
   * Per-layer counters summed over the runs since the last reset (OpenVINO with
   * `openvino: { perfCounters: true }`); undefined where the backend does not profile.
   */
  perfCounters: Detector['perfCounters'];
  [Symbol.asyncDispose](): Promise<void>;
}
