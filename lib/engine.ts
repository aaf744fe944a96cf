/**
 * The public Engine: one API whatever the runtime. createEngine() makes the decisions (which
 * backend, which model, which precision) from the options, the probe and the backends'
 * capabilities, and says why in engine.info.reasons; it names no backend. detect() runs a frame
 * through preprocessing, the backend, the decoder and NMS (lib/detect/detector.ts).
 */
import * as path from 'node:path';
import { Detector } from './detect/detector';
import { backendSettings, resolveEngineOptions, type ResolvedEngineOptions } from './engine/options';
import { quantizeForEngine, type Int8EngineResult } from './engine/int8';
import { choosePrecisionByMeasurement, type PrecisionChoiceResult } from './engine/precision-choice';
import type { Engine, EngineInfo, EngineOptions } from './engine/types';
import { chooseBackend, probe } from './probe';
import type { BackendDescriptor, Precision } from './runtimes/backend';
import './runtimes/builtin';
import { IN_MEMORY_MODEL, onnxModelSource, openSessionWithProfile, readModelFor, readOnnxModel, type DetectorSettings, type ModelSource } from './runtimes/open-detector';
import { registeredBackends, backendDescriptor } from './runtimes/registry';
import type { BackendSession } from './runtimes/session';
import { config } from './util/config';
import { Int8DetectError, invalidArgument } from './util/errors';
import { resolveModelProfile, type ModelProfile } from './detect/profile';

export type { Engine, EngineInfo, EngineOptions } from './engine/types';

class DetectionEngine extends Detector implements Engine {
  constructor(session: BackendSession, profile: ModelProfile, defaults: ConstructorParameters<typeof Detector>[2], readonly info: EngineInfo) {
    super(session, profile, defaults, info.batch);
  }
}

/** The backend that alone reads this model file (an OpenVINO IR), if one does. */
function fileReader(model: unknown): BackendDescriptor | undefined {
  return typeof model === 'string' ? registeredBackends().find((d) => d.readsModelFile?.(model)) : undefined;
}

/** Open a model on the best (or the requested) backend. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const resolved = resolveEngineOptions(options);
  const { requested, precision } = resolved;
  const named = requested === 'auto' ? undefined : backendDescriptor(requested);
  if (named?.openServed) return openServedEngine(named, options, resolved);
  const reader = fileReader(options.model);
  const report = await probe();
  const choice = chooseBackend(report, reader && requested === 'auto' ? reader.name : requested);
  const backend = backendDescriptor(choice.backend);
  if (reader && reader !== backend) {
    throw new Int8DetectError('ERR_MODEL', `${String(options.model)} is an ${reader.title} model file: only backend '${reader.name}' runs it, not '${backend.name}' (give the ONNX model instead)`);
  }
  const modelName = typeof options.model === 'string' ? options.model : IN_MEMORY_MODEL;
  const given: ModelSource = reader ? await readModelFor(reader, options.model) : await readOnnxModel(options.model);
  const { capabilities } = backend;
  const settings: DetectorSettings = {
    ...(options.device !== undefined ? { device: options.device } : {}),
    concurrency: resolved.concurrency,
    threads: resolved.threads,
    ...(resolved.batch > 1 ? { batch: resolved.batch } : {}),
    overrides: { family: options.family, outputLayout: options.outputLayout, labels: options.labels, preprocess: options.preprocess },
    ...(backendSettings(options, backend.name) !== undefined ? { settings: backendSettings(options, backend.name) as DetectorSettings['settings'] } : {}),
  };

  // A backend that builds from the float model (TensorRT: FP16, implicit INT8) gets it as it is;
  // the others run a model as it is: a quantized model in INT8, a float model in FP32, or (precision
  // 'int8' with a calibrator) the float model quantized first, or its cached quantization.
  const quantizable = !reader && !capabilities.buildsFromFloat && options.calibrator !== undefined && !given.quantized;
  const int8Request = { bytes: given.bytes, info: given.info, modelName, backend, cacheDir: config.cacheDir, options: { ...options, threads: options.threads } };
  let measured: PrecisionChoiceResult | undefined;
  let int8: Int8EngineResult | undefined;
  if (quantizable && precision === 'auto' && capabilities.measuresPrecision) {
    measured = await choosePrecisionByMeasurement({ ...int8Request, probe: report.backends[backend.name], detector: settings });
    if (measured.choice.chosen === 'int8') int8 = measured.int8;
    else await measured.int8.release?.();
  } else if (quantizable && precision === 'int8') {
    int8 = await quantizeForEngine(int8Request);
  }
  const served: ModelSource = int8 === undefined ? given : int8.modelPath !== undefined ? await readModelFor(backend, int8.modelPath) : onnxModelSource(int8.bytes, modelName);
  const builds = capabilities.buildsFromFloat && precision !== 'auto';
  const servedPrecision: Precision = served.quantized ? 'int8' : builds ? precision : 'fp32';
  if (!capabilities.buildsFromFloat && ((precision === 'int8' && !served.quantized) || precision === 'fp16')) {
    throw new Int8DetectError(
      'ERR_ARGUMENT',
      (spell) =>
        `${spell('precision', [precision])} was requested, but ${modelName} is a float model and the ${backend.name} backend runs models as they are; ` +
        `pass ${spell('calibrator')} (calibration images) to quantize it here, or quantize it first (int8-detect quantize: a Q/DQ model runs in INT8), or ask for ${spell('precision', ['fp32'])} or ${spell('precision', ['auto'])}`,
      { option: 'calibrator' },
    );
  }
  const { session, profile } = await openSessionWithProfile(backend, served, servedPrecision, settings).finally(() => int8?.release?.());

  const precisionReason = measured
    ? measured.reason
    : int8
      ? `INT8 was requested with a calibrator: the float model was quantized (${int8.quantization.source === 'cache' ? 'from the cache' : 'just now'}) and runs in INT8`
      : served.quantized
        ? `the model is quantized (${reader ? 'quantized layers in the file' : 'QuantizeLinear/DequantizeLinear nodes'}): it runs in INT8`
        : servedPrecision !== 'fp32'
          ? `${servedPrecision.toUpperCase()} was requested and ${backend.title} builds it from the float model`
          : `the model is a float model: it runs in FP32 as given`;
  const { info } = served;
  return new DetectionEngine(session, profile, resolved.detect, {
    backend: backend.name,
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
      quantized: served.quantized,
    },
    preprocess: profile.preprocess,
    labels: profile.labels,
    concurrency: session.concurrency,
    batch: resolved.batch,
    reasons: {
      backend: choice.reason,
      model: profile.reason,
      precision: session.precisionDetail ? `${precisionReason}; ${session.precisionDetail}` : precisionReason,
      ...(int8 ? { quantization: int8.reason } : {}),
    },
    ...(int8 ? { quantization: int8.quantization } : {}),
    ...(measured ? { precisionChoice: measured.choice } : {}),
  });
}

/**
 * A model a server holds (a backend with openServed): `model` is its name there. The server runs
 * the network as it holds it; preprocessing, decoding and NMS run here from the profile the server
 * keeps with the model, the options winning field by field.
 */
async function openServedEngine(backend: BackendDescriptor, options: EngineOptions, resolved: ResolvedEngineOptions): Promise<Engine> {
  if (typeof options.model !== 'string' || options.model === '') throw invalidArgument(`the model's name on the ${backend.title} server`, 'options.model', options.model);
  if (options.calibrator !== undefined) {
    throw new Int8DetectError('ERR_ARGUMENT', `A model on a ${backend.title} server runs as the server holds it, so calibrator does not apply: quantize it before it is served (int8-detect export)`);
  }
  if (options.device !== undefined) throw new Int8DetectError('ERR_ARGUMENT', `device does not apply to a model on a ${backend.title} server: the server decides where it runs`);
  const settings = backendSettings(options, backend.name) as Parameters<NonNullable<BackendDescriptor['openServed']>>[0]['settings'];
  const served = await backend.openServed!({ model: options.model, concurrency: resolved.concurrency, ...(settings !== undefined ? { settings } : {}) });
  const { session } = served;
  let profile: ModelProfile;
  try {
    if (resolved.precision !== 'auto' && resolved.precision !== session.precision) {
      throw new Int8DetectError('ERR_ARGUMENT', `precision '${resolved.precision}' was requested, but the server runs ${served.path} in ${session.precision.toUpperCase()}`);
    }
    const given = served.overrides;
    profile = resolveModelProfile({
      info: served.info,
      inputs: session.inputs,
      outputs: session.outputs,
      overrides: {
        family: options.family ?? given.family,
        ...(options.outputLayout !== undefined ? { outputLayout: options.outputLayout } : {}),
        labels: options.labels ?? given.labels,
        ...(given.preprocess || options.preprocess ? { preprocess: { ...given.preprocess, ...options.preprocess } } : {}),
      },
    });
  } catch (err) {
    await session.dispose();
    throw err;
  }
  return new DetectionEngine(session, profile, resolved.detect, {
    backend: backend.name,
    device: session.device,
    precision: session.precision,
    runtimeVersion: session.runtimeVersion,
    model: {
      path: served.path,
      family: profile.family,
      inputs: session.inputs,
      outputs: session.outputs,
      opset: undefined,
      producer: served.info.producerName,
      quantized: served.quantized,
    },
    preprocess: profile.preprocess,
    labels: profile.labels,
    concurrency: session.concurrency,
    // One frame per request: the server batches requests from all its clients (dynamic batching).
    batch: 1,
    reasons: {
      backend: served.reason,
      model: `${served.profileSource}; ${profile.reason}`,
      precision: session.precisionDetail ?? `the server runs the model in ${session.precision.toUpperCase()}`,
    },
  });
}
