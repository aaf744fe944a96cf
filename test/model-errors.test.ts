import test from 'ava';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { models } from './helpers/fixtures';
import { gridCells, tinyModel } from './helpers/tiny-onnx';

let dir: string;
test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-model-errors-'));
});
test.after.always(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function expectModelError(t: import('ava').ExecutionContext, model: string, pattern: RegExp, code = 'ERR_MODEL') {
  const err = await t.throwsAsync(createEngine({ model }), { message: pattern });
  t.is((err as { code?: string }).code, code, err?.message);
}

test('a missing model names the file', async (t) => {
  const missing = path.join(dir, 'missing.onnx');
  await expectModelError(t, missing, new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*no such file`));
});

test('a file that is not ONNX is refused with a clear message', async (t) => {
  const text = path.join(dir, 'notes.onnx');
  await fs.writeFile(text, 'this is not a model, just some text that happens to end in .onnx\n');
  await expectModelError(t, text, /notes\.onnx.*(not an ONNX model|ONNX)/i);
});

test('a truncated model is refused with a clear message', async (t) => {
  const bytes = await fs.readFile(models.yoloxNano);
  const truncated = path.join(dir, 'truncated.onnx');
  await fs.writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await expectModelError(t, truncated, /truncated\.onnx.*truncated/i);
});

test('a directory given as the model is refused', async (t) => {
  await expectModelError(t, dir, /directory/);
});

test('an output shape no decoder recognises is an ERR_DECODER naming the output and shape', async (t) => {
  const file = path.join(dir, 'odd-output.onnx');
  await fs.writeFile(file, tinyModel({ inputDims: [1, 3, 64, 64], outputDims: [1, 7, 13], outputName: 'logits' }));
  const err = await t.throwsAsync(createEngine({ model: file }), { message: /logits.*\[1, ?7, ?13\]/ });
  t.is((err as { code?: string }).code, 'ERR_DECODER');
  t.regex(err!.message, /family/);
});

test('the tiny test model is recognised as a YOLOX head by its grid', async (t) => {
  const file = path.join(dir, 'tiny-yolox.onnx');
  await fs.writeFile(file, tinyModel({ inputDims: [1, 3, 64, 64], outputDims: [1, gridCells(64, 64), 85] }));
  const engine = await createEngine({ model: file });
  try {
    t.is(engine.info.model.family, 'yolox');
    t.deepEqual(await engine.detect({ data: Buffer.alloc(32 * 32 * 3), width: 32, height: 32, format: 'rgb' }), []);
  } finally {
    await engine.dispose();
  }
});

test('an unavailable backend is an error that says why', async (t) => {
  const err = await t.throwsAsync(createEngine({ model: models.yoloxNano, backend: 'tensorrt' }));
  t.is((err as { code?: string }).code, 'ERR_BACKEND_UNAVAILABLE');
  t.regex(err!.message, /tensorrt/i);
  await t.throwsAsync(createEngine({ model: models.yoloxNano, backend: 'nope' as 'tensorrt' }), { message: /options.backend/ });
  await t.throwsAsync(createEngine({ model: models.yoloxNano, precision: 'int8' }), { message: /float model/ });
});
