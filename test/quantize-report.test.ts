import test from 'ava';
import { execFile } from 'node:child_process';
import { accessSync, constants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { resolveModelProfile } from '../lib/detect/profile';
import { readModelInfo } from '../lib/onnx/model-info';
import { calibratorFromFrames, splitHeldBack } from '../lib/quantize/calibrator';
import { writeQuantizationReport } from '../lib/report/write';
import type { QuantizationReportData } from '../lib/report/data';
import { renderReportHtml } from '../lib/report/html';
import { quantizeModel } from '../lib/runtimes/onnxruntime/quantize';
import type { QuantizedModel } from '../lib/runtimes/quantize-model';
import { runCli } from './helpers/cli';
import { coco, models } from './helpers/fixtures';

const VOID_ELEMENTS = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', 'source', 'wbr', 'col', 'area', 'base']);

/** Every element closed in order (void and self-closed SVG elements aside); returns the first problem, or null. */
function tagProblem(html: string): string | null {
  const body = html.replace(/<!DOCTYPE html>/i, '').replace(/<(script|style)>[\s\S]*?<\/\1>/g, '');
  const stack: string[] = [];
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, closing, rawName, , selfClosing] = m;
    const name = rawName.toLowerCase();
    if (closing) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open ?? 'nothing'}> at ${m.index}`;
    } else if (!selfClosing && !VOID_ELEMENTS.has(name)) {
      stack.push(name);
    }
  }
  if (/<(?![a-zA-Z/!])/.test(body.replace(/<\/?[a-zA-Z][^>]*>/g, ''))) return 'a stray < in text';
  return stack.length === 0 ? null : `unclosed <${stack.join('>, <')}>`;
}

let dir: string;
let result: QuantizedModel;
let data: QuantizationReportData;
let html: string;
const reportFile = () => path.join(dir, 'report.html');

test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-report-'));
  const model = await fs.readFile(models.yoloxNano);
  const profile = resolveModelProfile({ info: readModelInfo(model) });
  // 12 frames calibrate, 4 are held back; maxDrop 1 takes the all-INT8 model without a ranking.
  const files = (await fs.readdir(coco.calibImages)).sort().slice(0, 16).map((f) => path.join(coco.calibImages, f));
  const split = splitHeldBack(files, 4);
  const calibrator = calibratorFromFrames(split.calibration, { preprocess: profile.preprocess, inputName: profile.inputName });
  result = await quantizeModel({ model, calibrator, heldBack: split.heldBack, maxDrop: 1 });
  const started = Date.now();
  data = await writeQuantizationReport(result, reportFile(), {
    evaluation: { imagesDir: coco.evalImages, annotations: coco.evalAnnotations, limit: 3 },
    latencyRounds: 1,
  });
  console.log(`report gathered in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  html = await fs.readFile(reportFile(), 'utf8');
});
test.after.always(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('the report is one well-formed page with no external reference', (t) => {
  t.regex(html, /^<!DOCTYPE html>/);
  t.is(tagProblem(html), null);
  t.notRegex(html, /https?:\/\//, 'no URL at all');
  t.notRegex(html, /\ssrc=|<link\b|@import|url\(/, 'no loaded resource');
  for (const m of html.matchAll(/href="([^"]*)"/g)) t.true(m[1].startsWith('#'), `in-page link only: ${m[1]}`);
  t.regex(html, /<style>[\s\S]+<\/style>/);
});

test('one histogram SVG per quantized activation, with its chosen range and every method', (t) => {
  const activations = result.plan.activations;
  t.is((html.match(/<svg class="hist"/g) ?? []).length, activations.length);
  t.is(data.tensors.length, activations.length);
  const byName = new Map(data.tensors.map((x) => [x.name, x]));
  t.true(data.tensors.some((x) => x.sharedGrid !== null), 'the Q/DQ placement shares Concat grids');
  for (const tensor of data.tensors) {
    t.deepEqual(tensor.candidates.map((c) => c.method).sort(), ['entropy', 'minmax', 'percentile']);
    if (tensor.sharedGrid !== null) {
      // A Concat's shared grid is its first member's (the Concat output's), scale and zero point included.
      const leader = byName.get(tensor.alignedWith ?? tensor.name)!;
      t.deepEqual([tensor.range, tensor.scale, tensor.zeroPoint], [leader.range, leader.scale, leader.zeroPoint], tensor.name);
      t.true(tensor.sharedGrid.includes(tensor.name) && tensor.sharedGrid.includes(leader.name));
      t.true(html.includes('joined by a Concat'), 'the page says which tensors share a Concat grid');
    } else if (tensor.alignedWith !== null) {
      // An INT8 junction's tensor takes its partner's grid, not one of its own candidates.
      t.deepEqual(tensor.range, byName.get(tensor.alignedWith)!.range, `${tensor.name} shares ${tensor.alignedWith}'s range`);
      t.true(html.includes(`shares the grid of <a href="#`), 'the page says which tensors share a grid');
    } else {
      t.true(tensor.candidates.some((c) => c.method === tensor.method && c.range.min === tensor.range.min && c.range.max === tensor.range.max), tensor.name);
    }
    t.true(tensor.histogram.counts.length > 0 && tensor.histogram.counts.length <= 160);
    t.true(tensor.histogram.counts.some((c) => c > 0));
  }
});

test('per-layer FP32-against-INT8 error for every quantized activation', (t) => {
  t.is(data.layerErrorFrames, 4);
  for (const tensor of data.tensors) {
    t.true(tensor.sqnrDb !== null && !Number.isNaN(tensor.sqnrDb), `${tensor.name}: SQNR ${tensor.sqnrDb}`);
    t.true(tensor.cosine !== null && tensor.cosine > 0 && tensor.cosine <= 1 + 1e-9, `${tensor.name}: cosine ${tensor.cosine}`);
  }
  // Quantization costs something: no INT8 activation is exact, and the worst are clearly worse than the best.
  const sqnr = data.tensors.map((x) => x.sqnrDb!).filter(Number.isFinite).sort((a, b) => a - b);
  t.true(sqnr.length > data.tensors.length / 2);
  t.true(sqnr[sqnr.length - 1] - sqnr[0] > 10, `SQNR from ${sqnr[0]} to ${sqnr[sqnr.length - 1]} dB`);
  t.is((html.match(/<tr data-tensor=/g) ?? []).length, data.tensors.length, 'one row per tensor in the error table');
});

test('the kept-float tables, the check, mAP and latency are on the page', (t) => {
  t.regex(html, /<table class="kept-float">[\s\S]*no activation was kept in float by the mixed-precision search/);
  const floatRows = html.match(/<table class="float-nodes">[\s\S]*?<\/table>/)![0].match(/<tr>/g)!.length - 1;
  t.is(floatRows, result.plan.float.length);
  t.true(result.plan.float.length > 0, 'the detection head stays in float');
  t.regex(html, new RegExp(`INT8 multiply-accumulates</div><div class="value">${(result.macs.int8Fraction * 100).toFixed(1)} %`));
  t.regex(html, /Agreement AP50 with FP32/);
  t.truthy(data.evaluation);
  t.is(data.evaluation!.images, 3);
  t.true(data.evaluation!.fp32.mAP >= 0 && data.evaluation!.fp32.mAP <= 1 && data.evaluation!.int8.mAP >= 0);
  t.regex(html, /mAP@\[\.5:\.95\] FP32 → INT8/);
  t.truthy(data.latency);
  t.true(data.latency!.fp32Ms > 0 && data.latency!.int8Ms > 0);
});

test('tensors the search kept in float are listed with their rank and the trials that decided it; names are escaped', (t) => {
  const [first, second] = data.tensors;
  const hostile = '<script>alert(1)</script>';
  const variant: QuantizationReportData = {
    ...data,
    tensors: data.tensors.map((x, i) => (i === 0 ? { ...x, name: hostile, keptFloat: true } : x)),
    keptFloat: [
      { name: hostile, rank: 1, error: 0.25, why: 'rank 1 of 2 by the output error it causes alone in INT8' },
      { name: second.name, rank: 2, error: 0.125, why: 'rank 2 of 2' },
    ],
  };
  const page = renderReportHtml(variant);
  t.is(tagProblem(page), null);
  t.false(page.includes(hostile), 'a tensor name is text, never markup');
  const kept = page.match(/<table class="kept-float">[\s\S]*?<\/table>/)![0];
  t.is(kept.match(/<tr>/g)!.length - 1, 2);
  t.regex(kept, /&lt;script&gt;alert\(1\)&lt;\/script&gt;[\s\S]*rank 1 of 2/);
  t.regex(page, /kept float<\/span>/);
  t.not(first.name, hostile);
});

const chromium = ['chromium', 'chromium-browser', 'google-chrome'].map((name) =>
  (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, name)).find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }),
).find(Boolean);
if (!chromium) console.log('skipping the headless Chromium render: no chromium on PATH (Debian: apt-get install chromium)');

(chromium ? test : test.skip)('headless Chromium renders the page to a screenshot', async (t) => {
  const png = path.join(dir, 'report.png');
  await promisify(execFile)(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', `--screenshot=${png}`, '--window-size=1400,3000', `file://${reportFile()}`], { timeout: 60_000 });
  const bytes = await fs.readFile(png);
  t.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  t.true(bytes.length > 50_000, `${bytes.length} bytes: a page with content, not a blank one`);
});

test('CLI: quantize --report writes the page beside the model', async (t) => {
  const images = await fs.mkdtemp(path.join(dir, 'calib-'));
  for (const f of (await fs.readdir(coco.calibImages)).sort().slice(0, 2)) await fs.copyFile(path.join(coco.calibImages, f), path.join(images, f));
  const out = await fs.mkdtemp(path.join(dir, 'out-'));
  const report = path.join(out, 'report.html');
  const run = await runCli(['quantize', '--model', models.yoloxNano, '--calib', images, '--out', path.join(out, 'm.int8.onnx'), '--no-search', '--report', report]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, new RegExp(`report\\s+${report.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  t.regex(run.stdout, /latency\s+FP32 [\d.]+ ms, INT8 [\d.]+ ms/);
  t.deepEqual((await fs.readdir(out)).sort(), ['m.int8.onnx', 'report.html']);
  const page = await fs.readFile(report, 'utf8');
  t.is(tagProblem(page), null);
  t.true((page.match(/<svg class="hist"/g) ?? []).length > 100);
  const usage = await runCli(['quantize', '--model', models.yoloxNano, '--calib', images, '--out', path.join(out, 'x.onnx'), '--eval-images', images]);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /--eval-images and --eval-annotations go together/);
});
