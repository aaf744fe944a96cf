/**
 * int8-detect/quantize: post-training INT8 beyond createEngine's own flow. quantizeModel() makes a
 * portable Q/DQ ONNX model; the calibrators feed it; the report shows what it did; the pieces of
 * the one pipeline (statistics, plan, emitters, label-free check, mixed-precision search) are here
 * for tools that compose their own.
 */
import '../runtimes/builtin';

export { quantizeModel } from '../runtimes/onnxruntime/quantize';
export { quantizeModelFor } from '../runtimes/quantize-model';
export type { QuantizeModelOptions, QuantizedModel } from '../runtimes/quantize-model';
export { quantizePostTraining } from '../quantize/pipeline';
export type { QuantizeRequest, QuantizeOutcome, QuantizeSettings, CheckOptions, QuantizeProgress, QuantizePhase } from '../quantize/pipeline';
export type { QuantizerAdapter, ArtefactEmitter, EmittedArtefact, EmitterContext, StatisticsSessionOpener } from '../quantize/adapter';
export { calibratorFromFolder, calibratorFromFrames, calibratorFromAsyncFrames, splitHeldBack, fingerprintFrames, limitCalibrator } from '../quantize/calibrator';
export type { CalibratorOptions, FrameCalibrator, CalibrationProgress, HeldBackSplit } from '../quantize/calibrator';
export type { Calibrator, CalibrationBatch } from '../quantize/types';
export { buildPlan, emitPlanJson, macCounts, defaultActivationMode } from '../quantize/plan';
export type { QuantizationPlan, PlanOptions, ActivationPlan, WeightPlan, MethodChoice } from '../quantize/plan';
export { emitQdqModel } from '../quantize/emitters/qdq';
export { emitTensorRtCalibrationCache, tensorRtCalibrationCache } from '../quantize/emitters/tensorrt-cache';
export { placeQuantization } from '../quantize/placement';
export type { IgnoredScope, Placement } from '../quantize/placement';
export { ActivationStatistics } from '../quantize/statistics';
export type { Range, RangeMethod } from '../quantize/statistics';
export { scaleAndZeroPoint, fakeQuantize } from '../quantize/qparams';
export type { ActivationMode } from '../quantize/qparams';
export { perChannelScales, quantizePerChannel } from '../quantize/weights';
export { agreementMetrics } from '../quantize/agreement';
export type { AgreementOptions } from '../quantize/agreement';
export { searchMixedPrecision, estimatedDrop } from '../quantize/mixed-precision';
export type { MixedPrecisionOptions, MixedPrecisionResult, TensorSensitivity, LabelFreeCheckSummary } from '../quantize/mixed-precision';
export type { BiasCorrectionMode } from '../quantize/bias-correction';
export { writeQuantizationReport } from '../report/write';
export { buildReportData } from '../report/data';
export type { QuantizationReportData, ReportOptions, ReportTensor } from '../report/data';
export { renderReportHtml } from '../report/html';
