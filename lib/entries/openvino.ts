/** int8-detect/openvino: OpenVINO's own tools beside the engine. */
import '../runtimes/builtin';

export { quantizeForOpenVino, DEFAULT_SUBSET_SIZE } from '../runtimes/openvino/quantize';
export type { OpenVinoQuantizeOptions, OpenVinoQuantizeResult } from '../runtimes/openvino/quantize';
export type { OpenVinoPreset } from '../runtimes/openvino/fake-quantize';
export { convertToOpenVinoIr } from '../runtimes/openvino/convert';
export type { ConvertToIrOptions } from '../runtimes/openvino/convert';
export { summarizePerfCounters, formatPerfSummary } from '../runtimes/openvino/perf-table';
export type { PerfSummary, PerfGroup } from '../runtimes/openvino/perf-table';
export type { OpenVinoBackendOptions } from '../runtimes/openvino/options';
export { openVinoModuleStatus } from '../runtimes/openvino/module';
export type { OpenVinoModuleStatus } from '../runtimes/openvino/module';
