/**
 * int8-detect: object detection in INT8 on ONNX Runtime, OpenVINO and TensorRT behind one API.
 * The root holds what an application needs; the quantizer's parts, each runtime's own tools and
 * the backend registry are subpaths: int8-detect/quantize, /openvino, /tensorrt, /backends, /video.
 */
export { createEngine } from './engine';
export type { Engine, EngineInfo, EngineOptions } from './engine';
export type { Int8CalibrationSource, Int8EngineOptions, Int8QuantizationSettings } from './engine/int8-settings';
export type { EngineQuantizationInfo } from './engine/int8';
export type { Int8Summary } from './engine/int8-summary';
export type { EnginePrecisionChoice, PrecisionMeasurement } from './engine/precision-choice';
export type { QuantizeProgress } from './quantize/pipeline';
export { probe, chooseBackend } from './probe';
export type { ProbeReport, BackendProbe, BackendChoice } from './probe';
export type { CpuInfo } from './hardware/cpu';
export type { RawFrame, EncodedImage, FrameInput, PixelFormat } from './image/frame';
export type { Detection, Box, DetectOptions, DetectorFamily, PreprocessSpec } from './detect/types';
export type { BackendName, BackendOptionsByName, Precision, TensorInfo, InputTensor, RawTensor, PerfCounterReport, LayerPerfCounter } from './runtimes/backend';
export type { OpenVinoBackendOptions } from './runtimes/openvino/options';
export type { TensorRtBackendOptions } from './runtimes/tensorrt/descriptor';
export type { OnnxRuntimeBackendOptions } from './runtimes/onnxruntime/options';
export { evaluate, loadCocoDataset, toCocoDetections } from './eval/coco';
export type { CocoDataset, CocoDetection, CocoMetrics } from './eval/coco';
export { evaluateEngine, COCO_EVAL_DETECT_OPTIONS } from './eval/evaluate-engine';
export type { EvaluateEngineOptions, EngineEvaluation } from './eval/evaluate-engine';
export { benchmarkEngine } from './bench';
export type { BenchResult, BenchOptions } from './bench';
export { decodeImage } from './image/decode';
export { drawDetections, drawDetectionsRaw } from './image/draw';
export { Int8DetectError } from './util/errors';
export type { Int8DetectErrorCode } from './util/errors';
export { createPipeline, Pipeline } from './video/pipeline';
export type { PipelineOptions, PipelineEvents, PipelineInfo, DropPolicy } from './video/pipeline';
export type { SourceOptions, VideoFrame, DetectionsEvent, StreamStats, PipelineStats, ConnectedEvent, DisconnectedEvent, ReconnectingEvent, EndEvent, StreamErrorEvent } from './video/types';
export { VideoSourceError } from './video/errors';
export type { VideoErrorReason } from './video/errors';
