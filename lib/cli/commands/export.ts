/** `int8-detect export --triton`: a detector, quantized to INT8, as a model of a Triton model repository. */
import { exportToTriton, type PythonRuntime } from '../../runtimes/triton/export/export-repository';
import { TRITON_FLAVOURS, type TritonFlavour } from '../../runtimes/triton/export/config-pbtxt';
import { parseCommandArgs, parseNumber, requireString, UsageError } from '../args';
import type { Command } from '../main';
import { ProgressBar } from '../progress';

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a detector (quantized to INT8) into a Triton model repository',
  help: `Usage: int8-detect export --triton REPO --model M [--backend onnxruntime|openvino|tensorrt|python] [options]

Writes REPO/NAME/config.pbtxt and REPO/NAME/1/<model>: the INT8 model, a configuration for
Triton Inference Server with dynamic batching and instance groups, and the detector's profile
(family, preprocessing, class names) in the configuration's parameters, so that
createEngine({ backend: 'triton', url, model: NAME }) needs no local model file.

A float model is quantized with the images of --calibration by the same flow (and the same INT8
cache) as createEngine({ precision: 'int8', calibrator }); a Q/DQ model is exported as it is.
The model's batch dimension is made dynamic (checked on a batch of two) so Triton can batch
requests from all clients, up to --max-batch.

Backends:
  onnxruntime  Triton's onnxruntime_onnx backend: model.onnx (Q/DQ, with ONNX Runtime's INT8 lowerings)
  openvino     Triton's openvino backend: model.xml + model.bin (OpenVINO INT8 IR)
  tensorrt     Triton's tensorrt_plan backend: model.plan built here for this GPU (explicit INT8), with its sidecar
  python       Triton's Python backend running int8-detect's model.py on ONNX Runtime or OpenVINO
               (for Triton builds without the backends above; needs onnxruntime/openvino in its Python)

Options:
      --triton REPO          the model repository folder (created when absent)
  -m, --model PATH           float or Q/DQ ONNX detector (YOLOX, YOLOv5, YOLOv8 or YOLO11 export)
  -b, --backend NAME         onnxruntime (default), openvino, tensorrt or python
      --name NAME            the model's name in the repository (default: the model file's base name)
      --calibration DIR      calibration images, to quantize a float model
      --precision P          int8 (default) or fp32 (export the float model as it is)
      --max-batch N          largest dynamic batch (default 8); 0: fixed batch, no dynamic batching
      --max-queue-delay-us N how long Triton may hold a request to fill a batch (default 500)
      --instances N          model instances (default 1)
      --runtime R            python backend: onnxruntime (default) or openvino
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
    const flavour = (values.backend ?? 'onnxruntime') as TritonFlavour;
    if (!TRITON_FLAVOURS.includes(flavour)) throw new UsageError(`--backend expects ${TRITON_FLAVOURS.join(', ')}, got ${String(values.backend)}`);
    const runtime = values.runtime as PythonRuntime | undefined;
    if (runtime !== undefined && runtime !== 'onnxruntime' && runtime !== 'openvino') throw new UsageError(`--runtime expects onnxruntime or openvino, got ${runtime}`);
    if (runtime !== undefined && flavour !== 'python') throw new UsageError('--runtime is for --backend python');
    const precision = values.precision as string | undefined;
    if (precision !== undefined && precision !== 'int8' && precision !== 'fp32') throw new UsageError(`--precision expects int8 or fp32, got ${precision}`);
    const family = values.family as string | undefined;
    if (family !== undefined && family !== 'yolox' && family !== 'yolov5' && family !== 'yolov8') throw new UsageError(`--family expects yolox, yolov5 or yolov8, got ${family}`);
    const maxBatch = parseNumber(values['max-batch'], '--max-batch', { integer: true, min: 0 });
    const queueDelay = parseNumber(values['max-queue-delay-us'], '--max-queue-delay-us', { integer: true, min: 0 });
    const instances = parseNumber(values.instances, '--instances', { integer: true, min: 1 });
    const threads = parseNumber(values.threads, '--threads', { integer: true, min: 0 });
    const version = parseNumber(values.version, '--version', { integer: true, min: 1 });

    let bar: ProgressBar | undefined;
    let phase: string | undefined;
    const result = await exportToTriton({
      repository,
      model,
      flavour,
      ...(values.name !== undefined ? { name: values.name as string } : {}),
      ...(values.calibration !== undefined ? { calibration: values.calibration as string } : {}),
      ...(precision !== undefined ? { precision } : {}),
      ...(maxBatch !== undefined ? { maxBatch } : {}),
      ...(queueDelay !== undefined ? { maxQueueDelayMicroseconds: queueDelay } : {}),
      ...(instances !== undefined ? { instances } : {}),
      ...(runtime !== undefined ? { pythonRuntime: runtime } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...(version !== undefined ? { version } : {}),
      ...(family !== undefined ? { family } : {}),
      ...(values.labels !== undefined ? { labels: values.labels as string } : {}),
      onProgress: values.json
        ? undefined
        : (progress) => {
            if (progress.total === undefined || progress.done === undefined) return;
            if (!bar || phase !== progress.phase) {
              bar?.done();
              phase = progress.phase;
              bar = new ProgressBar(progress.phase, progress.total);
            }
            bar.update(progress.done);
          },
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
