/** createEngine's own options: strict keys, bounded numbers, checked before anything is opened. */
import test from 'ava';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../lib/engine';
import { maxThreads, MAX_CONCURRENCY } from '../lib/engine/options';
import { Int8DetectError } from '../lib/util/errors';
import { models } from './helpers/fixtures';

const model = models.yoloxNano;

test('an unknown option is refused, naming the closest known one', async (t) => {
  const misspelt = { model, treads: 2 } as unknown as Parameters<typeof createEngine>[0];
  const err = await t.throwsAsync(createEngine(misspelt), { instanceOf: Int8DetectError });
  t.is((err as Int8DetectError).code, 'ERR_ARGUMENT');
  t.regex(err!.message, /Unknown option 'treads' for createEngine\(\): did you mean 'threads'\?/);
  const unrelated = { model, colour: 'red' } as unknown as Parameters<typeof createEngine>[0];
  await t.throwsAsync(createEngine(unrelated), { message: /Unknown option 'colour' for createEngine\(\): the options are model, backend, .*onnxruntime/ });
});

test('threads and concurrency are bounded, and the message says the bound', async (t) => {
  const started = Date.now();
  await t.throwsAsync(createEngine({ model, threads: 1e6 }), { message: new RegExp(`options.threads is 1000000, above its bound of ${maxThreads()} \\(4 threads per core`) });
  await t.throwsAsync(createEngine({ model, concurrency: 1000 }), { message: new RegExp(`options.concurrency is 1000, above its bound of ${MAX_CONCURRENCY}`) });
  await t.throwsAsync(createEngine({ model, concurrency: 0 }), { message: /Expected a positive integer for options.concurrency but received 0/ });
  t.true(Date.now() - started < 5000, 'refused at once, before any worker starts');
});

test("a backend's own option group is checked up front", async (t) => {
  await t.throwsAsync(createEngine({ model, onnxruntime: { profilePrefix: 'x' } as never }), { message: /Unknown option options.onnxruntime.profilePrefix/ });
  await t.throwsAsync(createEngine({ model, openvino: { performanceHint: 'fast' as never } }), { message: /options.openvino.performanceHint/ });
});

test('an ONNX Runtime profile prefix in a folder that does not exist is refused', async (t) => {
  const missing = path.join(os.tmpdir(), 'int8-detect-no-such-folder', 'profile');
  await t.throwsAsync(createEngine({ model, backend: 'onnxruntime', onnxruntime: { profileFilePrefix: missing } }), {
    message: /profileFilePrefix .* is in .*int8-detect-no-such-folder, which is not a folder that exists/,
  });
});
