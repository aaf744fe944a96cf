/**
 * One model of a Triton model repository, REPO/NAME/config.pbtxt and REPO/NAME/VERSION/<model>,
 * from a model int8-detect made (the INT8 Q/DQ ONNX model or OpenVINO IR) and its detector profile:
 * - onnxruntime: the Q/DQ model with ONNX Runtime's INT8 lowerings (what a local engine on ONNX
 *   Runtime runs), batch made dynamic, for Triton's onnxruntime_onnx backend;
 * - openvino: the IR (quantized from the batch-dynamic float model by the caller), or the ONNX
 *   model converted to IR, for Triton's openvino backend;
 * - tensorrt: a plan built here for this machine's GPU from the Q/DQ model (explicit INT8), with
 *   its sidecar, for Triton's tensorrt_plan backend;
 * - python: int8-detect's model.py running the ONNX Runtime model or the IR in Triton's Python
 *   backend, for Triton builds without those backends.
 * Every file is written to a temporary name and renamed; config.pbtxt last, so a polling server
 * never sees a configuration before its model.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DetectorFamily, PreprocessSpec } from '../../../detect/types';
import { readModelInfo } from '../../../onnx/model-info';
import { Int8DetectError, invalidArgument } from '../../../util/errors';
import { writeFileAtomic } from '../../../util/files';
import { packageRoot, packageVersion } from '../../../util/package';
import type { TensorInfo } from '../../session';
import { lowerForOnnxRuntime } from '../../onnxruntime/lowering';
import { datatypeOfElement } from '../datatypes';
import { detectorParameters, PARAMETER_KEYS } from '../profile-parameters';
import { checkDynamicBatch } from './check-batch';
import { FLAVOURS, formatConfigPbtxt, PYTHON_RUNTIMES, type ConfigTensorSpec, type PythonRuntime, type TritonFlavour, type TritonModelConfig } from './config-pbtxt';
import { batchDynamicBytes } from '../../../onnx/dynamic-batch';

/** The model to write: ONNX bytes, or an IR's two files (already batch-dynamic where batching is on). */
export type ExportArtefact = { kind: 'onnx'; bytes: Uint8Array } | { kind: 'ir'; xml: string; bin: string; inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] };

export interface WriteTritonModelOptions {
  repository: string;
  name: string;
  version: number;
  flavour: TritonFlavour;
  /** python flavour: the runtime model.py uses. */
  pythonRuntime: PythonRuntime;
  /** 0: the model's fixed batch, no dynamic batching. */
  maxBatch: number;
  instances: number;
  maxQueueDelayMicroseconds: number;
  /** python flavour: threads per instance (0: the runtime's choice). */
  threads: number;
  artefact: ExportArtefact;
  profile: { family: DetectorFamily; preprocess: PreprocessSpec; labels: readonly string[]; precision: string };
  /** The file it came from, for the configuration's parameters. */
  sourceModel: string;
}

export interface TritonModelWritten {
  modelDir: string;
  configPath: string;
  /** Files written, relative to the model folder. */
  files: string[];
  /** Reshape nodes rewritten to take the batch from their input (ONNX models). */
  dynamicBatchReshapes: string[];
}

const MODEL_PY = path.join(packageRoot, 'scripts', 'triton', 'model.py');
const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Config tensors: the batch dimension dropped when Triton batches, symbolic dimensions as -1. */
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

export async function writeTritonModel(options: WriteTritonModelOptions): Promise<TritonModelWritten> {
  const { flavour, name, artefact } = options;
  if (!NAME_PATTERN.test(name)) throw invalidArgument('a model name of letters, digits, _, . and -', 'name', name);
  const facts = FLAVOURS[flavour];
  const modelDir = path.join(options.repository, name);
  const versionDir = path.join(modelDir, String(options.version));
  const batched = options.maxBatch > 0;
  const files: string[] = [];
  const write = async (relative: string, data: string | Uint8Array) => {
    await writeFileAtomic(path.join(modelDir, relative), data);
    files.push(relative);
  };
  const inVersion = (file: string) => path.join(String(options.version), file);
  const python = facts.madeBy === 'runtime';
  const plan = facts.modelFile.endsWith('.plan');
  const wantsIr = (python ? PYTHON_RUNTIMES[options.pythonRuntime].modelFile : facts.modelFile).endsWith('.xml');

  let tensors: { inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] };
  let reshapes: string[] = [];
  if (artefact.kind === 'ir') {
    if (!wantsIr) throw new Int8DetectError('ERR_ARGUMENT', `Triton's ${flavour} backend takes an ONNX model, not an OpenVINO IR`);
    await write(inVersion('model.bin'), await fs.readFile(artefact.bin));
    await write(inVersion('model.xml'), await fs.readFile(artefact.xml));
    tensors = artefact;
  } else {
    // TensorRT reads Q/DQ as it is (explicit quantization); ONNX Runtime gets the lowerings a local engine applies.
    const prepared = plan || wantsIr ? artefact.bytes : lowerForOnnxRuntime(artefact.bytes);
    let bytes = prepared;
    if (batched) {
      const rewritten = batchDynamicBytes(prepared);
      await checkDynamicBatch(prepared, rewritten.bytes, { inputHigh: 255 * options.profile.preprocess.scale });
      bytes = rewritten.bytes;
      reshapes = rewritten.reshapes;
    }
    tensors = onnxTensors(bytes);
    if (wantsIr) {
      // A float model for OpenVINO: converted by OpenVINO itself (both files written and renamed).
      const { convertToOpenVinoIr } = await import('../../openvino/convert');
      await convertToOpenVinoIr(bytes, path.join(versionDir, 'model.xml'));
      files.push(inVersion('model.bin'), inVersion('model.xml'));
    } else if (plan) {
      await buildPlan(versionDir, bytes, tensors.inputs[0], options);
      files.push(inVersion('model.plan'), inVersion('model.plan.json'));
    } else {
      await write(inVersion('model.onnx'), bytes);
    }
  }
  if (python) await write(inVersion('model.py'), await fs.readFile(MODEL_PY));

  const parameters: Record<string, string> = {
    ...detectorParameters(options.profile),
    [PARAMETER_KEYS.precision]: options.profile.precision,
    [PARAMETER_KEYS.sourceModel]: options.sourceModel,
    [PARAMETER_KEYS.exporter]: `int8-detect ${packageVersion()}`,
    ...(python
      ? { [PARAMETER_KEYS.runtime]: options.pythonRuntime, [PARAMETER_KEYS.modelFile]: PYTHON_RUNTIMES[options.pythonRuntime].modelFile, [PARAMETER_KEYS.threads]: String(options.threads) }
      : {}),
  };
  const config: TritonModelConfig = {
    name,
    flavour,
    maxBatchSize: options.maxBatch,
    inputs: configTensors(tensors.inputs, batched, 'input'),
    outputs: configTensors(tensors.outputs, batched, 'output'),
    ...(batched ? { dynamicBatching: { maxQueueDelayMicroseconds: options.maxQueueDelayMicroseconds } } : {}),
    instances: options.instances,
    parameters,
  };
  await write('config.pbtxt', formatConfigPbtxt(config));
  return { modelDir, configPath: path.join(modelDir, 'config.pbtxt'), files, dynamicBatchReshapes: reshapes };
}

/** A TensorRT plan (and its sidecar) in the version folder, with an optimization profile up to the largest batch. */
async function buildPlan(versionDir: string, bytes: Uint8Array, input: TensorInfo, options: WriteTritonModelOptions): Promise<void> {
  const { buildTensorRtPlan } = await import('../../tensorrt/build-plan');
  await fs.mkdir(versionDir, { recursive: true });
  const staged = path.join(versionDir, `.model.${process.pid}.onnx`);
  await fs.writeFile(staged, bytes);
  try {
    const shape = (n: number) => [n, ...input.dims.slice(1).map(Number)];
    await buildTensorRtPlan(staged, {
      precision: options.profile.precision === 'int8' ? 'int8' : 'fp32',
      plan: path.join(versionDir, 'model.plan'),
      ...(options.maxBatch > 0 ? { inputShapes: { [input.name]: { min: shape(1), opt: shape(Math.max(1, Math.ceil(options.maxBatch / 2))), max: shape(options.maxBatch) } } } : {}),
      concurrency: options.instances,
    });
  } finally {
    await fs.rm(staged, { force: true });
  }
}
