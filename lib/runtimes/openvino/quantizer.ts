/**
 * OpenVINO's INT8 artefact: a FakeQuantize IR, NNCF-style. FakeQuantize sits on the activation
 * inputs and the weights of Conv- and MatMul-like ops (placement.ts), with NNCF's presets
 * (fake-quantize.ts: 'performance' for symmetric activations, 'mixed' for asymmetric ones); the
 * statistics are OpenVINO's own f32 inference; the IR is emitted in C++ on the ov::Model
 * (emit-ir.ts). The equalization pre-pass measures on the embedded runtime, as every quantizer's
 * does, so one float model equalizes alike for every target.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { QuantizerAdapter } from '../../quantize/adapter';
import type { QuantizationPlan } from '../../quantize/plan';
import { embeddedBackend } from '../registry';
import { emitOpenVinoIr } from './emit-ir';
import { activationFakeQuantize, openVinoMacCounts, weightNamesByNode, type OpenVinoPreset } from './fake-quantize';
import { lowerModelForOpenVino } from './lowering';
import { loadOpenVinoModule } from './module';
import { placeOpenVinoQuantization } from './placement';
import { loadOpenVinoQuantizeBindings } from './quantize-bindings';
import { openVinoStatisticsSession } from './statistics-session';

/** NNCF's default subset size: calibration stops after this many frames. */
export const DEFAULT_SUBSET_SIZE = 300;

/** NNCF's preset for a plan's activation encoding: symmetric activations are 'performance'. */
export function presetOf(plan: Pick<QuantizationPlan, 'activationMode'>): OpenVinoPreset {
  return plan.activationMode === 'int8-symmetric' ? 'performance' : 'mixed';
}

/** Compute node -> weight tensor, once per plan (every grid lookup of the bias pass needs it). */
const weightsByPlan = new WeakMap<QuantizationPlan, Map<string, string>>();

function weightOf(plan: QuantizationPlan): Map<string, string> {
  let map = weightsByPlan.get(plan);
  if (!map) weightsByPlan.set(plan, (map = weightNamesByNode(plan)));
  return map;
}

export const openVinoQuantizer: QuantizerAdapter = {
  format: 'OpenVINO FakeQuantize IR',
  artefact: { extension: '.xml', companions: ['.bin'], opensFromPath: true },
  // Speed search on: the INT8 kernel of a family (depthwise on AVX2) can be slower than f32 (docs/openvino.md).
  defaults: { biasCorrection: 'all', subsetSize: DEFAULT_SUBSET_SIZE, speedSearch: true },
  id: async () => `openvino ${(await loadOpenVinoModule()).version} (FakeQuantize IR, Focus as SpaceToDepth)`,
  prepare: lowerModelForOpenVino,
  place: (model, options) => placeOpenVinoQuantization(model, options),
  statisticsSession: openVinoStatisticsSession,
  equalizationSession: (threads) => embeddedBackend().statisticsSession!(threads),
  // The activations' rounding on the grids OpenVINO's FakeQuantize will use (the preset's).
  grid: (activation, plan) => activationFakeQuantize(activation, presetOf(plan), weightOf(plan)),
  async emitter({ modelBytes, plan }) {
    const bindings = await loadOpenVinoQuantizeBindings();
    const preset = presetOf(plan);
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-ov-'));
    let serial = 0;
    const emit = (keepFloat: ReadonlySet<string>, name: string) => emitOpenVinoIr(bindings, { model: modelBytes, plan, preset, keepFloat, xmlPath: path.join(folder, name) });
    return {
      // The float model the IR is made from (the equalized one): OpenVINO compares like with like.
      reference: modelBytes,
      candidate: async (keepFloat) => (await emit(keepFloat, `candidate-${serial++}.xml`)).xmlPath,
      release: async (candidate) => {
        if (typeof candidate !== 'string') return;
        await Promise.all([fs.rm(candidate, { force: true }), fs.rm(candidate.replace(/\.xml$/, '.bin'), { force: true })]);
      },
      macs: (keepFloat) => openVinoMacCounts(plan, keepFloat),
      async emit(keepFloat) {
        const emitted = await emit(keepFloat, 'model.int8.xml');
        const [xml, bin] = await Promise.all([fs.readFile(emitted.xmlPath), fs.readFile(emitted.binPath)]);
        const { warnings, ...details } = emitted.report;
        return { bytes: xml, companions: new Map([['.bin', bin]]), details, warnings };
      },
      dispose: () => fs.rm(folder, { recursive: true, force: true }),
    };
  },
};
