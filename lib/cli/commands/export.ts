/**
 * `int8-detect export --triton`: a detector, quantized to INT8, as a model of a Triton model
 * repository. The INT8 model comes through the public engine: createEngine({ precision: 'int8',
 * calibrator }) quantizes the float model with the default flow, or finds it in the INT8 cache,
 * where a local engine with the same model and calibration finds it too; engine.info gives the
 * detector's profile. The repository's format is the triton runtime's (writeTritonModel).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../../engine';
import type { EngineInfo } from '../../engine/types';
import type { DetectorFamily } from '../../detect/types';
import type { BackendName } from '../../runtimes/backend';
import { embeddedBackend, isBackendName } from '../../runtimes/registry';
import { FLAVOURS, PYTHON_RUNTIMES, PYTHON_RUNTIME_NAMES, TRITON_FLAVOURS, type PythonRuntime, type TritonFlavour } from '../../runtimes/triton/export/config-pbtxt';
import { batchDynamicBytes } from '../../onnx/dynamic-batch';
import { writeTritonModel, type ExportArtefact } from '../../runtimes/triton/export/write-model';
import type { QuantizeProgress } from '../../quantize/pipeline';
import { Int8DetectError, invalidArgument } from '../../util/errors';
import { companionPath } from '../../util/files';
import { parseCommandArgs, parseNumber, requireString, UsageError } from '../args';
import type { Command } from '../command';
import { ProgressBar } from '../progress';
import { DEFAULT_MAX_DROP } from '../../quantize/mixed-precision';

export interface TritonExportOptions {
  /** The model repository folder (created when absent). */
  repository: string;
  /** The detector: a float ONNX model (quantized here with `calibration`) or a Q/DQ one. */
  model: string;
  /** Triton's backend that serves it (default: its ONNX Runtime backend, the first of TRITON_FLAVOURS). */
  flavour?: TritonFlavour;
  name?: string;
  version?: number;
  /** Largest dynamic batch (default 8); 0 keeps the model's fixed batch and turns batching off. */
  maxBatch?: number;
  instances?: number;
  maxQueueDelayMicroseconds?: number;
  /** Calibration images for a float model. */
  calibration?: string;
  /** With calibration: the largest estimated mAP drop the label-free check accepts (createEngine's maxDrop). */
  maxDrop?: number;
  /** With calibration: false keeps every activation in INT8 (the check still runs and is reported). */
  search?: boolean;
  /** 'int8' (default) or 'fp32' (the float model as it is). */
  precision?: 'int8' | 'fp32';
  pythonRuntime?: PythonRuntime;
  threads?: number;
  family?: DetectorFamily;
  labels?: string | readonly string[];
  onProgress?: (progress: QuantizeProgress) => void;
}

export interface TritonExportResult {
  name: string;
  modelDir: string;
  configPath: string;
  files: string[];
  flavour: TritonFlavour;
  maxBatchSize: number;
  family: DetectorFamily;
  precision: string;
  /** How the model was obtained, in words. */
  quantization: string;
  dynamicBatchReshapes: string[];
}

function integerOption(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalidArgument(`an integer >= ${min}`, name, value);
  return value;
}

/** The int8-detect backend that makes the model Triton's `flavour` backend serves. */
function makerOf(flavour: TritonFlavour, runtime: PythonRuntime): BackendName {
  const madeBy = FLAVOURS[flavour].madeBy;
  const name = madeBy === 'embedded' ? embeddedBackend().name : madeBy === 'runtime' ? runtime : flavour;
  if (!isBackendName(name)) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `Triton's ${flavour} backend serves a model int8-detect's ${name} backend makes, and this build has no such backend`);
  return name;
}

export async function exportToTriton(options: TritonExportOptions): Promise<TritonExportResult> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'exportToTriton(options)', options);
  if (typeof options.repository !== 'string' || options.repository === '') throw invalidArgument('a folder path', 'options.repository', options.repository);
  if (typeof options.model !== 'string' || options.model === '') throw invalidArgument('an ONNX model path', 'options.model', options.model);
  const flavour = options.flavour ?? TRITON_FLAVOURS[0];
  if (!TRITON_FLAVOURS.includes(flavour)) throw invalidArgument(TRITON_FLAVOURS.join(', '), 'options.flavour', flavour);
  const runtime = options.pythonRuntime ?? PYTHON_RUNTIME_NAMES[0];
  if (!PYTHON_RUNTIME_NAMES.includes(runtime)) throw invalidArgument(PYTHON_RUNTIME_NAMES.join(' or '), 'options.pythonRuntime', runtime);
  const precision = options.precision ?? 'int8';
  if (precision !== 'int8' && precision !== 'fp32') throw invalidArgument("'int8' or 'fp32'", 'options.precision', precision);
  const maxBatch = integerOption(options.maxBatch, 'options.maxBatch', 8, 0);
  const backend = makerOf(flavour, runtime);
  const makesIr = (FLAVOURS[flavour].madeBy === 'runtime' ? PYTHON_RUNTIMES[runtime].modelFile : FLAVOURS[flavour].modelFile).endsWith('.xml');

  // Before minutes of quantization: a plan must be built here, by a backend that runs here.
  if (FLAVOURS[flavour].madeBy === 'embedded' && isBackendName(flavour)) {
    const { probe } = await import('../../probe');
    const entry = (await probe()).backends[flavour];
    if (!entry.available) throw new Int8DetectError('ERR_BACKEND_UNAVAILABLE', `export --backend ${flavour} builds the model for this machine, but ${flavour} cannot run here: ${entry.reason ?? 'not available'}`);
  }

  // An IR cannot be rewritten afterwards: it is quantized from the batch-dynamic float model,
  // written under the model's own file name so its INT8 cache entry is named after it.
  const staging = makesIr && maxBatch > 0 ? await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-export-')) : undefined;
  let engineModel = options.model;
  if (staging) {
    engineModel = path.join(staging, path.basename(options.model));
    await fs.writeFile(engineModel, batchDynamicBytes(await fs.readFile(options.model)).bytes);
  }
  let info: EngineInfo;
  let artefact: ExportArtefact;
  try {
    const engine = await createEngine({
      model: engineModel,
      backend,
      precision: precision === 'fp32' ? 'fp32' : options.calibration !== undefined ? 'int8' : 'auto',
      ...(options.calibration !== undefined && precision === 'int8' ? { calibrator: options.calibration } : {}),
      ...(options.maxDrop !== undefined ? { maxDrop: options.maxDrop } : {}),
      ...(options.search === false ? { quantization: { search: false } } : {}),
      ...(options.family !== undefined ? { family: options.family } : {}),
      ...(options.labels !== undefined ? { labels: options.labels } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    info = engine.info;
    await engine.dispose();
    if (precision === 'int8' && info.precision !== 'int8') {
      throw new Int8DetectError('ERR_ARGUMENT', `${options.model} is a float model: give calibration images (--calibration DIR) to quantize it to INT8, or export it as it is with precision 'fp32'`);
    }
    // The INT8 model from the cache (an IR with its .bin, or Q/DQ ONNX), or the model as given
    // (whose batch the writer makes dynamic, and checks).
    const cached = info.quantization?.cachePath ?? undefined;
    artefact =
      cached && cached.endsWith('.xml')
        ? { kind: 'ir', xml: cached, bin: companionPath(cached, '.bin'), inputs: info.model.inputs, outputs: info.model.outputs }
        : { kind: 'onnx', bytes: await fs.readFile(cached ?? options.model) };
    const written = await writeTritonModel({
      repository: options.repository,
      name: options.name ?? path.basename(options.model).replace(/\.onnx$/i, ''),
      version: integerOption(options.version, 'options.version', 1, 1),
      flavour,
      pythonRuntime: runtime,
      maxBatch,
      instances: integerOption(options.instances, 'options.instances', 1, 1),
      maxQueueDelayMicroseconds: integerOption(options.maxQueueDelayMicroseconds, 'options.maxQueueDelayMicroseconds', 500, 0),
      threads: integerOption(options.threads, 'options.threads', 0, 0),
      artefact,
      profile: { family: info.model.family, preprocess: info.preprocess, labels: info.labels, precision: info.precision },
      sourceModel: path.basename(options.model),
    });
    const quantization = info.quantization
      ? `quantized by createEngine on ${info.backend} (${info.quantization.source === 'cache' ? 'from the INT8 cache' : 'just now'}, ${info.quantization.calibrationFrames} calibration frames, cached at ${info.quantization.cachePath ?? 'nowhere'})`
      : info.model.quantized
        ? 'the model is already quantized'
        : 'the float model as it is (precision fp32)';
    return {
      name: path.basename(written.modelDir),
      modelDir: written.modelDir,
      configPath: written.configPath,
      files: written.files,
      flavour,
      maxBatchSize: maxBatch,
      family: info.model.family,
      precision: info.precision,
      quantization,
      dynamicBatchReshapes: staging ? batchDynamicBytes(await fs.readFile(options.model)).reshapes : written.dynamicBatchReshapes,
    };
  } finally {
    if (staging) await fs.rm(staging, { recursive: true, force: true });
  }
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a detector (quantized to INT8) into a Triton model repository',
  help: `Usage: int8-detect export --triton REPO --model M [--backend ${TRITON_FLAVOURS.join('|')}] [options]

Writes REPO/NAME/config.pbtxt and REPO/NAME/1/<model>: the INT8 model, a configuration for
Triton Inference Server with dynamic batching and instance groups, and the detector's profile
(family, preprocessing, class names) in the configuration's parameters, so that an engine on the
server's model (--backend triton --url URL --model NAME) needs no local model file.

A float model is quantized with the images of --calibration by the same flow (and the same INT8
cache) as createEngine({ precision: 'int8', calibrator }); a Q/DQ model is exported as it is.
The model's batch dimension is made dynamic (checked on a batch of two) so Triton can batch
requests from all clients, up to --max-batch.

Triton backends (--backend):
  ${TRITON_FLAVOURS[0].padEnd(11)}  Triton's onnxruntime_onnx backend: model.onnx (Q/DQ, with ONNX Runtime's INT8 lowerings)
  ${TRITON_FLAVOURS[1].padEnd(11)}  Triton's openvino backend: model.xml + model.bin (OpenVINO INT8 IR)
  ${TRITON_FLAVOURS[2].padEnd(11)}  Triton's tensorrt_plan backend: model.plan built here for this GPU (explicit INT8), with its sidecar
  ${TRITON_FLAVOURS[3].padEnd(11)}  Triton's Python backend running int8-detect's model.py on ONNX Runtime or OpenVINO
               (for Triton builds without the backends above; their Python needs onnxruntime or openvino)

Options:
      --triton REPO          the model repository folder (created when absent)
  -m, --model PATH           float or Q/DQ ONNX detector (YOLOX, YOLOv5, YOLOv8 or YOLO11 export)
  -b, --backend NAME         Triton's backend: ${TRITON_FLAVOURS.join(', ')} (default ${TRITON_FLAVOURS[0]})
      --name NAME            the model's name in the repository (default: the model file's base name)
      --calibration DIR      calibration images, to quantize a float model
      --max-drop D           with --calibration: the largest estimated mAP drop the check accepts (${DEFAULT_MAX_DROP})
      --no-search            with --calibration: keep every activation in INT8 (the check is still reported)
      --precision P          int8 (default) or fp32 (export the float model as it is)
      --max-batch N          largest dynamic batch (default 8); 0: fixed batch, no dynamic batching
      --max-queue-delay-us N how long Triton may hold a request to fill a batch (default 500)
      --instances N          model instances (default 1)
      --runtime R            python backend: ${PYTHON_RUNTIME_NAMES.join(' (default) or ')}
      --threads N            python backend: threads per instance (default: the runtime's choice)
      --version N            version folder (default 1)
      --family NAME          yolox, yolov5 or yolov8 when the model does not say it
      --labels PATH          class names: one a line, or a JSON array/object
      --json                 print the result as one JSON object
  -h, --help                 show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      {
        triton: { type: 'string' },
        model: { type: 'string', short: 'm' },
        backend: { type: 'string', short: 'b' },
        name: { type: 'string' },
        calibration: { type: 'string' },
        'max-drop': { type: 'string' },
        'no-search': { type: 'boolean' },
        precision: { type: 'string' },
        'max-batch': { type: 'string' },
        'max-queue-delay-us': { type: 'string' },
        instances: { type: 'string' },
        runtime: { type: 'string' },
        threads: { type: 'string' },
        version: { type: 'string' },
        family: { type: 'string' },
        labels: { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    const repository = requireString(values.triton, '--triton');
    const model = requireString(values.model, '--model');
    const flavour = (values.backend ?? TRITON_FLAVOURS[0]) as TritonFlavour;
    if (!TRITON_FLAVOURS.includes(flavour)) throw new UsageError(`--backend expects ${TRITON_FLAVOURS.join(', ')}, got ${String(values.backend)}`);
    const runtime = values.runtime as PythonRuntime | undefined;
    if (runtime !== undefined && !PYTHON_RUNTIME_NAMES.includes(runtime)) throw new UsageError(`--runtime expects ${PYTHON_RUNTIME_NAMES.join(' or ')}, got ${runtime}`);
    if (runtime !== undefined && FLAVOURS[flavour].madeBy !== 'runtime') throw new UsageError(`--runtime is for --backend ${TRITON_FLAVOURS[3]}`);
    const precision = values.precision as string | undefined;
    if (precision !== undefined && precision !== 'int8' && precision !== 'fp32') throw new UsageError(`--precision expects int8 or fp32, got ${precision}`);
    const family = values.family as string | undefined;
    if (family !== undefined && family !== 'yolox' && family !== 'yolov5' && family !== 'yolov8') throw new UsageError(`--family expects yolox, yolov5 or yolov8, got ${family}`);
    const maxBatch = parseNumber(values['max-batch'], '--max-batch', { integer: true, min: 0 });
    const queueDelay = parseNumber(values['max-queue-delay-us'], '--max-queue-delay-us', { integer: true, min: 0 });
    const instances = parseNumber(values.instances, '--instances', { integer: true, min: 1 });
    const threads = parseNumber(values.threads, '--threads', { integer: true, min: 0 });
    const version = parseNumber(values.version, '--version', { integer: true, min: 1 });
    const maxDrop = parseNumber(values['max-drop'], '--max-drop', { min: 0, max: 1 });
    if ((maxDrop !== undefined || values['no-search']) && values.calibration === undefined) throw new UsageError('--max-drop and --no-search go with --calibration DIR');

    let bar: ProgressBar | undefined;
    let phase: string | undefined;
    const result = await exportToTriton({
      repository,
      model,
      flavour,
      ...(values.name !== undefined ? { name: values.name as string } : {}),
      ...(values.calibration !== undefined ? { calibration: values.calibration as string } : {}),
      ...(maxDrop !== undefined ? { maxDrop } : {}),
      ...(values['no-search'] ? { search: false } : {}),
      ...(precision !== undefined ? { precision } : {}),
      ...(maxBatch !== undefined ? { maxBatch } : {}),
      ...(queueDelay !== undefined ? { maxQueueDelayMicroseconds: queueDelay } : {}),
      ...(instances !== undefined ? { instances } : {}),
      ...(runtime !== undefined ? { pythonRuntime: runtime } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...(version !== undefined ? { version } : {}),
      ...(family !== undefined ? { family } : {}),
      ...(values.labels !== undefined ? { labels: values.labels as string } : {}),
      ...(values.json
        ? {}
        : {
            onProgress: (progress: QuantizeProgress) => {
              if (progress.total === undefined || progress.done === undefined) return;
              if (!bar || phase !== progress.phase) {
                bar?.done();
                phase = progress.phase;
                bar = new ProgressBar(progress.phase, progress.total);
              }
              bar.update(progress.done);
            },
          }),
    });
    bar?.done();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    process.stdout.write(
      [
        `exported ${result.name} (${result.family}, ${result.precision}) for Triton's ${result.flavour} backend into ${result.modelDir}`,
        `  files: ${result.files.join(', ')}`,
        `  max_batch_size ${result.maxBatchSize}${result.maxBatchSize > 0 ? `, dynamic batching; batch made dynamic in ${result.dynamicBatchReshapes.length} Reshape nodes` : ', no dynamic batching'}`,
        `  model: ${result.quantization}`,
        '',
      ].join('\n'),
    );
  },
};
