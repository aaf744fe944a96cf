/**
 * Writing a FakeQuantize IR: the plan's parameters for a preset (quantize-fake-quantize.ts), the
 * native emitter, and the two files (xml + bin) written under temporary names and renamed into
 * place only once both are complete, so an error or an abort leaves no partial IR on disk.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { invalidArgument } from '../../util/errors';
import { activeBiasCorrections } from '../../quantize/bias-correction';
import type { QuantizationPlan } from '../../quantize/plan';
import { activationFakeQuantize, weightFakeQuantize, weightNamesByNode, type OpenVinoPreset } from './fake-quantize';
import type { NativeEmitReport, OpenVinoQuantizeBindings } from './quantize-bindings';

export interface EmitOpenVinoIrOptions {
  /** The float ONNX model the plan was built on: its bytes or path. */
  model: string | Uint8Array;
  plan: QuantizationPlan;
  preset: OpenVinoPreset;
  /** Activations left in float (the mixed-precision search's choice). */
  keepFloat?: ReadonlySet<string>;
  /** Where the IR goes: `x.xml`, with its weights in `x.bin`. */
  xmlPath: string;
}

export interface EmittedIr {
  xmlPath: string;
  binPath: string;
  report: NativeEmitReport;
}

export function binPathOf(xmlPath: string): string {
  if (path.extname(xmlPath).toLowerCase() !== '.xml') throw invalidArgument("a path ending in '.xml'", 'the OpenVINO IR path', xmlPath);
  return xmlPath.slice(0, -4) + '.bin';
}

export async function emitOpenVinoIr(bindings: OpenVinoQuantizeBindings, options: EmitOpenVinoIrOptions): Promise<EmittedIr> {
  const { plan, preset } = options;
  const keepFloat = options.keepFloat ?? new Set<string>();
  const xmlPath = options.xmlPath;
  const binPath = binPathOf(xmlPath);
  const weightOf = weightNamesByNode(plan);
  await fs.mkdir(path.dirname(xmlPath), { recursive: true });
  const stem = `${xmlPath.slice(0, -4)}.${process.pid}.${Date.now()}.tmp`;
  const temporary = { xml: `${stem}.xml`, bin: `${stem}.bin` };
  try {
    const report = await bindings.emitFakeQuantizeIr({
      model: options.model,
      activations: plan.activations.filter((a) => !keepFloat.has(a.name)).map((a) => activationFakeQuantize(a, preset, weightOf)),
      // A weight the search keeps in float (rare: it keeps activations) loses its FakeQuantize and its correction.
      weights: plan.weights.filter((w) => !keepFloat.has(w.name)).map(weightFakeQuantize),
      // The plan's fast bias corrections, for the weights that are quantized (bias-correction.ts).
      biases: [...activeBiasCorrections(plan.biasCorrections, keepFloat)].map(([tensor, delta]) => ({ tensor, delta })),
      xmlPath: temporary.xml,
      binPath: temporary.bin,
    });
    // The .bin first: an .xml in place always has its weights beside it.
    await fs.rename(temporary.bin, binPath);
    await fs.rename(temporary.xml, xmlPath);
    return { xmlPath, binPath, report };
  } catch (err) {
    await Promise.all([fs.rm(temporary.xml, { force: true }), fs.rm(temporary.bin, { force: true })]);
    throw err;
  }
}
