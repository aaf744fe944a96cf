/** `int8-detect build`: a TensorRT plan from an ONNX model, FP32, FP16 or INT8, into the engine cache or a file. */
import { promises as fs } from 'node:fs';
import { resolveModelProfile } from '../../detect/profile';
import { readModelInfo } from '../../onnx/model-info';
import { calibratorFromFolder } from '../../quantize/calibrator';
import { buildTensorRtPlan, type TensorRtBuildEvent, type TensorRtBuildOptions } from '../../runtimes/tensorrt/build-plan';
import { folderCalibrationId } from '../../runtimes/tensorrt/calibration-id';
import type { InputShapeSpec } from '../../runtimes/tensorrt/input-shapes';
import { loadTensorRtModule } from '../../runtimes/tensorrt/module';
import { parseCommandArgs, parseNumber, requireString, UsageError } from '../args';
import type { Command } from '../command';
import { ProgressBar } from '../progress';

/** "images=1x3x640x640" or "images=1x3x320x320:1x3x640x640:1x3x1280x1280" (min:opt:max). */
export function parseShapeFlag(text: string): [string, InputShapeSpec] {
  const match = /^([^=]+)=(.+)$/.exec(text);
  const dims = (part: string) => {
    const values = part.split('x').map(Number);
    if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new UsageError(`--shape expects NAME=1x3x640x640 or NAME=MIN:OPT:MAX, got ${text}`);
    return values;
  };
  if (!match) throw new UsageError(`--shape expects NAME=1x3x640x640 or NAME=MIN:OPT:MAX, got ${text}`);
  const parts = match[2].split(':');
  if (parts.length === 1) return [match[1], dims(parts[0])];
  if (parts.length !== 3) throw new UsageError(`--shape expects NAME=MIN:OPT:MAX with three shapes, got ${text}`);
  return [match[1], { min: dims(parts[0]), opt: dims(parts[1]), max: dims(parts[2]) }];
}

export const buildCommand: Command = {
  name: 'build',
  summary: 'build a TensorRT engine (plan) from an ONNX model: fp32, fp16 or int8',
  help: `Usage: int8-detect build --model M --precision fp32|fp16|int8 [--calib DIR | --calib-cache FILE] [--out PLAN]

Builds a TensorRT plan and stores it with a JSON sidecar (PLAN.json: cache key and build settings).
A valid plan already in place is reused; one built by another TensorRT version or for another GPU
is rebuilt. INT8 comes from Q/DQ nodes when the model has them (explicit quantization, TensorRT
10 and 11); for a float model, from TensorRT's calibrator fed with the images of --calib, or from a
calibration cache (--calib-cache; ours, the portable quantizer's or TensorRT's own), TensorRT <= 10.

Options:
  -m, --model PATH          ONNX model
      --precision P         fp32, fp16 or int8
      --calib DIR           calibration images (implicit INT8): preprocessed as the model expects
      --calib-limit N       use at most N calibration images
      --calib-algorithm A   entropy2 (default; DLA needs it) or minmax
      --calib-cache FILE    calibration cache (implicit INT8 without calibrating on the device)
      --out PLAN            where to write the plan (default: the engine cache)
      --shape NAME=DIMS     shape of a dynamic input: 1x3x640x640, or MIN:OPT:MAX
      --workspace MIB       builder workspace limit in MiB (default: TensorRT's)
      --dla-core N          build for a Jetson DLA core (with GPU fallback)
      --device N            CUDA device index (default 0)
      --rebuild             build even when a valid plan is cached
      --json                print the result as one JSON object
  -h, --help                show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      {
        model: { type: 'string', short: 'm' },
        precision: { type: 'string' },
        calib: { type: 'string' },
        'calib-limit': { type: 'string' },
        'calib-algorithm': { type: 'string' },
        'calib-cache': { type: 'string' },
        out: { type: 'string' },
        shape: { type: 'string', multiple: true },
        workspace: { type: 'string' },
        'dla-core': { type: 'string' },
        device: { type: 'string' },
        rebuild: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      false,
    );
    const model = requireString(values.model, '--model');
    const precision = requireString(values.precision, '--precision');
    if (precision !== 'fp32' && precision !== 'fp16' && precision !== 'int8') throw new UsageError(`--precision expects fp32, fp16 or int8, got ${precision}`);
    const calib = values.calib as string | undefined;
    const calibCache = values['calib-cache'] as string | undefined;
    if (calib !== undefined && calibCache !== undefined) throw new UsageError('give --calib DIR or --calib-cache FILE, not both');
    if ((calib !== undefined || calibCache !== undefined) && precision !== 'int8') throw new UsageError('--calib and --calib-cache are for --precision int8');
    const algorithm = values['calib-algorithm'] as string | undefined;
    if (algorithm !== undefined && algorithm !== 'entropy2' && algorithm !== 'minmax') throw new UsageError(`--calib-algorithm expects entropy2 or minmax, got ${algorithm}`);
    const limit = parseNumber(values['calib-limit'], '--calib-limit', { integer: true, min: 1 });
    const workspace = parseNumber(values.workspace, '--workspace', { integer: true, min: 1 });
    const dlaCore = parseNumber(values['dla-core'], '--dla-core', { integer: true, min: 0 });
    const device = parseNumber(values.device, '--device', { integer: true, min: 0 });
    const shapes = Object.fromEntries(((values.shape as unknown as string[] | undefined) ?? []).map(parseShapeFlag));

    // Before reading images: without TensorRT there is nothing to build with.
    const loaded = await loadTensorRtModule();
    const options: TensorRtBuildOptions = {
      precision,
      ...(calibCache !== undefined ? { calibrationCache: calibCache } : {}),
      ...(algorithm !== undefined ? { calibrationAlgorithm: algorithm } : {}),
      ...(values.out !== undefined ? { plan: values.out as string } : {}),
      ...(Object.keys(shapes).length > 0 ? { inputShapes: shapes } : {}),
      ...(workspace !== undefined ? { workspaceBytes: workspace * 2 ** 20 } : {}),
      ...(dlaCore !== undefined ? { dlaCore } : {}),
      ...(device !== undefined ? { device } : {}),
      ...(values.rebuild ? { rebuild: true } : {}),
    };
    let calibrationBar: ProgressBar | undefined;
    if (calib !== undefined) {
      const profile = resolveModelProfile({ info: readModelInfo(await fs.readFile(model)) });
      const calibrator = await calibratorFromFolder(calib, {
        preprocess: profile.preprocess,
        inputName: profile.inputName,
        ...(limit !== undefined ? { limit } : {}),
        onWarning: (message) => process.stderr.write(`int8-detect build: warning: ${message}\n`),
      });
      options.calibrator = calibrator;
      options.calibrationId = await folderCalibrationId(calib, { preprocess: profile.preprocess, limit: limit ?? null });
      calibrationBar = new ProgressBar('calibrate', calibrator.size ?? 0);
    }
    options.onProgress = (event: TensorRtBuildEvent) => {
      if (event.kind === 'calibration') calibrationBar?.update(event.batches);
      else if (event.progress.kind === 'start' && event.progress.parent === '' && !values.json) {
        calibrationBar?.done();
        calibrationBar = undefined;
        process.stderr.write(`build: ${event.progress.phase}${event.progress.steps > 0 ? ` (${event.progress.steps} steps)` : ''}\n`);
      }
    };
    const controller = new AbortController();
    const onSignal = () => controller.abort('interrupted (SIGINT)');
    process.once('SIGINT', onSignal);
    options.signal = controller.signal;
    try {
      const result = await buildTensorRtPlan(model, options, loaded);
      calibrationBar?.done();
      const summary = {
        plan: result.planPath,
        sidecar: `${result.planPath}.json`,
        fromCache: result.fromCache,
        reason: result.reason,
        tensorrt: result.tensorrtVersion,
        gpu: result.gpu,
        precision: result.sidecar.key.precision,
        int8Mode: result.sidecar.key.int8Mode,
        bytes: result.plan.byteLength,
        seconds: result.fromCache ? 0 : result.sidecar.record.seconds,
        ...(result.calibrationCachePath ? { calibrationCache: result.calibrationCachePath } : {}),
      };
      if (values.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      process.stdout.write(
        [
          `plan      ${summary.plan} (${(summary.bytes / 2 ** 20).toFixed(1)} MiB, ${summary.precision}${summary.int8Mode === 'none' ? '' : `, ${summary.int8Mode} INT8`})`,
          `built by  TensorRT ${summary.tensorrt} for ${summary.gpu.name} (compute capability ${summary.gpu.computeCapability})`,
          `why       ${summary.reason}`,
          ...(summary.calibrationCache ? [`calib     ${summary.calibrationCache}`] : []),
          '',
        ].join('\n'),
      );
    } finally {
      process.removeListener('SIGINT', onSignal);
    }
  },
};
