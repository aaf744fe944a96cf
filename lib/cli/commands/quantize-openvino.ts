/**
 * `int8-detect quantize --backend openvino`: NNCF-style post-training INT8 into an OpenVINO IR
 * (FakeQuantize), with the same label-free check and mixed-precision search as the portable path.
 * lib/cli/commands/quantize.ts hands over here when --backend openvino is given.
 */
import { promises as fs } from 'node:fs';
import { cpuInfo } from '../../hardware/cpu';
import { resolveModelProfile } from '../../detect/profile';
import { listImages } from '../../util/files';
import { decodeImage } from '../../image/decode';
import { readModelInfo } from '../../onnx/model-info';
import { calibratorFromFrames, splitHeldBack } from '../../quantize/calibrator';
import type { MethodChoice } from '../../quantize/plan';
import { parseBiasCorrection, parseCommandArgs, parseNumber, requireString, UsageError } from '../args';
import { ignoredScopeFrom } from './quantize';
import { ProgressBar } from '../progress';
import { OPENVINO_PRESETS, type OpenVinoPreset } from '../../runtimes/openvino/fake-quantize';
import { DEFAULT_SUBSET_SIZE, quantizeForOpenVino } from '../../runtimes/openvino/quantize';

export const OPENVINO_QUANTIZE_HELP = `Usage: int8-detect quantize --backend openvino --model M.onnx --calib DIR --out M.int8.xml [options]

NNCF-style post-training INT8 for OpenVINO: statistics from OpenVINO inference of the float model
on the calibration images, FakeQuantize on the inputs and weights of Conv- and MatMul-like ops
(per output channel for weights), the label-free check and mixed-precision search on held-back
images, and an OpenVINO IR (xml + bin) written atomically.

Options:
  -m, --model PATH         float ONNX model
      --calib DIR          folder of representative images (300 or more recommended)
      --out FILE.xml       where to write the IR (weights beside it in FILE.bin)
      --preset P           mixed (default: asymmetric activations) or performance (symmetric, as NNCF's)
      --method M           auto (default), minmax, entropy or percentile
      --ignore PATTERN     keep in float: type:OP, name:NODE, or a regular expression (repeatable)
      --subset N           calibrate on at most N images (default ${DEFAULT_SUBSET_SIZE}, NNCF's subset size)
      --max-drop D         largest estimated mAP drop the label-free check accepts (default 0.01)
      --no-search          report the agreement but keep every activation in INT8
      --no-equalize        skip the channel equalization of Conv -> SiLU chains before calibration
      --bias-correction M  fast bias correction of the quantized convs: all (default), weights or none
                           (weights: their rounding; all: the activations' rounding too)
      --held-back N        calibration images held back for the check (default 32, at most a quarter)
      --json               print one JSON summary`;

export async function runOpenVinoQuantize(argv: readonly string[]): Promise<void> {
  const { values } = parseCommandArgs(
    [...argv],
    {
      backend: { type: 'string' },
      model: { type: 'string', short: 'm' },
      calib: { type: 'string' },
      out: { type: 'string' },
      preset: { type: 'string' },
      method: { type: 'string' },
      ignore: { type: 'string', multiple: true },
      subset: { type: 'string' },
      'max-drop': { type: 'string' },
      'no-search': { type: 'boolean' },
      'no-equalize': { type: 'boolean' },
        'bias-correction': { type: 'string' },
      'held-back': { type: 'string' },
      json: { type: 'boolean' },
    },
    false,
  );
  const modelPath = requireString(values.model, '--model');
  const calib = requireString(values.calib, '--calib');
  const out = requireString(values.out, '--out');
  if (!out.toLowerCase().endsWith('.xml')) throw new UsageError(`--out must name an OpenVINO IR .xml file, got ${out}`);
  const preset = (values.preset ?? 'mixed') as OpenVinoPreset;
  if (!OPENVINO_PRESETS.includes(preset)) throw new UsageError(`--preset expects performance or mixed, got ${preset}`);
  const method = (values.method ?? 'auto') as MethodChoice;
  if (!['auto', 'minmax', 'entropy', 'percentile'].includes(method)) throw new UsageError(`--method expects auto, minmax, entropy or percentile, got ${method}`);
  const maxDrop = values['no-search'] ? Number.POSITIVE_INFINITY : (parseNumber(values['max-drop'], '--max-drop', { min: 0, max: 1 }) ?? 0.01);
  const subsetSize = parseNumber(values.subset, '--subset', { integer: true, min: 1 }) ?? DEFAULT_SUBSET_SIZE;
  const heldBackWanted = parseNumber(values['held-back'], '--held-back', { integer: true, min: 1 }) ?? 32;
  const bytes = await fs.readFile(modelPath).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read --model ${modelPath}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const profile = resolveModelProfile({ info: readModelInfo(bytes) });
  const files = await listImages(calib).catch(() => {
    throw new UsageError(`no such folder: --calib ${calib}`);
  });
  if (files.length === 0) throw new UsageError(`no images (jpg, png, webp, ...) in --calib ${calib}`);
  const warn = (message: string) => process.stderr.write(`int8-detect quantize: warning: ${message}\n`);
  const split = splitHeldBack(files, heldBackWanted);
  if (split.shared) warn(`only ${files.length} calibration images: the accuracy check reuses calibration images, so it is optimistic`);
  const controller = new AbortController();
  const onSignal = () => controller.abort('interrupted (SIGINT)');
  process.once('SIGINT', onSignal);
  const calibrator = calibratorFromFrames(split.calibration, { preprocess: profile.preprocess, inputName: profile.inputName, signal: controller.signal, onWarning: warn });
  const bars = new Map<string, ProgressBar>();
  try {
    const result = await quantizeForOpenVino({
      model: bytes,
      calibrator,
      out,
      preset,
      method,
      ignoredScope: ignoredScopeFrom((values.ignore as unknown as string[] | undefined) ?? []),
      subsetSize,
      heldBack: { frames: await Promise.all(split.heldBack.map((f) => decodeImage(f))), preprocess: profile.preprocess },
      maxDrop,
      ...(values['no-equalize'] ? { equalize: false } : {}),
      ...(values['bias-correction'] !== undefined ? { biasCorrection: parseBiasCorrection(values['bias-correction']) } : {}),
      signal: controller.signal,
      onProgress: (p) => {
        if ((p.phase !== 'collect' && p.phase !== 'sensitivity') || p.done === undefined || values.json) return;
        let bar = bars.get(p.phase);
        if (!bar) bars.set(p.phase, (bar = new ProgressBar(p.phase === 'collect' ? 'calibrate' : 'sensitivity', p.total ?? 0)));
        bar.update(p.done);
      },
    });
    for (const bar of bars.values()) bar.done();
    for (const w of result.warnings) warn(w);
    const cpu = cpuInfo();
    const search = result.search;
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({
          model: modelPath,
          out: result.xmlPath,
          preset,
          frames: result.plan.calibration.frames,
          activations: result.plan.activations.length,
          weights: result.plan.weights.length,
          biasCorrected: result.report.biasesShifted,
          equalized: result.equalized.length,
          macs: result.macs,
          keptFloat: result.keepFloat,
          check: search ? { agreementAp50: search.agreement, estimatedDrop: search.estimatedDrop, estimatedDropInterval: search.estimatedDropInterval, trials: search.trials, seconds: search.seconds } : null,
          seconds: result.seconds,
          cpu: { model: cpu.model, int8: cpu.int8Summary },
        })}\n`,
      );
      return;
    }
    const lines = [
      `model        ${modelPath} -> ${result.xmlPath} (+ .bin), OpenVINO IR, preset ${preset}`,
      `calibration  ${result.plan.calibration.frames} frames (OpenVINO f32 inference) in ${result.plan.calibration.seconds.toFixed(1)} s`,
      `FakeQuantize ${result.report.activationFakeQuantizes} activations, ${result.report.weightFakeQuantizes} weights (per output channel); ${result.report.biasesShifted} biases corrected for the rounding`,
    ];
    if (search) {
      lines.push(
        `check        agreement AP50 with FP32 on ${split.heldBack.length} held-back frames: all INT8 ${search.agreement.allInt8.toFixed(4)}, written model ${search.agreement.chosen.toFixed(4)} ` +
          `(FP32 vs itself shifted 1 px: ${search.agreement.floor.toFixed(4)}); estimated mAP drop ${search.estimatedDrop.toFixed(4)} ` +
          `(90 % interval over the frames ${search.estimatedDropInterval[0].toFixed(4)}-${search.estimatedDropInterval[1].toFixed(4)})`,
        `kept float   ${result.keepFloat.length === 0 ? 'no activation' : result.keepFloat.join(', ')}; search ${search.seconds.toFixed(0)} s, ${search.trials.length} trials`,
      );
    }
    lines.push(
      `INT8 MACs    ${(result.macs.int8Fraction * 100).toFixed(1)} % (${(result.macs.int8 / 1e6).toFixed(1)} of ${(result.macs.total / 1e6).toFixed(1)} M multiply-accumulates per frame)`,
      `cpu          ${cpu.model}: ${cpu.int8Summary}`,
      '',
    );
    process.stdout.write(lines.join('\n'));
  } finally {
    process.off('SIGINT', onSignal);
  }
}
