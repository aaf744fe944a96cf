import test from 'ava';
import { promises as fs } from 'node:fs';
import { decodeModel, type OnnxModel } from '../lib/onnx/model';
import { placeQuantization } from '../lib/quantize/placement';
import { models } from './helpers/fixtures';
import { yolov5LikeModel } from './helpers/onnx-graph';

const load = async (file: string) => decodeModel(await fs.readFile(file));

function producers(model: OnnxModel): Map<string, string> {
  return new Map(model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.opType] as [string, string])));
}

test('yolox_nano: the prediction convs, their sigmoids and the final concat/reshape/transpose stay in float', async (t) => {
  const model = await load(models.yoloxNano);
  const placement = placeQuantization(model);
  const floatConvs = placement.compute.filter((c) => !c.quantized);
  // 3 levels x (cls, reg, obj) prediction convs: nothing but decode follows them.
  t.is(floatConvs.length, 9);
  t.true(floatConvs.every((c) => /detection head/.test(c.reason)));
  for (const name of ['Concat_422', 'Transpose_423', 'Concat_331', 'Sigmoid_329']) t.true(placement.head.has(name), name);
  // The cls/reg stem convs before the predictions are feature convs and are quantized.
  t.true(placement.compute.find((c) => c.node === 'Conv_344')!.quantized);
  t.is(placement.weights.length, 104);
  t.true(placement.weights.every((w) => w.axis === 0));
});

test('yolox_nano: SiLU products are quantized only where a Conv reads them; conv outputs feed only their Q', async (t) => {
  const model = await load(models.yoloxNano);
  const placement = placeQuantization(model);
  const producedBy = producers(model);
  const opOf = new Map(model.graph.nodes.map((n) => [n.name, n.opType]));
  for (const site of placement.activations) {
    const op = producedBy.get(site.tensor);
    if (op === 'Mul') t.true(site.consumers.every((c) => opOf.get(c) === 'Conv'), `${site.tensor} is read quantized only by convs`);
    if (op === 'Conv') {
      const readers = model.graph.nodes.filter((n) => n.inputs.includes(site.tensor)).map((n) => n.name);
      t.deepEqual(site.consumers.slice().sort(), readers.sort(), `every reader of conv output ${site.tensor} reads the dequantized value`);
    }
  }
  // The residual Add reads its float inputs; only the sum, which a Conv reads, is quantized.
  const add = model.graph.nodes.find((n) => n.opType === 'Add')!;
  for (const input of add.inputs) {
    const site = placement.activations.find((a) => a.tensor === input);
    if (site) t.false(site.consumers.includes(add.name));
  }
  t.false(placement.activations.some((a) => producedBy.get(a.tensor) === 'Sigmoid'), 'sigmoid outputs are never round-tripped through INT8');
});

test('yolov8n: the DFL conv, the box decode and the final concat stay in float', async (t) => {
  const model = await load(models.yolov8n);
  const placement = placeQuantization(model);
  const dfl = placement.compute.find((c) => c.node === '/model.22/dfl/conv/Conv')!;
  t.false(dfl.quantized);
  t.regex(dfl.reason, /DFL/);
  for (const name of ['/model.22/dfl/Softmax', '/model.22/Sub', '/model.22/Div_1', '/model.22/Concat_3', '/model.22/Sigmoid']) t.true(placement.head.has(name), name);
  const floatConvs = placement.compute.filter((c) => !c.quantized).map((c) => c.node);
  t.true(floatConvs.includes('/model.22/cv2.0/cv2.0.2/Conv') && floatConvs.includes('/model.22/cv3.2/cv3.2.2/Conv'));
  t.is(floatConvs.length, 7, 'six 1x1 prediction convs and the DFL');
});

test('a YOLOv5-like graph: detect convs, sigmoid and anchor arithmetic stay in float; the backbone is quantized', (t) => {
  const model = yolov5LikeModel();
  const placement = placeQuantization(model);
  const quantized = placement.compute.filter((c) => c.quantized).map((c) => c.node);
  t.deepEqual(quantized.sort(), ['b1.conv', 'b2.conv', 'b3.conv']);
  for (const name of ['detect0.conv', 'detect1.conv', 'detect0.prob', 'detect1.wh', 'detect0.xy', 'output']) t.true(placement.head.has(name), name);
  // 'res' (the residual sum) feeds b3 and the head conv detect0: quantized for b3 only.
  const res = placement.activations.find((a) => a.tensor === 'res')!;
  t.deepEqual(res.consumers, ['b3.conv']);
});

test('the ignored scope keeps nodes in float by name, op type or regular expression', async (t) => {
  const model = await load(models.yoloxNano);
  const all = placeQuantization(model).compute.filter((c) => c.quantized).length;
  const byName = placeQuantization(model, { ignoredScope: { names: ['Conv_41'] } });
  t.is(byName.compute.filter((c) => c.quantized).length, all - 1);
  t.is(byName.compute.find((c) => c.node === 'Conv_41')!.reason, 'ignored scope');
  t.false(byName.weights.some((w) => w.consumers.includes('Conv_41')));
  t.is(placeQuantization(model, { ignoredScope: { types: ['Conv'] } }).compute.filter((c) => c.quantized).length, 0);
  t.is(placeQuantization(model, { ignoredScope: { patterns: [/^Conv_4\d$/] } }).compute.filter((c) => c.quantized).length, all - 3);
  t.throws(() => placeQuantization(model, { ignoredScope: { patterns: ['(unclosed'] } }), { message: /Expected a valid regular expression for ignoredScope.patterns\[0\]/ });
});
