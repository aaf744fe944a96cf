/**
 * `int8-detect quantize`: post-training INT8 of a float model for a backend, through the one
 * pipeline with that backend's quantizer: a Q/DQ ONNX model (onnxruntime, the default) or an
 * OpenVINO FakeQuantize IR (openvino), with the label-free check and mixed-precision search.
 */
import { promises as fs } from 'node:fs';
import { resolveModelProfile } from '../../detect/profile';
import { cpuInfo } from '../../hardware/cpu';
import { readModelInfo } from '../../onnx/model-info';
import { abortError, calibratorFromFrames, DEFAULT_HELD_BACK_FRAMES, splitHeldBack } from '../../quantize/calibrator';
import { emitTensorRtCalibrationCache } from '../../quantize/emitters/tensorrt-cache';
import { DEFAULT_MAX_DROP, DEFAULT_MIN_INT8_FRACTION } from '../../quantize/mixed-precision';
import { emitPlanJson, type MethodChoice } from '../../quantize/plan';
import { buildReportData, type QuantizationReportData } from '../../report/data';
import { renderReportHtml } from '../../report/html';
import '../../runtimes/builtin';
import { quantizeModelFor, type QuantizedModel } from '../../runtimes/quantize-model';
import { backendDescriptor, embeddedBackend, registeredBackends } from '../../runtimes/registry';
import { Int8DetectError } from '../../util/errors';
import { companionPath, listImages, writeFileAtomic, writeWithCompanions } from '../../util/files';
import { ignoredScopeFrom, parseBiasCorrection, parseCommandArgs, parseNumber, requireString, UsageError } from '../args';
import type { Command } from '../command';
import { EXIT_CODES_HELP } from '../messages';
import { refuseOutputsOverInputs } from '../output-plan';
import { PhaseProgress } from '../progress';


function quantizingBackends(): string[] {
  return registeredBackends()
    .filter((b) => b.quantizer)
    .map((b) => b.name);
}

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'post-training INT8: calibrate on images, write a Q/DQ ONNX model or an OpenVINO IR',
  get help() {
    return `Usage: int8-detect quantize --model M --calib DIR --out FILE [--backend B] [options]

Runs the float model on the calibration images (with the engine's own preprocessing), chooses a
range per activation, and writes the backend's INT8 artefact: for onnxruntime (the default) a
Q/DQ ONNX model (INT8 weights per output channel, activations per tensor) that ONNX Runtime,
TensorRT and OpenVINO run with INT8 kernels; for openvino an IR (FILE.xml + FILE.bin) with
FakeQuantize where OpenVINO fuses it (NNCF's placement and presets, statistics from OpenVINO).
The detection head stays in float.

Then the label-free check: the INT8 and FP32 models run on calibration images held back from
calibration, and INT8's detections are scored against FP32's confident ones (agreement AP50,
beside FP32's own agreement with itself under a one-pixel shift; boxes FP32 is unsure of are
neither hits nor false alarms). Where the estimated mAP drop exceeds --max-drop,
the activations are ranked by how far each alone moves the outputs, and the fewest most
sensitive ones stay in float. Prints the agreement, what stayed in float, and the share of
multiply-accumulates that run in INT8.

Options:
  -m, --model PATH         float ONNX model (YOLOX, YOLOv5, YOLOv8 or YOLO11 export)
      --calib DIR          folder of representative images (300 or more recommended)
      --out FILE           where to write the INT8 model (.onnx for onnxruntime, .xml for openvino)
  -b, --backend B          the backend the INT8 model is for: ${quantizingBackends().join(' or ')} (default ${embeddedBackend().name}: the portable Q/DQ model)
      --method M           auto (default: per tensor, the range of least error), minmax, entropy or percentile
      --activations A      uint8 (default on x86-64: ONNX Runtime's fast U8S8 kernels) or int8 (symmetric, TensorRT-style)
      --preset P           NNCF's names for the same: mixed (= uint8, asymmetric) or performance (= int8, symmetric)
      --weight-bits N      8 (default) or 7 (avoids 16-bit saturation on x86 CPUs without VNNI)
      --ignore PATTERN     keep in float: type:OP, name:NODE, or a regular expression over node names (repeatable)
      --limit N            use at most N calibration images
      --subset N           calibrate on at most N images (default: all for onnxruntime, 300 for openvino, NNCF's subset size)
      --batch N            images per calibration batch (default 1)
      --seed N             shuffle the images with this seed before --limit
      --calib-cache FILE   also write a TensorRT calibration cache (every tensor's scale)
      --trt-version N      TensorRT version number in the cache header (default 8601)
      --plan FILE          also write every tensor's parameters as JSON
      --max-drop D         largest estimated mAP drop the label-free check accepts (default ${DEFAULT_MAX_DROP})
      --no-search          report the agreement but keep every activation in INT8 (no mixed precision)
      --check-by R         the check passes a candidate when its estimated drop (estimate, default) or the
                           upper end of its 90 % bootstrap interval (upper) is within --max-drop
      --min-int8 F         never keep so much in float (for accuracy or speed) that less than this share of
                           the multiply-accumulates runs in INT8 (default ${DEFAULT_MIN_INT8_FRACTION}; 0 lifts the floor)
      --speed-search       after the accuracy search, time kernel families (depthwise, 1x1, k x k convs) in
      --no-speed-search    float against INT8 on this machine and keep in float those measured faster
                           (default: on for --backend openvino, off for onnxruntime); the decisions are
                           printed and written beside the model as OUT.speed.json
      --no-equalize        skip the channel equalization of Conv -> SiLU chains before calibration
      --bias-correction M  fast bias correction of the quantized convs: none (default for onnxruntime),
                           weights or all (default for openvino: the activations' rounding too)
      --held-back N        calibration images held back for the check (default ${DEFAULT_HELD_BACK_FRAMES}, at most a quarter)
      --report FILE        also write one self-contained HTML page (Q/DQ models): histograms and chosen ranges,
                           per-layer FP32-vs-INT8 error (SQNR, cosine), what stayed in float and why, the check, latency
      --eval-images DIR    labelled images: FP32 and INT8 mAP side by side (Q/DQ models; printed, and in the report)
      --eval-annotations F their COCO annotations (instances.json)
      --eval-limit N       evaluate only the first N images of the annotations
      --json               print one JSON summary
  -h, --help               show this help

Off a terminal (a CI log, a pipe) progress is printed as a line at each tenth of the work, and every 10 s.

${EXIT_CODES_HELP}`;
  },
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      {
        model: { type: 'string', short: 'm' },
        calib: { type: 'string' },
        out: { type: 'string' },
        backend: { type: 'string', short: 'b' },
        method: { type: 'string' },
        activations: { type: 'string' },
        preset: { type: 'string' },
        'weight-bits': { type: 'string' },
        ignore: { type: 'string', multiple: true },
        limit: { type: 'string' },
        subset: { type: 'string' },
        batch: { type: 'string' },
        seed: { type: 'string' },
        'calib-cache': { type: 'string' },
        'trt-version': { type: 'string' },
        plan: { type: 'string' },
        'max-drop': { type: 'string' },
        'no-search': { type: 'boolean' },
        'speed-search': { type: 'boolean' },
        'check-by': { type: 'string' },
        'min-int8': { type: 'string' },
        'no-speed-search': { type: 'boolean' },
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
    // The default is the embedded runtime's portable artefact, which every backend reads.
    const backendName = (values.backend as string | undefined) ?? embeddedBackend().name;
    if (!quantizingBackends().includes(backendName)) {
      const builds = registeredBackends().find((b) => b.name === backendName)?.capabilities.buildsFromFloat === true;
      throw new UsageError(
        `--backend expects ${quantizingBackends().join(' or ')}, got ${backendName}` +
          (builds ? ` (${backendName} reads the Q/DQ model quantize writes, or builds INT8 itself: int8-detect build --precision int8)` : ''),
      );
    }
    const backend = backendDescriptor(backendName);
    const artefact = backend.quantizer!.artefact;
    const maxDrop = parseNumber(values['max-drop'], '--max-drop', { min: 0, max: 1 }) ?? DEFAULT_MAX_DROP;
    const minInt8 = parseNumber(values['min-int8'], '--min-int8', { min: 0, max: 1 });
    const heldBackWanted = parseNumber(values['held-back'], '--held-back', { integer: true, min: 1 }) ?? DEFAULT_HELD_BACK_FRAMES;
    const modelPath = requireString(values.model, '--model');
    const calib = requireString(values.calib, '--calib');
    const out = requireString(values.out, '--out');
    if (!out.toLowerCase().endsWith(artefact.extension)) throw new UsageError(`--out must name a ${artefact.extension} file for --backend ${backendName} (${backend.quantizer!.format}), got ${out}`);
    const companionOutputs = (artefact.companions ?? []).map((extension) => ['--out', companionPath(out, extension)] as const);
    await refuseOutputsOverInputs(
      [['--out', out], ...companionOutputs, ['--plan', values.plan as string | undefined], ['--report', values.report as string | undefined], ['--calib-cache', values['calib-cache'] as string | undefined]],
      [['--model', modelPath], ['--eval-annotations', values['eval-annotations'] as string | undefined]],
    );
    const method = (values.method ?? 'auto') as MethodChoice;
    if (!['auto', 'minmax', 'entropy', 'percentile'].includes(method)) throw new UsageError(`--method expects auto, minmax, entropy or percentile, got ${method}`);
    const activations = activationsFrom(values.activations as string | undefined, values.preset as string | undefined);
    const weightBits = parseNumber(values['weight-bits'], '--weight-bits', { integer: true, min: 7, max: 8 }) as 7 | 8 | undefined;
    const limit = parseNumber(values.limit, '--limit', { integer: true, min: 1 });
    const subsetSize = parseNumber(values.subset, '--subset', { integer: true, min: 1 });
    const batchSize = parseNumber(values.batch, '--batch', { integer: true, min: 1, max: 256 });
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
    if ((reportPath !== undefined || evalImages !== undefined) && artefact.extension !== '.onnx') {
      throw new UsageError(`--report and --eval-images read Q/DQ ONNX models; --backend ${backendName} writes a ${backend.quantizer!.format}`);
    }

    const bytes = await fs.readFile(modelPath).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read --model ${modelPath}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    const profile = resolveModelProfile({ info: readModelInfo(bytes) });
    const warn = (message: string) => process.stderr.write(`int8-detect quantize: warning: ${message}\n`);
    const files = await listImages(calib).catch(() => {
      throw new UsageError(`no such folder: --calib ${calib}`);
    });
    if (files.length === 0) throw new UsageError(`no images (jpg, png, webp, ...) in --calib ${calib}`);
    const controller = new AbortController();
    const onSignal = () => controller.abort('interrupted (SIGINT)');
    process.once('SIGINT', onSignal);
    // The check needs frames calibration has not seen; with very few images it shares them.
    const split = splitHeldBack(files, heldBackWanted);
    const calibrator = calibratorFromFrames(split.calibration, {
      preprocess: profile.preprocess,
      inputName: profile.inputName,
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(seed !== undefined ? { shuffleSeed: seed } : {}),
      signal: controller.signal,
      onWarning: warn,
    });
    const progress = new PhaseProgress('int8-detect quantize: ');
    const started = Date.now();
    try {
      const result = await quantizeModelFor(backend, {
        model: bytes,
        calibrator,
        heldBack: split.heldBack,
        heldBackShared: split.shared,
        method,
        ...(activations !== undefined ? { activations } : {}),
        ...(weightBits !== undefined ? { weightBits } : {}),
        ...(subsetSize !== undefined ? { subsetSize } : {}),
        ignoredScope,
        allTensors: cachePath !== undefined,
        maxDrop,
        search: !values['no-search'],
        ...(values['speed-search'] ? { speed: true } : values['no-speed-search'] ? { speed: false } : {}),
        ...(values['check-by'] !== undefined ? { decideBy: checkByFrom(values['check-by'] as string) } : {}),
        ...(minInt8 !== undefined ? { minInt8Fraction: minInt8 } : {}),
        ...(values['no-equalize'] ? { equalize: false } : {}),
        ...(values['bias-correction'] !== undefined ? { biasCorrection: parseBiasCorrection(values['bias-correction']) } : {}),
        signal: controller.signal,
        onProgress: (p) => progress.update({ ...p, total: p.total ?? (p.phase === 'collect' ? calibrator.size : undefined) }),
      });
      progress.done();
      for (const w of result.warnings) warn(w);
      const reportData =
        reportPath !== undefined || evalImages !== undefined
          ? await buildReportData(result, {
              title: `INT8 quantization report: ${modelPath}`,
              ...(evalImages !== undefined ? { evaluation: { imagesDir: evalImages, annotations: evalAnnotations!, ...(evalLimit !== undefined ? { limit: evalLimit } : {}) } } : {}),
              ...(reportPath === undefined ? { latencyRounds: 0 } : {}),
            })
          : undefined;
      if (controller.signal.aborted) throw abortError(controller.signal);
      // Everything is computed before anything is written, and each file is written atomically:
      // an abort or an error leaves no partial output.
      await writeWithCompanions(out, result.artefact.bytes, result.artefact.companions);
      if (reportPath !== undefined) await writeFileAtomic(reportPath, renderReportHtml(reportData!));
      if (result.speed) await writeFileAtomic(`${out}.speed.json`, `${JSON.stringify(speedRecord(result), null, 1)}\n`);
      if (planPath !== undefined) await writeFileAtomic(planPath, emitPlanJson(result.plan, { keepFloat: new Set(result.keepFloat) }));
      if (cachePath !== undefined) {
        await writeFileAtomic(cachePath, emitTensorRtCalibrationCache(result.statistics.statistics, result.plan, trtVersion !== undefined ? { version: trtVersion } : {}));
      }
      printSummary(result, { modelPath, out, backend: backendName, format: backend.quantizer!.format, companions: artefact.companions, maxDrop, noSearch: Boolean(values['no-search']), json: Boolean(values.json), seconds: (Date.now() - started) / 1000, reportPath, reportData });
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};

/** --activations int8|uint8, or NNCF's --preset performance|mixed for the same choice. */
function activationsFrom(activations: string | undefined, preset: string | undefined): 'int8-symmetric' | 'uint8-asymmetric' | undefined {
  if (activations !== undefined && activations !== 'int8' && activations !== 'uint8') throw new UsageError(`--activations expects int8 or uint8, got ${activations}`);
  if (preset !== undefined && preset !== 'performance' && preset !== 'mixed') throw new UsageError(`--preset expects performance or mixed, got ${preset}`);
  const fromPreset = preset === undefined ? undefined : preset === 'performance' ? 'int8' : 'uint8';
  if (activations !== undefined && fromPreset !== undefined && activations !== fromPreset) throw new UsageError(`--activations ${activations} and --preset ${preset} disagree`);
  const chosen = activations ?? fromPreset;
  return chosen === undefined ? undefined : chosen === 'int8' ? 'int8-symmetric' : 'uint8-asymmetric';
}

function checkByFrom(value: string): 'upper' | 'estimate' {
  if (value !== 'upper' && value !== 'estimate') throw new UsageError(`--check-by expects upper or estimate, got ${value}`);
  return value;
}

/** What the speed search decided and why, for the sidecar OUT.speed.json and --json. */
function speedRecord(result: QuantizedModel) {
  const s = result.speed!;
  const cpu = cpuInfo();
  return {
    cpu: { model: cpu.model, int8: cpu.int8Summary, features: cpu.features },
    rounds: s.rounds,
    runsPerRound: s.runsPerRound,
    beforeMs: s.beforeMs,
    afterMs: s.afterMs,
    macsGivenUpForSpeed: s.macsGivenUp,
    groups: s.groups.map((g) => ({ name: g.name, layers: g.nodes.length, macs: g.macs, floatOverInt8: g.ratio ?? null, keptFloat: g.kept, reason: g.reason, nodes: g.nodes })),
  };
}

interface SummaryContext {
  modelPath: string;
  out: string;
  backend: string;
  format: string;
  companions: readonly string[];
  maxDrop: number;
  noSearch: boolean;
  json: boolean;
  seconds: number;
  reportPath: string | undefined;
  reportData: QuantizationReportData | undefined;
}

function printSummary(result: QuantizedModel, c: SummaryContext): void {
  const { plan, search, heldBack, macs } = result;
  if (!search || !heldBack) throw new Int8DetectError('ERR_MODEL', `${c.modelPath} has no activation to quantize outside the detection head and the ignored scope`);
  const methods: Record<string, number> = {};
  for (const a of plan.activations) methods[a.method] = (methods[a.method] ?? 0) + 1;
  const cpu = cpuInfo();
  const biasesCorrected = new Set(plan.biasCorrections.map((b) => b.bias)).size;
  // The search's own rule (the estimate by default, or the upper end of the interval); --no-search compares the estimate.
  const passed = c.noSearch ? search.estimatedDrop <= c.maxDrop : search.passed;
  if (c.json) {
    const summary = {
      model: c.modelPath,
      out: c.out,
      backend: c.backend,
      format: c.format,
      frames: plan.calibration.frames,
      seconds: c.seconds,
      calibrationSeconds: plan.calibration.seconds,
      activations: plan.activationMode,
      method: plan.method,
      methods,
      weightBits: plan.weightBits,
      quantizedActivations: plan.activations.length,
      quantizedWeights: plan.weights.length,
      floatNodes: plan.float.length,
      biasCorrected: biasesCorrected,
      equalized: result.equalized.length,
      emitter: result.artefact.details,
      macs,
      check: {
        heldBackFrames: heldBack.frames.length,
        heldBackFromCalibration: !heldBack.shared,
        agreementAp50: { floor: search.agreement.floor, allInt8: search.agreement.allInt8, chosen: search.agreement.chosen },
        agreementMap: { floor: search.agreement.floorMap },
        estimatedDrop: search.estimatedDrop,
        estimatedDropInterval: search.estimatedDropInterval,
        maxDrop: c.noSearch ? null : c.maxDrop,
        passed,
        keptFloat: search.keepFloat,
        minInt8Fraction: search.minInt8Fraction,
        excludedByFloor: search.excludedByFloor,
        trials: search.trials,
        sensitivity: search.sensitivity.slice(0, 20),
        seconds: search.seconds,
      },
      ...(result.speed ? { speed: speedRecord(result) } : {}),
      opset: plan.opset,
      warnings: result.warnings,
      cpu: { model: cpu.model, int8: cpu.int8Summary },
      ...(c.reportData?.evaluation ? { evaluation: c.reportData.evaluation } : {}),
      ...(c.reportData?.latency ? { latency: c.reportData.latency } : {}),
      ...(c.reportPath !== undefined ? { report: c.reportPath } : {}),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const methodWords = Object.entries(methods).map(([m, n]) => `${m} ${n}`).join(', ');
  const details = Object.entries(result.artefact.details).map(([k, v]) => `${k} ${v}`).join(', ');
  const beside = c.companions.length > 0 ? ` (+ ${c.companions.join(', ')})` : '';
  process.stdout.write(
    [
      `model        ${c.modelPath} -> ${c.out}${beside}, ${c.format} (opset ${plan.opset.from} -> ${plan.opset.to})`,
      `calibration  ${plan.calibration.frames} frames (${c.backend} float inference) in ${plan.calibration.seconds.toFixed(1)} s`,
      `activations  ${plan.activations.length} tensors, ${plan.activationMode}, method ${plan.method}${plan.method === 'auto' ? ` (${methodWords})` : ''}`,
      `weights      ${plan.weights.length} tensors, INT${plan.weightBits} per output channel; ${biasesCorrected} biases corrected for the rounding (fast bias correction)`,
      ...(details ? [`emitted      ${details}`] : []),
      `float        ${plan.float.length} nodes (detection head, ignored scope)`,
      `check        agreement AP50 with FP32 on ${heldBack.frames.length} held-back frames: all INT8 ${search.agreement.allInt8.toFixed(4)}, written model ${search.agreement.chosen.toFixed(4)} ` +
        `(FP32 vs itself shifted 1 px: ${search.agreement.floor.toFixed(4)}); estimated mAP drop ${search.estimatedDrop.toFixed(4)} ` +
        `(90 % interval over the frames ${search.estimatedDropInterval[0].toFixed(4)}-${search.estimatedDropInterval[1].toFixed(4)}; ` +
        `${c.noSearch || search.decideBy === 'estimate' ? 'the estimate' : 'its upper end'} ${passed ? '<=' : '>'} ${c.maxDrop})${passed ? '' : c.noSearch ? ' (not within --max-drop; --no-search keeps every activation in INT8)' : search.excludedByFloor.length > 0 ? ` (NOT within --max-drop: ${search.excludedByFloor.length} more activations in float would leave less than ${(100 * search.minInt8Fraction).toFixed(0)} % of the MACs in INT8, --min-int8)` : ' (NOT within --max-drop: even with every activation in float)'}`,
      `kept float   ${search.keepFloat.length === 0 ? 'no activation' : `${search.keepFloat.length} activation${search.keepFloat.length === 1 ? '' : 's'} (most output error per MAC given up first): ${search.keepFloat.slice(0, 8).join(', ')}${search.keepFloat.length > 8 ? ', ...' : ''}`}` +
        `${search.sensitivity.length > 0 ? `; search ${search.seconds.toFixed(0)} s, ${search.trials.length} trials` : ''}`,
      ...(result.speed
        ? [
            `speed        ${result.speed.groups.filter((g) => g.kept).length} of ${result.speed.groups.length} kernel families kept in float for speed ` +
              `(${(result.speed.macsGivenUp * 100).toFixed(1)} % of the MACs; ${result.speed.rounds} interleaved rounds of ${result.speed.runsPerRound} runs, ${result.speed.seconds.toFixed(0)} s):`,
            ...result.speed.groups.map(
              (g) => `               ${g.name.padEnd(32)} ${String(g.nodes.length).padStart(3)} layers ${(g.macs / 1e6).toFixed(1).padStart(7)} M MACs  float/INT8 ${g.ratio === undefined ? '    -' : g.ratio.toFixed(3)}  ${g.kept ? 'FLOAT' : 'INT8 '}  ${g.reason}`,
            ),
          ]
        : []),
      `INT8 MACs    ${(macs.int8Fraction * 100).toFixed(1)} % (${(macs.int8 / 1e6).toFixed(1)} of ${(macs.total / 1e6).toFixed(1)} M multiply-accumulates per frame)`,
      `cpu          ${cpu.model}: ${cpu.int8Summary}`,
      ...(c.reportData?.evaluation
        ? [
            `mAP          FP32 ${c.reportData.evaluation.fp32.mAP.toFixed(4)}, INT8 ${c.reportData.evaluation.int8.mAP.toFixed(4)} ` +
              `(${((c.reportData.evaluation.int8.mAP - c.reportData.evaluation.fp32.mAP) * 100).toFixed(2)} points, ${c.reportData.evaluation.images} labelled images)`,
          ]
        : []),
      ...(c.reportData?.latency
        ? [`latency      FP32 ${c.reportData.latency.fp32Ms.toFixed(1)} ms, INT8 ${c.reportData.latency.int8Ms.toFixed(1)} ms: ${c.reportData.latency.ratio.toFixed(2)}x (medians of ${c.reportData.latency.rounds} interleaved rounds)`]
        : []),
      ...(c.reportPath !== undefined ? [`report       ${c.reportPath}`] : []),
      '',
    ].join('\n'),
  );
}
