/**
 * Precision chosen by measured speed (lib/quantize/speed-search.ts): kernel families tried in
 * float after the accuracy search, kept there only where the whole model measured faster, never
 * below the INT8 MAC floor. What is faster depends on the machine, so the tests check that each
 * decision follows its own measurement and that the artefact matches the decisions.
 */
import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeModel } from '../lib/onnx/model';
import { calibratorFromFrames } from '../lib/quantize/calibrator';
import { speedGroups } from '../lib/quantize/speed-search';
import { quantizeModel } from '../lib/runtimes/onnxruntime/quantize';
import { quantizeForOpenVino } from '../lib/runtimes/openvino/quantize';
import { resolveModelProfile } from '../lib/detect/profile';
import { readModelInfo } from '../lib/onnx/model-info';
import { coco, models } from './helpers/fixtures';
import { runtimeStatusSync } from './helpers/runtime-status';

const openvino = runtimeStatusSync('openvino');
const ovTest = openvino.loaded ? test.serial : test.skip;
if (!openvino.loaded) console.log(`speed-search: OpenVINO test skipped: ${openvino.reason}`);

let calibration: string[];
let heldBack: string[];
let spec: { preprocess: ReturnType<typeof resolveModelProfile>['preprocess']; inputName: string };
test.before(async () => {
  const files = (await fs.readdir(coco.calibImages)).sort().map((f) => path.join(coco.calibImages, f));
  calibration = files.slice(0, 8);
  heldBack = files.slice(8, 12);
  const profile = resolveModelProfile({ info: readModelInfo(await fs.readFile(models.yoloxNano)) });
  spec = { preprocess: profile.preprocess, inputName: profile.inputName };
});

const calibrator = () => calibratorFromFrames(calibration, { ...spec, onWarning: () => {} });

test.serial('yolox_nano on ONNX Runtime: the families are the 3x3 stem, depthwise and 1x1 convs; each decision follows its measurement', async (t) => {
  const result = await quantizeModel({ model: models.yoloxNano, calibrator: calibrator(), heldBack, maxDrop: 1, search: false, speed: { rounds: 3, runsPerRound: 4 } });
  const model = decodeModel(await fs.readFile(models.yoloxNano));
  const groups = speedGroups(result.model, result.plan);
  const byName = new Map(groups.map((g) => [g.name, g]));
  // yolox_nano's stem conv reads the Focus concat of the image (a 3x3 conv), not the image itself.
  t.deepEqual([...byName.keys()].sort(), ['1x1 convolutions', '3x3 convolutions', 'depthwise convolutions']);
  t.is(byName.get('3x3 convolutions')!.nodes.length, 1);
  t.is(byName.get('depthwise convolutions')!.nodes.length, 30);
  t.is(groups.reduce((a, g) => a + g.nodes.length, 0), result.plan.compute.filter((c) => c.quantized).length, 'every quantized conv in one family');
  t.is(groups.reduce((a, g) => a + g.macs, 0), result.macs.total > 0 ? result.plan.compute.filter((c) => c.quantized).reduce((a, c) => a + (c.macs ?? 0), 0) : 0);
  t.true(model.graph.nodes.length > 0);

  const speed = result.speed!;
  t.truthy(speed, 'the speed search ran');
  t.is(speed.groups.length, 3);
  for (const g of speed.groups) {
    t.log(`${g.name}: float/INT8 ${g.ratio?.toFixed(3) ?? '-'} ${g.kept ? 'FLOAT' : 'INT8'} (${g.reason})`);
    if (g.ratio === undefined) {
      t.false(g.kept);
      t.regex(g.reason, /below 90 %|already in float/);
    } else {
      t.is(g.kept, g.ratio < 0.97, `${g.name}: kept in float exactly when measured more than 3 % faster`);
    }
  }
  // The artefact matches the decisions: a kept family's weights carry no Q/DQ, the others do.
  const kept = new Set(speed.groups.filter((g) => g.kept).flatMap((g) => g.tensors));
  t.deepEqual(new Set(result.keepFloat), kept, 'search off: only the speed search kept anything in float');
  t.true(result.macs.int8Fraction >= 0.9, `INT8 MACs ${result.macs.int8Fraction}`);
  t.is(speed.macsGivenUp > 0, kept.size > 0);
  const emitted = decodeModel(result.bytes);
  for (const g of speed.groups) {
    const weight = result.plan.compute.find((c) => c.node === g.nodes[0])!.weight;
    const dequantized = emitted.graph.nodes.some((n) => n.opType === 'DequantizeLinear' && n.inputs[0].startsWith(`${weight}_quantized`));
    t.is(dequantized, !g.kept, `${g.name}: weights quantized exactly when INT8 was kept`);
  }
});

test.serial('the speed search is off by default for the Q/DQ model', async (t) => {
  const result = await quantizeModel({ model: models.yoloxNano, calibrator: calibrator(), heldBack, maxDrop: 1, search: false });
  t.is(result.speed, undefined);
});

ovTest('OpenVINO: the IR follows the decisions', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-speed-search-'));
  try {
    const result = await quantizeForOpenVino({ model: models.yoloxNano, out: path.join(dir, 'm.xml'), calibrator: calibrator(), heldBack, maxDrop: 1, search: false, biasCorrection: 'none', speed: { rounds: 3, runsPerRound: 4 } });
    const speed = result.speed!;
    t.truthy(speed, 'the speed search ran');
    for (const g of speed.groups) {
      t.log(`${g.name}: float/INT8 ${g.ratio?.toFixed(3) ?? '-'} ${g.kept ? 'FLOAT' : 'INT8'} (${g.reason})`);
      if (g.ratio !== undefined) t.is(g.kept, g.ratio < 0.97);
    }
    t.true(result.macs.int8Fraction >= 0.9);
    const weights = new Set(result.plan.weights.map((w) => w.name));
    const floatWeights = speed.groups.filter((g) => g.kept).flatMap((g) => g.tensors).filter((x) => weights.has(x)).length;
    t.is(result.report.weightFakeQuantizes, weights.size - floatWeights, 'one weight FakeQuantize per weight left in INT8');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
