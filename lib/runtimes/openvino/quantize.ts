/**
 * quantizeForOpenVino(): NNCF-style post-training INT8 of an ONNX model into an OpenVINO IR
 * (FakeQuantize), through the one pipeline with OpenVINO's quantizer adapter (quantizer.ts), the
 * label-free check and mixed-precision search on OpenVINO itself, and the IR written atomically.
 */
import { invalidArgument } from '../../util/errors';
import { writeWithCompanions } from '../../util/files';
import { quantizeModelFor, type QuantizedModel, type QuantizeModelOptions } from '../quantize-model';
import { openVinoBackend } from './descriptor';
import { binPathOf } from './emit-ir';
import { OPENVINO_PRESETS, presetActivationMode, type OpenVinoPreset } from './fake-quantize';

export { DEFAULT_SUBSET_SIZE } from './quantizer';

export interface OpenVinoQuantizeOptions extends Omit<QuantizeModelOptions, 'activations'> {
  /** Where the INT8 IR goes (`.xml`; the weights go beside it in `.bin`). */
  out: string;
  /** 'performance' (symmetric activations) or 'mixed' (asymmetric activations); default 'mixed'. */
  preset?: OpenVinoPreset;
}

export interface OpenVinoQuantizeResult extends QuantizedModel {
  xmlPath: string;
  binPath: string;
  preset: OpenVinoPreset;
  /** What the native emitter did: FakeQuantize nodes inserted, biases shifted. */
  report: { activationFakeQuantizes: number; weightFakeQuantizes: number; biasesShifted: number };
}

export async function quantizeForOpenVino(options: OpenVinoQuantizeOptions): Promise<OpenVinoQuantizeResult> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'quantizeForOpenVino(options)', options);
  const preset = options.preset ?? 'mixed';
  if (!OPENVINO_PRESETS.includes(preset)) throw invalidArgument("'performance' or 'mixed'", 'options.preset', preset);
  if (typeof options.out !== 'string' || !options.out.toLowerCase().endsWith('.xml')) throw invalidArgument("a path ending in '.xml'", 'options.out', options.out);
  const { out, preset: _preset, ...rest } = options;
  void _preset;
  const result = await quantizeModelFor(openVinoBackend, { ...rest, activations: presetActivationMode(preset) });
  // Everything is computed before anything is written: an abort or an error leaves no partial IR.
  await writeWithCompanions(out, result.artefact.bytes, result.artefact.companions);
  const details = result.artefact.details;
  return {
    ...result,
    xmlPath: out,
    binPath: binPathOf(out),
    preset,
    report: { activationFakeQuantizes: details.activationFakeQuantizes ?? 0, weightFakeQuantizes: details.weightFakeQuantizes ?? 0, biasesShifted: details.biasesShifted ?? 0 },
  };
}
