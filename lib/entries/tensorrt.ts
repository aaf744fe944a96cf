/** int8-detect/tensorrt: TensorRT's own tools beside the engine: plans and calibration caches. */
import '../runtimes/builtin';

export { buildTensorRtPlan } from '../runtimes/tensorrt/build-plan';
export type { TensorRtBuildOptions, TensorRtBuildEvent, TensorRtPlanResult } from '../runtimes/tensorrt/build-plan';
export type { TensorRtBackendOptions } from '../runtimes/tensorrt/descriptor';
export { parseCalibrationCache, formatCalibrationCache, readCalibrationCacheFile, writeCalibrationCacheFile } from '../quantize/emitters/tensorrt-cache-format';
export type { CalibrationCache } from '../quantize/emitters/tensorrt-cache-format';
export { tensorRtModuleStatus } from '../runtimes/tensorrt/module';
