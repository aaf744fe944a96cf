/** `int8-detect quantize`: post-training INT8 of a float model into a Q/DQ ONNX model. */
import { promises as fs } from 'node:fs';
import { cpuInfo } from '../../hardware/cpu';
import { resolveModelProfile } from '../../detect/profile';
import { readModelInfo } from '../../onnx/model-info';
import { listImages, writeFileAtomic } from '../../util/files';
import { abortError, calibratorFromFrames, splitHeldBack } from '../../quantize/calibrator';
import type { IgnoredScope } from '../../quantize/placement';
import { emitPlanJson, type MethodChoice } from '../../quantize/plan';
import { quantizeWithSearch } from '../../quantize/quantize-with-search';
import { buildReportData } from '../../quantize/report-data';
import { renderReportHtml } from '../../quantize/report-html';
import { emitTensorRtCalibrationCache } from '../../quantize/emitters/tensorrt-cache';
import { parseBiasCorrection, parseCommandArgs, parseNumber, requireString, UsageError } from '../args';
import type { Command } from '../main';
import { ProgressBar } from '../progress';

/** --ignore values: 'type:Conv' an op type, 'name:Conv_41' a node name, anything else a regular expression over node names. */
export function ignoredScopeFrom(patterns: readonly string[]): IgnoredScope {
  const scope = { names: [] as string[], types: [] as string[], patterns: [] as RegExp[] };
  for (const p of patterns) {
    if (p.startsWith('type:')) scope.types.push(p.slice(5));
    else if (p.startsWith('name:')) scope.names.push(p.slice(5));
    else {
      try {
        scope.patterns.push(new RegExp(p));
      } catch {
        throw new UsageError(`--ignore expects type:OP, name:NODE or a regular expression, got ${p}`);
      }
    }
  }
  return scope;
}

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'post-training INT8: calibrate on images, write a Q/DQ ONNX model',
  help: `Usage: int8-detect quantize --model M --calib DIR --out M.int8.onnx [options]

Runs the float model on the calibration images (with the engine's own preprocessing), chooses a
range per activation, and writes a Q/DQ ONNX model (INT8 weights per output channel, activations
per tensor) that ONNX Runtime runs with INT8 kernels. The detection head stays in float.

Then the label-free check: the INT8 and FP32 models run on calibration images held back from
calibration, and INT8's detections are scored against FP32's (agreement AP50, beside FP32's own
agreement with itself under a one-pixel shift). Where the estimated mAP drop exceeds --max-drop,
the activations are ranked by how far each alone moves the outputs, and the fewest most
sensitive ones stay in float. Prints the agreement, what stayed in float, and the share of
multiply-accumulates that run in INT8.

Options:
  -m, --model PATH         float ONNX model (YOLOX, YOLOv5, YOLOv8 or YOLO11 export)
      --calib DIR          folder of representative images (300 or more recommended)
      --out FILE           where to write the Q/DQ model
      --method M           auto (default: per tensor, the range of least error), minmax, entropy or percentile
      --activations A      uint8 (default on x86-64: ONNX Runtime's fast U8S8 kernels) or int8 (symmetric, TensorRT-style)
      --weight-bits N      8 (default) or 7 (avoids 16-bit saturation on x86 CPUs without VNNI)
      --ignore PATTERN     keep in float: type:OP, name:NODE, or a regular expression over node names (repeatable)
      --limit N            use at most N calibration images
      --batch N            images per calibration batch (default 1)
      --seed N             shuffle the images with this seed before --limit
      --calib-cache FILE   also write a TensorRT calibration cache (every tensor's scale)
      --trt-version N      TensorRT version number in the cache header (default 8601)
      --plan FILE          also write every tensor's parameters as JSON
      --max-drop D         largest estimated mAP drop the label-free check accepts (default 0.01)
      --no-search          report the agreement but keep every activation in INT8 (no mixed precision)
      --no-equalize        skip the channel equalization of Conv -> SiLU chains before calibration
      --bias-correction M  fast bias correction of the quantized convs: none (default), weights or all
                           (weights: their rounding; all: the activations' rounding too)
      --held-back N        calibration images held back for the check (default 32, at most a quarter)
      --report FILE        also write one self-contained HTML page: histograms and chosen ranges, per-layer
                           FP32-vs-INT8 error (SQNR, cosine), what stayed in float and why, the check, latency
      --eval-images DIR    labelled images: FP32 and INT8 mAP side by side (printed, and in the report)
      --eval-annotations F their COCO annotations (instances.json)
      --eval-limit N       evaluate only the first N images of the annotations
      --json               print one JSON summary
  -h, --help               show this help`,
  async run(argv) {
    // OpenVINO's FakeQuantize IR path has its own flags (--preset, --subset): lib/openvino/quantize-command.ts.
    const backendAt = argv.findIndex((a) => a === '--backend' || a.startsWith('--backend='));
    if (backendAt >= 0 && (argv[backendAt] === '--backend=openvino' || argv[backendAt + 1] === 'openvino')) {
      const { runOpenVinoQuantize } = await import('./quantize-openvino');
      return runOpenVinoQuantize(argv);
    }
    const { values } = parseCommandArgs(
      argv,
      {
        model: { type: 'string', short: 'm' },
        calib: { type: 'string' },
        out: { type: 'string' },
        method: { type: 'string' },
        activations: { type: 'string' },
        'weight-bits': { type: 'string' },
        ignore: { type: 'string', multiple: true },
        limit: { type: 'string' },
        batch: { type: 'string' },
        seed: { type: 'string' },
        'calib-cache': { type: 'string' },
        'trt-version': { type: 'string' },
        plan: { type: 'string' },
        'max-drop': { type: 'string' },
        'no-search': { type: 'boolean' },
        'no-equalize': { type: 'boolean' },
        'bias-correction': { type: 'string' },
        'held-back': { type: 'string' },
        report: { type: 'string' },
        'eval-images': { type: 'string' },
        'eval-annotations': { type: 'string' },
        'eval-limit': { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    const maxDrop = parseNumber(values['max-drop'], '--max-drop', { min: 0, max: 1 }) ?? 0.01;
    const heldBackWanted = parseNumber(values['held-back'], '--held-back', { integer: true, min: 1 }) ?? 32;
    const modelPath = requireString(values.model, '--model');
    const calib = requireString(values.calib, '--calib');
    const out = requireString(values.out, '--out');
    const method = (values.method ?? 'auto') as MethodChoice;
    if (!['auto', 'minmax', 'entropy', 'percentile'].includes(method)) throw new UsageError(`--method expects auto, minmax, entropy or percentile, got ${method}`);
    const activationsFlag = values.activations as string | undefined;
    if (activationsFlag !== undefined && activationsFlag !== 'int8' && activationsFlag !== 'uint8') throw new UsageError(`--activations expects int8 or uint8, got ${activationsFlag}`);
    const weightBits = parseNumber(values['weight-bits'], '--weight-bits', { integer: true, min: 7, max: 8 }) as 7 | 8 | undefined;
    const limit = parseNumber(values.limit, '--limit', { integer: true, min: 1 });
    const batchSize = parseNumber(values.batch, '--batch', { integer: true, min: 1 });
    const seed = parseNumber(values.seed, '--seed', { integer: true });
    const trtVersion = parseNumber(values['trt-version'], '--trt-version', { integer: true, min: 1 });
    const ignoredScope = ignoredScopeFrom((values.ignore as unknown as string[] | undefined) ?? []);
    const cachePath = values['calib-cache'] as string | undefined;
    const planPath = values.plan as string | undefined;
    const reportPath = values.report as string | undefined;
    const evalImages = values['eval-images'] as string | undefined;
    const evalAnnotations = values['eval-annotations'] as string | undefined;
    const evalLimit = parseNumber(values['eval-limit'], '--eval-limit', { integer: true, min: 1 });
    if ((evalImages === undefined) !== (evalAnnotations === undefined)) throw new UsageError('--eval-images and --eval-annotations go together');

    const bytes = await fs.readFile(modelPath).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read --model ${modelPath}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    const profile = resolveModelProfile({ info: readModelInfo(bytes) });
    const warn = (message: string) => process.stderr.write(`int8-detect quantize: warning: ${message}\n`);
    const controller = new AbortController();
    const onSignal = () => controller.abort('interrupted (SIGINT)');
    process.once('SIGINT', onSignal);
    const files = await listImages(calib).catch(() => {
      throw new UsageError(`no such folder: --calib ${calib}`);
    });
    if (files.length === 0) throw new UsageError(`no images (jpg, png, webp, ...) in --calib ${calib}`);
    // The check needs frames calibration has not seen; with very few images it shares them.
    const { calibration: calibrationFiles, heldBack: heldBackFiles, shared: heldBackShared } = splitHeldBack(files, heldBackWanted);
    const calibrator = calibratorFromFrames(calibrationFiles, {
      preprocess: profile.preprocess,
      inputName: profile.inputName,
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(seed !== undefined ? { shuffleSeed: seed } : {}),
      signal: controller.signal,
      onWarning: warn,
    });
    const progress = new ProgressBar('calibrate', calibrator.size ?? 0);
    let searchBar: ProgressBar | undefined;
    const started = Date.now();
    try {
      const flow = await quantizeWithSearch({
        model: bytes,
        preprocess: profile.preprocess,
        calibrator,
        heldBack: heldBackFiles,
        heldBackShared,
        method,
        ...(activationsFlag !== undefined ? { activations: activationsFlag === 'int8' ? 'int8-symmetric' : 'uint8-asymmetric' } : {}),
        ...(weightBits !== undefined ? { weightBits } : {}),
        ignoredScope,
        allTensors: cachePath !== undefined,
        maxDrop,
        search: !values['no-search'],
        ...(values['no-equalize'] ? { equalize: false } : {}),
        ...(values['bias-correction'] !== undefined ? { biasCorrection: parseBiasCorrection(values['bias-correction']) } : {}),
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'collect' && p.done !== undefined) progress.update(p.done);
          if (p.phase === 'plan') progress.done();
          if (p.phase === 'sensitivity' && p.done !== undefined) {
            searchBar ??= new ProgressBar('sensitivity', p.total ?? 0);
            searchBar.update(p.done);
          }
        },
      });
      searchBar?.done();
      const { quantized: result, search } = flow;
      const heldBack = flow.heldBack;
      for (const w of flow.warnings) warn(w);
      const keepFloat = new Set(search.keepFloat);
      const outputBytes = flow.bytes;
      const reportData =
        reportPath !== undefined || evalImages !== undefined
          ? await buildReportData(flow, {
              title: `INT8 quantization report: ${modelPath}`,
              ...(evalImages !== undefined ? { evaluation: { imagesDir: evalImages, annotations: evalAnnotations!, ...(evalLimit !== undefined ? { limit: evalLimit } : {}) } } : {}),
              ...(reportPath === undefined ? { latencyRounds: 0 } : {}),
            })
          : undefined;
      if (controller.signal.aborted) throw abortError(controller.signal);
      // Everything is computed before anything is written, and each file is written atomically:
      // an abort or an error leaves no partial output.
      await writeFileAtomic(out, outputBytes);
      if (reportPath !== undefined) await writeFileAtomic(reportPath, renderReportHtml(reportData!));
      if (planPath !== undefined) await writeFileAtomic(planPath, emitPlanJson(result.plan, { keepFloat }));
      if (cachePath !== undefined) {
        await writeFileAtomic(cachePath, emitTensorRtCalibrationCache(result.statistics.statistics, result.plan, trtVersion !== undefined ? { version: trtVersion } : {}));
      }
      const { plan } = result;
      const macs = search.macs;
      const fraction = macs.total > 0 ? macs.int8 / macs.total : 0;
      const methods: Record<string, number> = {};
      for (const a of plan.activations) methods[a.method] = (methods[a.method] ?? 0) + 1;
      const cpu = cpuInfo();
      const summary = {
        model: modelPath,
        out,
        frames: plan.calibration.frames,
        seconds: (Date.now() - started) / 1000,
        calibrationSeconds: plan.calibration.seconds,
        activations: plan.activationMode,
        method: plan.method,
        methods,
        weightBits: plan.weightBits,
        quantizedActivations: plan.activations.length,
        quantizedWeights: plan.weights.length,
        floatNodes: plan.float.length,
        biasCorrected: new Set(plan.biasCorrections.map((c) => c.bias)).size,
        equalized: plan.equalized?.length ?? 0,
        macs: { ...macs, int8Fraction: fraction },
        check: {
          heldBackFrames: heldBack.frames.length,
          heldBackFromCalibration: !heldBackShared,
          agreementAp50: { floor: search.agreement.floor, allInt8: search.agreement.allInt8, chosen: search.agreement.chosen },
          estimatedDrop: search.estimatedDrop,
          estimatedDropInterval: search.estimatedDropInterval,
          maxDrop: values['no-search'] ? null : maxDrop,
          passed: search.estimatedDrop <= maxDrop,
          keptFloat: search.keepFloat,
          trials: search.trials,
          sensitivity: search.sensitivity.slice(0, 20),
          seconds: search.seconds,
        },
        opset: plan.opset,
        warnings: result.warnings,
        cpu: { model: cpu.model, int8: cpu.int8Summary },
        ...(reportData?.evaluation ? { evaluation: reportData.evaluation } : {}),
        ...(reportData?.latency ? { latency: reportData.latency } : {}),
        ...(reportPath !== undefined ? { report: reportPath } : {}),
      };
      if (values.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const methodWords = Object.entries(methods).map(([m, n]) => `${m} ${n}`).join(', ');
      process.stdout.write(
        [
          `model        ${modelPath} -> ${out} (opset ${plan.opset.from} -> ${plan.opset.to})`,
          `calibration  ${plan.calibration.frames} frames in ${plan.calibration.seconds.toFixed(1)} s`,
          `activations  ${plan.activations.length} tensors, ${plan.activationMode}, method ${plan.method}${plan.method === 'auto' ? ` (${methodWords})` : ''}`,
          `weights      ${plan.weights.length} tensors, INT${plan.weightBits} per output channel; ${new Set(plan.biasCorrections.map((c) => c.bias)).size} biases corrected for the rounding (fast bias correction)`,
          `float        ${plan.float.length} nodes (detection head, ignored scope)`,
          `check        agreement AP50 with FP32 on ${heldBack.frames.length} held-back frames: all INT8 ${search.agreement.allInt8.toFixed(4)}, written model ${search.agreement.chosen.toFixed(4)} ` +
            `(FP32 vs itself shifted 1 px: ${search.agreement.floor.toFixed(4)}); estimated mAP drop ${search.estimatedDrop.toFixed(4)} ` +
            `(90 % interval over the frames ${search.estimatedDropInterval[0].toFixed(4)}-${search.estimatedDropInterval[1].toFixed(4)}) ` +
            `${search.estimatedDrop <= maxDrop ? '<=' : '>'} ${maxDrop}${search.estimatedDrop <= maxDrop ? '' : values['no-search'] ? ' (not within --max-drop; --no-search keeps every activation in INT8)' : ' (NOT within --max-drop: even with every activation in float)'}`,
          `kept float   ${search.keepFloat.length === 0 ? 'no activation' : `${search.keepFloat.length} activation${search.keepFloat.length === 1 ? '' : 's'} (most sensitive first): ${search.keepFloat.slice(0, 8).join(', ')}${search.keepFloat.length > 8 ? ', ...' : ''}`}` +
            `${search.sensitivity.length > 0 ? `; search ${search.seconds.toFixed(0)} s, ${search.trials.length} trials` : ''}`,
          `INT8 MACs    ${(fraction * 100).toFixed(1)} % (${(macs.int8 / 1e6).toFixed(1)} of ${(macs.total / 1e6).toFixed(1)} M multiply-accumulates per frame)`,
          `cpu          ${cpu.model}: ${cpu.int8Summary}`,
          ...(reportData?.evaluation
            ? [
                `mAP          FP32 ${reportData.evaluation.fp32.mAP.toFixed(4)}, INT8 ${reportData.evaluation.int8.mAP.toFixed(4)} ` +
                  `(${((reportData.evaluation.int8.mAP - reportData.evaluation.fp32.mAP) * 100).toFixed(2)} points, ${reportData.evaluation.images} labelled images)`,
              ]
            : []),
          ...(reportData?.latency
            ? [`latency      FP32 ${reportData.latency.fp32Ms.toFixed(1)} ms, INT8 ${reportData.latency.int8Ms.toFixed(1)} ms: ${reportData.latency.ratio.toFixed(2)}x (medians of ${reportData.latency.rounds} interleaved rounds)`]
            : []),
          ...(reportPath !== undefined ? [`report       ${reportPath}`] : []),
          '',
        ].join('\n'),
      );
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
