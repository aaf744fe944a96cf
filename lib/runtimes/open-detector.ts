/**
 * A model opened on one backend with its detector: the model read and described, a session
 * opened by the backend's descriptor, the family, preprocessing and labels recognised. createEngine
 * does this after its decisions; the quantizer's candidates do it directly.
 */
import { promises as fs } from 'node:fs';
import { Detector } from '../detect/detector';
import { resolveModelProfile, type ModelOverrides, type ModelProfile } from '../detect/profile';
import { countGraphOps, isQuantizedModel } from '../onnx/graph-ops';
import { readModelInfo, type ModelInfo } from '../onnx/model-info';
import type { CandidateModel, OpenCandidate } from '../quantize/candidate';
import { config } from '../util/config';
import { Int8DetectError, invalidArgument } from '../util/errors';
import type { BackendDescriptor, BackendOptionsByName, BackendSession, Precision } from './backend';

/** What messages call a model given as bytes. */
export const IN_MEMORY_MODEL = '<in-memory model>';

/** A model as a backend opens it. */
export interface ModelSource {
  /** Path for messages and caches (IN_MEMORY_MODEL for bytes), or the file the backend reads itself. */
  path: string;
  /** ONNX bytes; empty when the backend reads `path` itself (an OpenVINO IR). */
  bytes: Uint8Array;
  info: ModelInfo;
  /** It holds quantized layers: Q/DQ nodes, FakeQuantize. */
  quantized: boolean;
}

function parseModel(bytes: Uint8Array, name: string): ModelInfo {
  try {
    return readModelInfo(bytes);
  } catch (err) {
    if (err instanceof Int8DetectError) throw new Int8DetectError('ERR_MODEL', `${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** ONNX bytes, described (name: the path, or IN_MEMORY_MODEL). */
export function onnxModelSource(bytes: Uint8Array, name: string): ModelSource {
  return { path: name, bytes, info: parseModel(bytes, name), quantized: isQuantizedModel(countGraphOps(bytes)) };
}

/** An ONNX file read and described; a missing file or a directory is ERR_MODEL naming it. */
export async function readOnnxModel(model: unknown): Promise<ModelSource> {
  if (model instanceof Uint8Array) return onnxModelSource(model, IN_MEMORY_MODEL);
  if (typeof model !== 'string' || model.length === 0) throw invalidArgument('a model file path or its bytes', 'options.model', model);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(model);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new Int8DetectError('ERR_MODEL', `Cannot read the model ${model}: ${why}`, { cause: err });
  }
  return onnxModelSource(bytes, model);
}

/** The model as `descriptor` opens it: a file it reads itself (an IR), or ONNX bytes. */
export async function readModelFor(descriptor: BackendDescriptor, model: CandidateModel): Promise<ModelSource> {
  if (typeof model === 'string' && descriptor.readsModelFile?.(model)) {
    const file = await descriptor.readModelFile!(model);
    return { path: file.path, bytes: new Uint8Array(0), info: file.info, quantized: file.quantized };
  }
  return readOnnxModel(model);
}

export interface DetectorSettings {
  device?: string;
  concurrency?: number;
  /** CPU threads per run (0: the backend's choice). */
  threads?: number;
  overrides?: ModelOverrides;
  /** The backend's own option group. */
  settings?: BackendOptionsByName[keyof BackendOptionsByName];
}

/** Opens a described model on `descriptor` and recognises its detector; the session is closed if recognition fails. */
export async function openSessionWithProfile(
  descriptor: BackendDescriptor,
  source: ModelSource,
  precision: Precision,
  options: DetectorSettings,
): Promise<{ session: BackendSession; profile: ModelProfile }> {
  const session = await descriptor.open({
    modelPath: source.path,
    modelBytes: source.bytes,
    ...(options.device !== undefined ? { device: options.device } : {}),
    precision,
    concurrency: options.concurrency ?? 1,
    threads: options.threads ?? config.ortIntraOpThreads,
    cacheDir: config.cacheDir,
    ...(options.settings !== undefined ? { settings: options.settings as never } : {}),
  });
  try {
    const profile = resolveModelProfile({ info: source.info, inputs: session.inputs, outputs: session.outputs, overrides: options.overrides ?? {} });
    return { session, profile };
  } catch (err) {
    await session.dispose();
    throw err;
  }
}

/** Opens candidates of a quantization on `descriptor`: each with the float model's detector settings. */
export function candidateOpener(descriptor: BackendDescriptor, options: DetectorSettings): OpenCandidate {
  return async (model) => {
    const source = await readModelFor(descriptor, model);
    const { session, profile } = await openSessionWithProfile(descriptor, source, source.quantized ? 'int8' : 'fp32', options);
    return new Detector(session, profile);
  };
}
