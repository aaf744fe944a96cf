/**
 * The public Engine: one API whatever the runtime. createEngine() picks the backend, reads the
 * model, recognises its family and preprocessing, and opens a session; detect() runs a frame
 * through preprocessing, the backend, the decoder and NMS.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { BackendName, BackendSession, InputTensor, Precision, RawTensor, TensorInfo } from './runtimes/backend';
import { backendImplementation } from './runtimes/registry';
import type { TensorRtBackendOptions } from './runtimes/tensorrt/descriptor';
import type { PerfCounterReport } from './runtimes/backend';
import { isOpenVinoIrPath, readOpenVinoIr } from './runtimes/openvino/ir-model';
import type { OpenVinoBackendOptions } from './runtimes/openvino/options';
import { config } from './util/config';
import { postprocess, resolveDetectOptions } from './detect/postprocess';
import { preprocessFrame, tensorSize } from './detect/preprocess';
import { resolveModelProfile, type ModelProfile } from './detect/profile';
import type { Detection, DetectOptions, DetectorFamily, OutputTensor, PreprocessSpec } from './detect/types';
import { Int8DetectError, invalidArgument, withCallerStack } from './util/errors';
import { isRawFrame, validateRawFrame, type FrameInput } from './image/frame';
import { decodeImage } from './image/decode';
import { countGraphOps, isQuantizedModel } from './onnx/graph-ops';
import { readModelInfo, type ModelInfo } from './onnx/model-info';
import { ItemPool } from './util/pool';
import { chooseBackend, probe } from './probe';
import type { EngineQuantizationInfo, Int8EngineOptions } from './engine/int8';
import type { EnginePrecisionChoice } from './engine/precision-choice';

/** Also the INT8 options (calibrator, maxDrop, quantization, onProgress, signal): lib/quantize/engine-int8.ts. */
export interface EngineOptions extends Int8EngineOptions {
  /** The model: an ONNX file's path (YOLOX, YOLOv5, YOLOv8 or YOLO11 export), or its bytes. */
  model: string | Uint8Array;
  /** Which runtime runs it; 'auto' (default) picks TensorRT on an NVIDIA GPU, else OpenVINO, else ONNX Runtime. */
  backend?: 'auto' | BackendName;
  /** Backend device ('cpu' for onnxruntime); the backend's default when absent. */
  device?: string;
  /**
   * 'fp32' runs the model as it is; 'auto' (default) does the same, except on OpenVINO with a
   * calibrator: there it times FP32 and INT8 on the device and serves the faster of those that pass
   * the accuracy check (engine.info.precisionChoice). A quantized model runs in INT8 either way.
   */
  precision?: Precision | 'auto';
  /** The detector head, when the output shape and metadata do not say it. */
  family?: DetectorFamily;
  /** Class names: a labels file (one a line, or JSON), or the names themselves. */
  labels?: string | readonly string[];
  /** Override any part of the preprocessing the model's family implies. */
  preprocess?: Partial<PreprocessSpec>;
  /** How many inferences may run at once (default 1; each gets threads / concurrency CPU threads). */
  concurrency?: number;
  /** CPU threads one inference may use (default: all cores divided by concurrency). */
  threads?: number;
  /** Defaults for every detect() call. */
  detect?: DetectOptions;
  /** ONNX Runtime only: write its per-operator profile to files starting with this prefix. */
  profileFilePrefix?: string;
  /** TensorRT only: calibration, plan cache, workspace, DLA (see docs/tensorrt.md). */
  tensorrt?: TensorRtBackendOptions;
  /** OpenVINO only: performance hint, inference precision (force 'f32'), perf counters, model cache (see docs/openvino.md). */
  openvino?: OpenVinoBackendOptions;
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
  /** precision 'auto' with a calibrator on OpenVINO: both medians, their ratio, the choice and why. */
  precisionChoice?: EnginePrecisionChoice;
}

export interface Engine {
  readonly info: EngineInfo;
  /** Detect objects in one frame: boxes in the frame's own pixel coordinates. */
  detect(frame: FrameInput, options?: DetectOptions): Promise<Detection[]>;
  /** Run the model on raw tensors: inputs by name (or one typed array for a one-input model). */
  infer(inputs: Record<string, InputTensor> | InputTensor['data']): Promise<Record<string, RawTensor>>;
  /** Wait for in-flight calls, then free the runtime; later calls reject with ERR_DISPOSED. */
  dispose(): Promise<void>;
  /**
   * Per-layer counters summed over the runs since the last reset (OpenVINO with
   * `openvino: { perfCounters: true }`); undefined where the backend does not profile.
   */
  perfCounters(options?: { reset?: boolean }): PerfCounterReport | undefined;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What messages call a model given as bytes. */
const IN_MEMORY_MODEL = '<in-memory model>';

async function readModelFile(modelPath: unknown): Promise<{ bytes: Uint8Array; info: ModelInfo }> {
  if (modelPath instanceof Uint8Array) return { bytes: modelPath, info: parseModel(modelPath, IN_MEMORY_MODEL) };
  if (typeof modelPath !== 'string' || modelPath.length === 0) throw invalidArgument('a model file path or its bytes', 'options.model', modelPath);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(modelPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new Int8DetectError('ERR_MODEL', `Cannot read the model ${modelPath}: ${why}`, { cause: err });
  }
  return { bytes, info: parseModel(bytes, modelPath) };
}

function parseModel(bytes: Uint8Array, name: string): ModelInfo {
  try {
    return readModelInfo(bytes);
  } catch (err) {
    if (err instanceof Int8DetectError) throw new Int8DetectError('ERR_MODEL', `${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

function positiveIntegerOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidArgument('a positive integer', name, value);
  return value;
}

/** Open a model on the best (or the requested) backend. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'createEngine(options)', options);
  const requested = options.backend ?? 'auto';
  if (requested !== 'auto' && !['onnxruntime', 'openvino', 'tensorrt'].includes(requested)) {
    throw invalidArgument("'auto', 'onnxruntime', 'openvino' or 'tensorrt'", 'options.backend', requested);
  }
  const precision = options.precision ?? 'auto';
  if (!['auto', 'fp32', 'fp16', 'int8'].includes(precision)) throw invalidArgument("'auto', 'fp32', 'fp16' or 'int8'", 'options.precision', precision);
  const concurrency = positiveIntegerOption(options.concurrency, 'options.concurrency', 1);
  const threads = options.threads === undefined ? config.ortIntraOpThreads : positiveIntegerOption(options.threads, 'options.threads', 1);
  const defaults = resolveDetectOptions(options.detect);

  const ir = isOpenVinoIrPath(options.model) ? await readOpenVinoIr(options.model) : undefined;
  const float = ir ?? (await readModelFile(options.model));
  const modelName = typeof options.model === 'string' ? options.model : IN_MEMORY_MODEL;
  const report = await probe();
  const choice = chooseBackend(report, ir && requested === 'auto' ? 'openvino' : requested);
  if (ir && choice.backend !== 'openvino') {
    throw new Int8DetectError('ERR_MODEL', `${ir.xmlPath} is an OpenVINO IR model: only backend 'openvino' runs it, not '${choice.backend}' (give the ONNX model instead)`);
  }
  // TensorRT builds FP16 and (with a calibrator or cache) implicit INT8 engines from a float model;
  // the other backends run a model as it is: a Q/DQ model in INT8, a float model in FP32, or
  // (precision 'int8' with a calibrator) the float model quantized first, or its cached quantization.
  const builds = choice.backend === 'tensorrt';
  const quantizable = !ir && !builds && options.calibrator !== undefined && !isQuantizedModel(countGraphOps(float.bytes));
  const int8Request = { bytes: float.bytes, info: float.info, modelName, backend: choice.backend, report, cacheDir: config.cacheDir, options };
  // precision 'auto' with a calibrator on OpenVINO: INT8 or FP32, whichever measured faster on the
  // device among those that pass the accuracy check (lib/quantize/precision-choice.ts).
  const measured =
    quantizable && precision === 'auto' && choice.backend === 'openvino'
      ? await (await import('./engine/precision-choice')).choosePrecisionByMeasurement(int8Request)
      : undefined;
  const int8 =
    quantizable && precision === 'int8'
      ? await (await import('./engine/int8')).quantizeForEngine(int8Request)
      : measured?.choice.chosen === 'int8'
        ? measured.int8
        : undefined;
  if (measured && !int8) await measured.int8.release?.();
  // An INT8 artefact opened from its path (OpenVINO IR in the INT8 cache).
  const int8Ir = int8?.modelPath !== undefined ? await readOpenVinoIr(int8.modelPath) : undefined;
  const { bytes, info } = int8Ir ?? (int8 ? { bytes: int8.bytes, info: parseModel(int8.bytes, modelName) } : float);
  const quantized = ir ? ir.quantized : int8Ir ? int8Ir.quantized : isQuantizedModel(countGraphOps(bytes));
  const served: Precision = quantized ? 'int8' : builds && precision !== 'auto' ? precision : 'fp32';
  if (!builds && ((precision === 'int8' && !quantized) || precision === 'fp16')) {
    throw new Int8DetectError(
      'ERR_ARGUMENT',
      `precision '${precision}' was requested, but ${modelName} is a float model and the ${choice.backend} backend runs models as they are; ` +
        `pass calibrator (an image folder or frames) to quantize it here, or quantize it first (int8-detect quantize: a Q/DQ model runs in INT8), or ask for precision 'fp32' or 'auto'`,
    );
  }
  const session = await backendImplementation(choice.backend).open({
    modelPath: int8Ir ? int8Ir.xmlPath : modelName,
    modelBytes: bytes,
    device: options.device,
    precision: served,
    concurrency,
    threads,
    cacheDir: config.cacheDir,
    ...(options.profileFilePrefix !== undefined ? { profileFilePrefix: options.profileFilePrefix } : {}),
    ...(options.tensorrt !== undefined ? { tensorrt: options.tensorrt } : {}),
    ...(options.openvino !== undefined ? { openvino: options.openvino } : {}),
  }).finally(() => int8?.release?.());
  let profile: ModelProfile;
  try {
    profile = await resolveModelProfile({
      info,
      inputs: session.inputs,
      outputs: session.outputs,
      overrides: { family: options.family, labels: options.labels, preprocess: options.preprocess },
    });
  } catch (err) {
    await session.dispose();
    throw err;
  }
  const precisionReason = measured
    ? measured.reason
    : int8
    ? `INT8 was requested with a calibrator: the float model was quantized (${int8.quantization.source === 'cache' ? 'from the cache' : 'just now'}) and runs in INT8`
    : quantized
    ? `the model is quantized (QuantizeLinear/DequantizeLinear nodes): it runs in INT8`
    : served !== 'fp32'
      ? `${served.toUpperCase()} was requested and TensorRT builds it from the float model`
      : `the model is a float model: it runs in FP32 as given`;
  return new DetectionEngine(session, profile, defaults, {
    backend: session.backend,
    device: session.device,
    precision: session.precision,
    ...(session.inferencePrecision !== undefined ? { inferencePrecision: session.inferencePrecision } : {}),
    runtimeVersion: session.runtimeVersion,
    model: {
      path: typeof options.model === 'string' ? path.resolve(options.model) : IN_MEMORY_MODEL,
      family: profile.family,
      inputs: session.inputs,
      outputs: session.outputs,
      opset: info.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version,
      producer: [info.producerName, info.producerVersion].filter(Boolean).join(' '),
      quantized,
    },
    preprocess: profile.preprocess,
    labels: profile.labels,
    concurrency: session.concurrency,
    reasons: { backend: choice.reason, model: profile.reason, precision: session.precisionDetail ? `${precisionReason}; ${session.precisionDetail}` : precisionReason, ...(int8 ? { quantization: int8.reason } : {}) },
    ...(int8 ? { quantization: int8.quantization } : {}),
    ...(measured ? { precisionChoice: measured.choice } : {}),
  });
}

class DetectionEngine implements Engine {
  private readonly buffers: ItemPool<InputTensor['data']>;
  private readonly inputName: string;
  private readonly inputDims: number[];
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private disposed = false;
  private disposing: Promise<void> | undefined;

  constructor(
    private readonly session: BackendSession,
    private readonly profile: ModelProfile,
    private readonly defaults: ReturnType<typeof resolveDetectOptions>,
    readonly info: EngineInfo,
  ) {
    const spec = profile.preprocess;
    this.inputName = session.inputs[0].name;
    this.inputDims = spec.layout === 'nchw' ? [1, channels(spec), spec.height, spec.width] : [1, spec.height, spec.width, channels(spec)];
    // One buffer per run in flight, plus one being filled while the others run.
    const count = session.concurrency + 1;
    const size = tensorSize(spec);
    this.buffers = new ItemPool<InputTensor['data']>(
      Array.from({ length: count }, () => (spec.dtype === 'uint8' ? new Uint8Array(size) : new Float32Array(size))),
    );
  }

  detect(frame: FrameInput, options?: DetectOptions): Promise<Detection[]> {
    return this.track(async () => {
      const opts = options === undefined ? this.defaults : resolveDetectOptions({ ...this.defaults, ...options });
      const raw = isRawFrame(frame) ? frame : await decodeFrameInput(frame);
      const validated = validateRawFrame(raw);
      let buffer = await this.buffers.acquire();
      try {
        const geometry = await preprocessFrame(validated, this.profile.preprocess, buffer);
        const result = await this.session.run({ [this.inputName]: { data: buffer, dims: this.inputDims } }, { transferInputs: true });
        buffer = result.inputs[this.inputName].data;
        return postprocess(floatOutputs(result.outputs), this.profile, geometry, opts);
      } finally {
        this.buffers.release(buffer);
      }
    });
  }

  infer(inputs: Record<string, InputTensor> | InputTensor['data']): Promise<Record<string, RawTensor>> {
    return this.track(async () => {
      let feeds: Record<string, InputTensor>;
      if (ArrayBuffer.isView(inputs)) {
        if (this.session.inputs.length !== 1) {
          throw invalidArgument(`named inputs (${this.session.inputs.map((i) => i.name).join(', ')})`, 'infer(inputs)', inputs);
        }
        feeds = { [this.inputName]: { data: inputs, dims: this.inputDims } };
      } else {
        feeds = inputs;
      }
      this.checkFeeds(feeds);
      const result = await this.session.run(feeds);
      return result.outputs;
    });
  }

  perfCounters(options?: { reset?: boolean }): PerfCounterReport | undefined {
    if (this.disposed) return undefined;
    return this.session.perfCounters?.(options?.reset ?? false);
  }

  dispose(): Promise<void> {
    if (!this.disposing) {
      this.disposed = true;
      this.disposing = (async () => {
        if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
        await this.session.dispose();
      })();
    }
    return this.disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private checkFeeds(feeds: Record<string, InputTensor>): void {
    for (const input of this.session.inputs) {
      const feed = feeds[input.name];
      if (!feed || !ArrayBuffer.isView(feed.data) || !Array.isArray(feed.dims)) {
        throw invalidArgument(`a tensor { data, dims } for input '${input.name}'`, 'infer(inputs)', feed);
      }
      const elements = feed.dims.reduce((a, b) => a * b, 1);
      if (elements !== feed.data.length) {
        throw new Int8DetectError(
          'ERR_ARGUMENT',
          `Input '${input.name}' has dims [${feed.dims.join(', ')}] (${elements} elements) but its data holds ${feed.data.length}`,
        );
      }
      const mismatch = input.dims.findIndex((d, i) => typeof d === 'number' && d > 0 && feed.dims[i] !== d);
      if (feed.dims.length !== input.dims.length || mismatch >= 0) {
        throw new Int8DetectError(
          'ERR_ARGUMENT',
          `Input '${input.name}' expects dims [${input.dims.join(', ')}] but received [${feed.dims.join(', ')}]`,
        );
      }
    }
  }

  /** Count a call in flight (dispose waits for it) and put errors on the caller's stack. */
  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.disposed) {
      return Promise.reject(new Int8DetectError('ERR_DISPOSED', 'This engine has been disposed: create a new one with createEngine()'));
    }
    this.inFlight++;
    return withCallerStack('ERR_INFERENCE', work).finally(() => {
      this.inFlight--;
      if (this.inFlight === 0 && this.idle) this.idle();
    });
  }
}

function channels(spec: PreprocessSpec): number {
  return spec.channelOrder === 'gray' ? 1 : 3;
}

async function decodeFrameInput(frame: FrameInput) {
  if (typeof frame === 'string' || Buffer.isBuffer(frame)) return decodeImage(frame);
  throw invalidArgument('a raw frame { data, width, height, format }, an encoded image Buffer or a file path', 'frame', frame);
}

function floatOutputs(outputs: Record<string, RawTensor>): OutputTensor[] {
  return Object.values(outputs).map((o) => {
    if (!(o.data instanceof Float32Array)) {
      throw new Int8DetectError('ERR_DECODER', `Output '${o.name}' is ${o.type}; the detection decoders read float32 outputs`);
    }
    return { name: o.name, dims: o.dims, data: o.data };
  });
}
