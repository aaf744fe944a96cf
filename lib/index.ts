/** int8-detect: object detection in INT8 on ONNX Runtime, OpenVINO and TensorRT behind one API. */
export { createEngine } from './engine';
export type { Engine, EngineInfo, EngineOptions } from './engine';
export { probe, chooseBackend } from './probe';
export type { ProbeReport, BackendProbe, BackendChoice } from './probe';
export { cpuInfo } from './cpu';
export type { RawFrame, EncodedImage, FrameInput, PixelFormat } from './frame';
export type { Detection, Box, DetectOptions, DetectorFamily, PreprocessSpec } from './detect/types';
export type { BackendName, Precision, TensorInfo, InputTensor, RawTensor } from './backends/backend';
export { evaluate, loadCocoDataset, toCocoDetections } from './eval/coco';
export type { CocoDataset, CocoDetection, CocoMetrics } from './eval/coco';
export { evaluateEngine, COCO_EVAL_DETECT_OPTIONS } from './eval/evaluate-engine';
export { benchmarkEngine } from './bench';
export type { BenchResult, BenchOptions } from './bench';
export { decodeImage } from './image';
export { drawDetections } from './draw';
export { Int8DetectError } from './errors';
export type { Int8DetectErrorCode } from './errors';
