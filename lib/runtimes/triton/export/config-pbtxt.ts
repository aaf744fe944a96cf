/**
 * A Triton model configuration (config.pbtxt, protobuf text format) for the four flavours
 * int8-detect exports: Triton's onnxruntime_onnx, openvino and tensorrt_plan backends, and its
 * Python backend running our model.py. Field names follow Triton's model_config schema.
 */
import { Int8DetectError } from '../../../util/errors';
import { configTypeName, type KserveDatatype } from '../datatypes';

interface FlavourFacts {
  /** Triton's platform name, where the backend has one. */
  platform?: string;
  /** The model file in the version folder. */
  modelFile: string;
  kind: 'KIND_CPU' | 'KIND_GPU';
  /**
   * Which int8-detect runtime makes the model: the one of the same name as Triton's backend
   * ('same'), the embedded runtime's portable Q/DQ model ('embedded', which TensorRT builds its plan
   * from), or the Python backend's runtime ('runtime': --runtime).
   */
  madeBy: 'same' | 'embedded' | 'runtime';
}

/**
 * Triton's backends int8-detect exports for, by Triton's backend name (the keys; `backend:` in
 * config.pbtxt). Triton's onnxruntime and openvino backends are named like int8-detect's runtimes
 * that make their models, which is how `madeBy: 'same'` finds them.
 */
export const FLAVOURS = {
  onnxruntime: { platform: 'onnxruntime_onnx', modelFile: 'model.onnx', kind: 'KIND_CPU', madeBy: 'same' },
  openvino: { modelFile: 'model.xml', kind: 'KIND_CPU', madeBy: 'same' },
  tensorrt: { platform: 'tensorrt_plan', modelFile: 'model.plan', kind: 'KIND_GPU', madeBy: 'embedded' },
  python: { modelFile: 'model.py', kind: 'KIND_CPU', madeBy: 'runtime' },
} as const satisfies Record<string, FlavourFacts>;

export type TritonFlavour = keyof typeof FLAVOURS;
export const TRITON_FLAVOURS = Object.keys(FLAVOURS) as TritonFlavour[];

/** What int8-detect's model.py runs inside Triton's Python backend: the runtime, and its model file. */
export const PYTHON_RUNTIMES = {
  onnxruntime: { modelFile: 'model.onnx' },
  openvino: { modelFile: 'model.xml' },
} as const;
export type PythonRuntime = keyof typeof PYTHON_RUNTIMES;
export const PYTHON_RUNTIME_NAMES = Object.keys(PYTHON_RUNTIMES) as PythonRuntime[];

export interface ConfigTensorSpec {
  name: string;
  datatype: KserveDatatype;
  /** Without the batch dimension when maxBatchSize > 0; -1 for a variable dimension. */
  dims: readonly number[];
}

export interface TritonModelConfig {
  name: string;
  flavour: TritonFlavour;
  /** 0: the model has no batch dimension Triton may use (no dynamic batching). */
  maxBatchSize: number;
  inputs: readonly ConfigTensorSpec[];
  outputs: readonly ConfigTensorSpec[];
  /** Present (and maxBatchSize > 0): Triton gathers requests from all clients into batches. */
  dynamicBatching?: { maxQueueDelayMicroseconds: number };
  instances: number;
  parameters: Readonly<Record<string, string>>;
}

/** A protobuf text-format string literal: quotes, backslashes, control and non-ASCII bytes escaped (octal). */
export function textFormatString(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x0a) out += '\\n';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}

function tensorBlock(tensor: ConfigTensorSpec): string {
  if (tensor.dims.some((d) => !Number.isInteger(d) || d === 0 || d < -1)) {
    throw new Int8DetectError('ERR_ARGUMENT', `Tensor '${tensor.name}' has dims [${tensor.dims.join(', ')}]: each must be a positive size or -1 (variable)`);
  }
  return `  {\n    name: ${textFormatString(tensor.name)}\n    data_type: ${configTypeName(tensor.datatype)}\n    dims: [ ${tensor.dims.join(', ')} ]\n  }`;
}

export function formatConfigPbtxt(config: TritonModelConfig): string {
  const facts: FlavourFacts = FLAVOURS[config.flavour];
  if (!Number.isInteger(config.maxBatchSize) || config.maxBatchSize < 0) {
    throw new Int8DetectError('ERR_ARGUMENT', `Expected a non-negative integer for maxBatchSize but received ${config.maxBatchSize}`);
  }
  if (!Number.isInteger(config.instances) || config.instances < 1) {
    throw new Int8DetectError('ERR_ARGUMENT', `Expected a positive integer for instances but received ${config.instances}`);
  }
  const lines = [
    '# Written by int8-detect export --triton: the detector profile (family, preprocessing, labels) is in parameters.',
    `name: ${textFormatString(config.name)}`,
    ...(facts.platform ? [`platform: ${textFormatString(facts.platform)}`] : []),
    `backend: ${textFormatString(config.flavour)}`,
    ...(facts.madeBy !== 'runtime' ? [`default_model_filename: ${textFormatString(facts.modelFile)}`] : []),
    `max_batch_size: ${config.maxBatchSize}`,
    `input [\n${config.inputs.map(tensorBlock).join(',\n')}\n]`,
    `output [\n${config.outputs.map(tensorBlock).join(',\n')}\n]`,
  ];
  if (config.dynamicBatching && config.maxBatchSize > 0) {
    lines.push(`dynamic_batching {\n  max_queue_delay_microseconds: ${Math.max(0, Math.round(config.dynamicBatching.maxQueueDelayMicroseconds))}\n}`);
  }
  lines.push(`instance_group [\n  {\n    count: ${config.instances}\n    kind: ${facts.kind}\n  }\n]`);
  for (const key of Object.keys(config.parameters).sort()) {
    lines.push(`parameters {\n  key: ${textFormatString(key)}\n  value: { string_value: ${textFormatString(config.parameters[key])} }\n}`);
  }
  return `${lines.join('\n')}\n`;
}
