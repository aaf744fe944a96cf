/**
 * `export --triton`: one model of a Triton model repository, REPO/NAME/config.pbtxt and
 * REPO/NAME/VERSION/<model file>, from a detector ONNX model.
 *
 * INT8 comes through the public Engine: createEngine({ precision: 'int8', calibrator }) quantizes
 * the float model (or finds it in the INT8 cache, where a local engine with the same calibration
 * finds it too) and engine.info gives the detector's profile, which goes into the configuration's
 * parameters. Per flavour:
 * - onnxruntime: the Q/DQ model with ONNX Runtime's lowerings (the model a local onnxruntime engine
 *   runs), batch made dynamic, for Triton's onnxruntime_onnx backend;
 * - openvino: an OpenVINO INT8 IR quantized from the batch-dynamic float model, for Triton's
 *   openvino backend;
 * - tensorrt: a plan built here (explicit INT8 from the Q/DQ model) for this machine's GPU, with its
 *   sidecar, for Triton's tensorrt_plan backend;
 * - python: our model.py running the ONNX Runtime model (or, with runtime 'openvino', the IR) in
 *   Triton's Python backend: the flavour for Triton builds without those backends.
 * Every file is written to a temporary name and renamed; config.pbtxt last, so a polling server
 * never sees a configuration before its model.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lowerForOnnxRuntime } from '../../onnxruntime/session';
import type { TensorInfo } from '../../backend';
import { createEngine, type EngineInfo } from '../../../engine';
import { Int8DetectError, invalidArgument } from '../../../util/errors';
import { writeFileAtomic } from '../../../util/files';
import { packageRoot } from '../../../native/core';
import type { DetectorFamily } from '../../../detect/types';
import { readModelInfo } from '../../../onnx/model-info';
import { openVinoModuleStatus } from '../../openvino/module-loader';
import { buildTensorRtPlan } from '../../tensorrt/build-plan';
import { tensorRtModuleStatus } from '../../tensorrt/module-loader';
import { int8CompanionPath } from '../../../quantize/int8-cache';
import type { QuantizeWithSearchProgress } from '../../../quantize/quantize-with-search';
import { datatypeOfElement } from '../datatypes';
import { detectorParameters, PARAMETER_KEYS } from '../profile-parameters';
import { checkDynamicBatch } from './check-batch';
import { FLAVOURS, formatConfigPbtxt, type ConfigTensorSpec, type TritonFlavour, type TritonModelConfig, TRITON_FLAVOURS } from './config-pbtxt';
import { makeBatchDynamic } from './dynamic-batch';

export type PythonRuntime = 'onnxruntime' | 'openvino';

export interface TritonExportOptions {
  /** The model repository folder (created when absent). */
  repository: string;
  /** The detector: a float ONNX model (quantized here with `calibration`) or a Q/DQ one. */
  model: string;
  /** Which Triton backend serves it (default 'onnxruntime'). */
  flavour?: TritonFlavour;
  /** The model's name in the repository (default: the model file's base name). */
  name?: string;
  /** The version folder (default 1). */
  version?: number;
  /** Largest batch Triton's dynamic batcher forms (default 8); 0 keeps the model's fixed batch and turns batching off. */
  maxBatch?: number;
  /** Model instances Triton runs side by side (default 1). */
  instances?: number;
  /** How long Triton may hold a request to fill a batch, in microseconds (default 500). */
  maxQueueDelayMicroseconds?: number;
  /** Calibration images for a float model (INT8 through createEngine's quantizer and its cache). */
  calibration?: string;
  /** 'int8' (default) or 'fp32' (export the float model as it is). */
  precision?: 'int8' | 'fp32';
  /** python flavour: the runtime model.py uses (default 'onnxruntime'). */
  pythonRuntime?: PythonRuntime;
  /** python flavour: threads per model instance (default 0: the runtime's choice). */
  threads?: number;
  family?: DetectorFamily;
  labels?: string | readonly string[];
  onProgress?: (progress: QuantizeWithSearchProgress) => void;
}

export interface TritonExportResult {
  name: string;
  modelDir: string;
  configPath: string;
  /** Files written, relative to the model folder. */
  files: string[];
  flavour: TritonFlavour;
  maxBatchSize: number;
  family: DetectorFamily;
  precision: string;
  /** How the INT8 model was obtained, in words. */
  quantization: string;
  /** Reshape nodes rewritten to take the batch from their input. */
  dynamicBatchReshapes: string[];
}

const MODEL_PY = path.join(packageRoot, 'scripts', 'triton', 'model.py');
const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

async function packageVersion(): Promise<string> {
  return (JSON.parse(await fs.readFile(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

function integerOption(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalidArgument(`an integer >= ${min}`, name, value);
  return value;
}

/** Which engine backend quantizes for a flavour: OpenVINO makes the IR, ONNX Runtime the Q/DQ model. */
function quantizingBackend(flavour: TritonFlavour, runtime: PythonRuntime): 'onnxruntime' | 'openvino' {
  return flavour === 'openvino' || (flavour === 'python' && runtime === 'openvino') ? 'openvino' : 'onnxruntime';
}

/** Config tensors from the engine's view: the batch dimension dropped when Triton batches, symbolic dims as -1. */
function configTensors(tensors: readonly TensorInfo[], batched: boolean, what: string): ConfigTensorSpec[] {
  return tensors.map((t) => {
    const datatype = datatypeOfElement(t.type);
    if (!datatype) throw new Int8DetectError('ERR_MODEL', `The model's ${what} '${t.name}' has the element type ${t.type}, which Triton has no datatype for`);
    const dims = t.dims.map((d) => (typeof d === 'number' && d > 0 ? d : -1));
    return { name: t.name, datatype, dims: batched ? dims.slice(1) : dims };
  });
}

function onnxTensors(bytes: Uint8Array): { inputs: TensorInfo[]; outputs: TensorInfo[] } {
  const info = readModelInfo(bytes);
  const convert = (t: (typeof info.inputs)[number]): TensorInfo => ({ name: t.name, type: t.type, dims: t.dims ?? [] });
  return { inputs: info.inputs.map(convert), outputs: info.outputs.map(convert) };
}

export async function exportToTriton(options: TritonExportOptions): Promise<TritonExportResult> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'exportToTriton(options)', options);
  if (typeof options.repository !== 'string' || options.repository === '') throw invalidArgument('a folder path', 'options.repository', options.repository);
  if (typeof options.model !== 'string' || options.model === '') throw invalidArgument('an ONNX model path', 'options.model', options.model);
  const flavour = options.flavour ?? 'onnxruntime';
  if (!TRITON_FLAVOURS.includes(flavour)) throw invalidArgument(TRITON_FLAVOURS.map((f) => `'${f}'`).join(', '), 'options.flavour', flavour);
  const runtime = options.pythonRuntime ?? 'onnxruntime';
  if (runtime !== 'onnxruntime' && runtime !== 'openvino') throw invalidArgument("'onnxruntime' or 'openvino'", 'options.pythonRuntime', runtime);
  const name = options.name ?? path.basename(options.model).replace(/\.onnx$/i, '');
  if (!NAME_PATTERN.test(name)) throw invalidArgument('a model name of letters, digits, _, . and -', 'options.name', name);
  const version = integerOption(options.version, 'options.version', 1, 1);
  const maxBatch = integerOption(options.maxBatch, 'options.maxBatch', 8, 0);
  const instances = integerOption(options.instances, 'options.instances', 1, 1);
  const threads = integerOption(options.threads, 'options.threads', 0, 0);
  const queueDelay = integerOption(options.maxQueueDelayMicroseconds, 'options.maxQueueDelayMicroseconds', 500, 0);
  const precision = options.precision ?? 'int8';
  if (precision !== 'int8' && precision !== 'fp32') throw invalidArgument("'int8' or 'fp32'", 'options.precision', precision);

  // What cannot run here fails before minutes of quantization.
  const backend = quantizingBackend(flavour, runtime);
  if (flavour === 'tensorrt') {
    const status = tensorRtModuleStatus();
    if (!status.loaded) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `export --backend tensorrt builds the plan for this machine's GPU, but TensorRT cannot run here: ${status.reason}`);
  }
  if (backend === 'openvino') {
    const status = openVinoModuleStatus();
    if (!status.loaded) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `export --backend ${flavour} quantizes with OpenVINO, but OpenVINO cannot run here: ${status.reason ?? 'its module did not load'}`);
  }

  let source: Uint8Array;
  try {
    source = await fs.readFile(options.model);
  } catch (err) {
    throw new Int8DetectError('ERR_MODEL', `Cannot read the model ${options.model}: ${(err as Error).message}`, { cause: err });
  }
  const batched = maxBatch > 0;
  // OpenVINO's IR cannot be rewritten afterwards: it is quantized from the batch-dynamic float model.
  const irSource = backend === 'openvino' && batched ? makeBatchDynamic(source) : undefined;
  // Written under the model's own file name, so its INT8 cache entry is named after it too.
  const staging = irSource ? await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-export-')) : undefined;
  const engineModel = staging ? path.join(staging, path.basename(options.model)) : options.model;
  if (staging && irSource) await fs.writeFile(engineModel, irSource.bytes);
  let info: EngineInfo;
  try {
    const engine = await createEngine({
      model: engineModel,
      backend,
      precision: precision === 'fp32' ? 'fp32' : options.calibration !== undefined ? 'int8' : 'auto',
      ...(options.calibration !== undefined && precision === 'int8' ? { calibrator: options.calibration } : {}),
      ...(options.family !== undefined ? { family: options.family } : {}),
      ...(options.labels !== undefined ? { labels: options.labels } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    info = engine.info;
    await engine.dispose();
  } finally {
    if (staging) await fs.rm(staging, { recursive: true, force: true });
  }
  if (precision === 'int8' && info.precision !== 'int8') {
    throw new Int8DetectError(
      'ERR_ARGUMENT',
      `${options.model} is a float model: give calibration images (--calibration DIR) to quantize it to INT8, or export it as it is with precision 'fp32'`,
    );
  }

  const modelDir = path.join(options.repository, name);
  const versionDir = path.join(modelDir, String(version));
  const files: string[] = [];
  const write = async (relative: string, data: string | Uint8Array) => {
    await writeFileAtomic(path.join(modelDir, relative), data);
    files.push(relative);
  };
  const artefact = info.quantization?.cachePath ?? undefined;
  const quantization = info.quantization
    ? `quantized by createEngine on ${info.backend} (${info.quantization.source === 'cache' ? 'from the INT8 cache' : 'just now'}, ${info.quantization.calibrationFrames} calibration frames, cached at ${info.quantization.cachePath ?? 'nowhere'})`
    : info.model.quantized
      ? `the model is already quantized (Q/DQ)`
      : `exported as the float model it is (precision fp32)`;

  let tensors: { inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] };
  let reshapes: string[] = irSource?.reshapes ?? [];
  const modelFile = flavour === 'python' ? (runtime === 'openvino' ? 'model.xml' : 'model.onnx') : FLAVOURS[flavour].modelFile;
  if (backend === 'openvino') {
    // The IR from the INT8 cache (xml + bin), or the (batch-dynamic) ONNX model OpenVINO reads as it is.
    if (artefact) {
      await write(path.join(String(version), 'model.bin'), await fs.readFile(int8CompanionPath(artefact, '.bin')));
      await write(path.join(String(version), 'model.xml'), await fs.readFile(artefact));
    } else {
      const { convertToOpenVinoIr } = await import('../../openvino/convert');
      await fs.mkdir(versionDir, { recursive: true });
      await convertToOpenVinoIr(irSource?.bytes ?? source, path.join(versionDir, 'model.xml'));
      files.push(path.join(String(version), 'model.bin'), path.join(String(version), 'model.xml'));
    }
    tensors = info.model;
  } else {
    const int8 = artefact ? await fs.readFile(artefact) : source;
    // TensorRT reads Q/DQ as it is (explicit quantization); ONNX Runtime gets the lowerings a local engine applies.
    const lowered = flavour === 'tensorrt' ? int8 : lowerForOnnxRuntime(int8);
    let bytes: Uint8Array = lowered;
    if (batched) {
      const rewritten = makeBatchDynamic(lowered);
      await checkDynamicBatch(lowered, rewritten.bytes, { inputHigh: 255 * info.preprocess.scale });
      bytes = rewritten.bytes;
      reshapes = rewritten.reshapes;
    }
    tensors = onnxTensors(bytes);
    if (flavour === 'tensorrt') {
      await fs.mkdir(versionDir, { recursive: true });
      const staged = path.join(versionDir, `.model.${process.pid}.onnx`);
      await fs.writeFile(staged, bytes);
      try {
        const input = tensors.inputs[0];
        const one = [1, ...input.dims.slice(1).map(Number)];
        const shape = (n: number) => [n, ...one.slice(1)];
        await buildTensorRtPlan(staged, {
          precision: info.precision === 'int8' ? 'int8' : 'fp32',
          plan: path.join(versionDir, 'model.plan'),
          ...(batched ? { inputShapes: { [input.name]: { min: shape(1), opt: shape(Math.max(1, Math.ceil(maxBatch / 2))), max: shape(maxBatch) } } } : {}),
          concurrency: instances,
        });
        files.push(path.join(String(version), 'model.plan'), path.join(String(version), 'model.plan.json'));
      } finally {
        await fs.rm(staged, { force: true });
      }
    } else {
      await write(path.join(String(version), 'model.onnx'), bytes);
    }
  }
  if (flavour === 'python') await write(path.join(String(version), 'model.py'), await fs.readFile(MODEL_PY));

  const parameters: Record<string, string> = {
    ...detectorParameters({ family: info.model.family, preprocess: info.preprocess, labels: info.labels }),
    [PARAMETER_KEYS.precision]: info.precision,
    [PARAMETER_KEYS.sourceModel]: path.basename(options.model),
    [PARAMETER_KEYS.exporter]: `int8-detect ${await packageVersion()}`,
    ...(flavour === 'python' ? { [PARAMETER_KEYS.runtime]: runtime, [PARAMETER_KEYS.modelFile]: modelFile, [PARAMETER_KEYS.threads]: String(threads) } : {}),
  };
  const config: TritonModelConfig = {
    name,
    flavour,
    maxBatchSize: maxBatch,
    inputs: configTensors(tensors.inputs, batched, 'input'),
    outputs: configTensors(tensors.outputs, batched, 'output'),
    ...(batched ? { dynamicBatching: { maxQueueDelayMicroseconds: queueDelay } } : {}),
    instances,
    parameters,
  };
  await write('config.pbtxt', formatConfigPbtxt(config));
  return {
    name,
    modelDir,
    configPath: path.join(modelDir, 'config.pbtxt'),
    files,
    flavour,
    maxBatchSize: maxBatch,
    family: info.model.family,
    precision: info.precision,
    quantization,
    dynamicBatchReshapes: reshapes,
  };
}
