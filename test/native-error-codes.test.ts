/**
 * The native modules and TypeScript share one list of error codes: native/common/native_error.cc
 * spells each Int8DetectErrorCode once, and no other native source spells one. Reads the C++
 * sources as text, so it fails before any module is rebuilt.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INT8_DETECT_ERROR_CODES } from '../lib/util/errors';
import { packageRoot } from '../lib/util/package';
import { coreTestModuleMissing, loadCoreTestModule } from './helpers/core-test-module';

const nativeDir = path.join(packageRoot, 'native');
const codeLiteral = /"(ERR_[A-Z0-9_]+)"/g;

function sourcesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(full);
    return /\.(cc|h)$/.test(entry.name) ? [full] : [];
  });
}

function codesIn(file: string): string[] {
  return [...fs.readFileSync(file, 'utf8').matchAll(codeLiteral)].map((m) => m[1]);
}

test('native/common/native_error.cc spells exactly the codes of the TypeScript union', (t) => {
  const native = codesIn(path.join(nativeDir, 'common', 'native_error.cc'));
  t.deepEqual([...native].sort(), [...INT8_DETECT_ERROR_CODES].sort());
  t.is(new Set(native).size, native.length, 'each code once');
});

test('no other native source spells an error code: every throw goes through ErrorCode', (t) => {
  const elsewhere = sourcesUnder(nativeDir)
    .filter((file) => path.relative(nativeDir, file) !== path.join('common', 'native_error.cc'))
    .flatMap((file) => codesIn(file).map((code) => `${path.relative(packageRoot, file)}: ${code}`));
  t.deepEqual(elsewhere, []);
});

test('every enumerator of ErrorCode has its name, in the order of the TypeScript list', (t) => {
  const header = fs.readFileSync(path.join(nativeDir, 'common', 'native_error.h'), 'utf8');
  const body = /enum class ErrorCode \{([^}]*)\}/.exec(header)?.[1] ?? '';
  const enumerators = [...body.matchAll(/^\s*(k[A-Za-z]+),/gm)].map((m) => m[1]);
  // kBackendUnavailable <-> ERR_BACKEND_UNAVAILABLE, kEngineBuild <-> ERR_ENGINE_BUILD, ...
  const spelled = enumerators.map((name) => `ERR_${name.slice(1).replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`);
  t.deepEqual(spelled, [...INT8_DETECT_ERROR_CODES]);
});

(coreTestModuleMissing === undefined ? test : test.skip)('a native rejection carries a code of the union, and bad options name the option', async (t) => {
  const core = loadCoreTestModule();
  const err = t.throws(() => core.testCalibrationBridge({ pull: () => null, elementsPerBatch: 2.5, timeoutMs: 10, maxBatches: 1 }));
  t.is((err as Error & { code?: string }).code, 'ERR_ARGUMENT');
  t.is(err?.message, 'Expected a positive integer for options.elementsPerBatch but received 2.5 (number)');
  t.false(err instanceof TypeError, 'a coded Error, not an uncoded TypeError');
  const rejected = await t.throwsAsync(core.testCalibrationBridge({ pull: () => new Float32Array(1), elementsPerBatch: 2, timeoutMs: 1000, maxBatches: 1 }).promise);
  t.true((INT8_DETECT_ERROR_CODES as readonly string[]).includes((rejected as Error & { code?: string }).code ?? ''), String((rejected as Error & { code?: string }).code));
});
