import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findNativeModule, findPlatformPackage, platformPackageName } from '../lib/native/binaries';
import { findTensorRt, readTensorRtVersion, tensorRtBuildAdvice } from '../lib/runtimes/tensorrt/find-tensorrt';
import { runCli } from './helpers/cli';

const root = path.resolve(__dirname, '..', '..');
const platform = `${process.platform}-${process.arch}`;

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function write(file: string, text = ''): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** An installed int8-detect without a .git: its package.json, and whatever `files` adds. */
function fakePackage(t: { teardown(fn: () => void): void }, version: string, files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-binaries-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  write(path.join(dir, 'package.json'), JSON.stringify({ name: 'int8-detect', version }));
  for (const [file, text] of Object.entries(files)) write(path.join(dir, file), text);
  return dir;
}

function platformPackageFiles(version: string): Record<string, string> {
  const base = `node_modules/${platformPackageName()}`;
  return {
    [`${base}/package.json`]: JSON.stringify({ name: platformPackageName(), version, 'int8-detect': { openvino: '2026.4.1', openvinoDevices: 'cpu' } }),
    [`${base}/lib/int8_detect_core.node`]: '',
    [`${base}/lib/int8_detect_openvino.node`]: '',
  };
}

test('every platform package in npm/ is one of optionalDependencies, at the package version, with matching os/cpu/libc', (t) => {
  const manifest = readJson<{ version: string; optionalDependencies: Record<string, string> }>(path.join(root, 'package.json'));
  const folders = fs.readdirSync(path.join(root, 'npm')).filter((name) => fs.existsSync(path.join(root, 'npm', name, 'package.json')));
  t.true(folders.includes('linux-x64'), `npm/ holds ${folders.join(', ')}`);
  t.deepEqual(Object.keys(manifest.optionalDependencies).sort(), folders.map((folder) => `@int8-detect/${folder}`).sort());
  for (const folder of folders) {
    const pkg = readJson<{ name: string; version: string; os: string[]; cpu: string[]; libc?: string[]; files: string[] }>(path.join(root, 'npm', folder, 'package.json'));
    const [os_, cpu] = folder.split('-');
    t.is(pkg.name, `@int8-detect/${folder}`);
    t.is(pkg.version, manifest.version, `${pkg.name}'s version`);
    t.is(manifest.optionalDependencies[pkg.name], manifest.version, `optionalDependencies['${pkg.name}']`);
    t.deepEqual(pkg.os, [os_]);
    t.deepEqual(pkg.cpu, [cpu]);
    // npm's libc field only exists on Linux: a glibc build must not be installed on musl (Alpine).
    t.deepEqual(pkg.libc, os_ === 'linux' ? ['glibc'] : undefined, `${pkg.name}'s libc`);
    t.true(pkg.files.includes('lib') && pkg.files.includes('licenses'), `${pkg.name} ships lib/ and licenses/`);
  }
});

test('an installed package tries the platform package, then prebuilds/, then the local build', (t) => {
  const prebuilt = `prebuilds/${platform}/int8_detect_openvino.node`;
  const dir = fakePackage(t, '1.2.3', { ...platformPackageFiles('1.2.3'), [prebuilt]: '', 'build/Release/int8_detect_openvino.node': '' });
  const first = findNativeModule('openvino', { root: dir });
  t.deepEqual(
    first.tried.map((c) => c.source),
    ['platform-package', 'prebuilds', 'local-build'],
  );
  t.is(first.found?.source, 'platform-package');
  t.is(first.found?.file, path.join(dir, 'node_modules', platformPackageName(), 'lib', 'int8_detect_openvino.node'));
  t.is(first.platformPackage.openvino, '2026.4.1');

  fs.rmSync(path.join(dir, 'node_modules', platformPackageName(), 'lib', 'int8_detect_openvino.node'));
  t.is(findNativeModule('openvino', { root: dir }).found?.file, path.join(dir, prebuilt));
  fs.rmSync(path.join(dir, prebuilt));
  t.is(findNativeModule('openvino', { root: dir }).found?.source, 'local-build');
  fs.rmSync(path.join(dir, 'build'), { recursive: true });
  t.is(findNativeModule('openvino', { root: dir }).found, undefined);
});

test('a development checkout tries its own build first', (t) => {
  const dir = fakePackage(t, '1.2.3', { ...platformPackageFiles('1.2.3'), '.git/HEAD': 'ref: refs/heads/main\n', 'build/Release/int8_detect_core.node': '' });
  const lookup = findNativeModule('core', { root: dir });
  t.deepEqual(lookup.tried.map((c) => c.source), ['local-build', 'platform-package', 'prebuilds']);
  t.is(lookup.found?.source, 'local-build');
});

test('a platform package of another version is refused, with both versions in the reason', (t) => {
  const dir = fakePackage(t, '2.0.0', platformPackageFiles('1.9.0'));
  const found = findPlatformPackage(dir);
  t.is(found.dir, undefined);
  t.regex(found.reason ?? '', /@1\.9\.0 .* does not match int8-detect@2\.0\.0/);
  t.deepEqual(findNativeModule('core', { root: dir }).tried.map((c) => c.source), ['prebuilds', 'local-build']);
});

test('without the platform package the reason says it is not installed', (t) => {
  const dir = fakePackage(t, '1.0.0');
  t.regex(findPlatformPackage(dir).reason ?? '', new RegExp(`${platformPackageName()} is not installed`));
});

test("prebuilds/: the core is the N-API build among the files that are not an optional backend's, ABI tags must match", (t) => {
  const dir = fakePackage(t, '1.0.0', {
    [`prebuilds/${platform}/int8_detect_openvino.node`]: '',
    [`prebuilds/${platform}/node.abi1.node`]: '',
    [`prebuilds/${platform}/node.napi.node`]: '',
  });
  t.is(findNativeModule('core', { root: dir }).found?.file, path.join(dir, 'prebuilds', platform, 'node.napi.node'));
  fs.rmSync(path.join(dir, 'prebuilds', platform, 'node.napi.node'));
  // An ABI-specific build of another Node version does not load here, so it is not a candidate.
  t.is(findNativeModule('core', { root: dir }).found?.source, undefined);
  t.is(findNativeModule('openvino', { root: dir }).found?.file, path.join(dir, 'prebuilds', platform, 'int8_detect_openvino.node'));
});

test('a file named by the environment is the only candidate', (t) => {
  const dir = fakePackage(t, '1.0.0', platformPackageFiles('1.0.0'));
  const lookup = findNativeModule('openvino', { root: dir, environment: path.join(dir, 'missing.node') });
  t.deepEqual(lookup.tried, [{ source: 'environment', file: path.join(dir, 'missing.node') }]);
  t.is(lookup.found, undefined);
});

// ---------------------------------------------------------------- TensorRT on disk

/** A TensorRT 11 layout: its version macros go through TRT_*_ENTERPRISE, as the real header's do. */
function fakeTensorRt(t: { teardown(fn: () => void): void }): { trt: string; cuda: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-trt-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const version = ['#define TRT_MAJOR_ENTERPRISE 11', '#define TRT_MINOR_ENTERPRISE 1', '#define TRT_PATCH_ENTERPRISE 0',
    '#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE //!< major', '#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE', '#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE'].join('\n');
  write(path.join(dir, 'trt', 'include', 'NvInferVersion.h'), version);
  write(path.join(dir, 'trt', 'include', 'NvInfer.h'));
  write(path.join(dir, 'trt', 'include', 'NvOnnxParser.h'));
  write(path.join(dir, 'trt', 'lib', 'libnvinfer.so.11'));
  write(path.join(dir, 'trt', 'lib', 'libnvonnxparser.so.11'));
  write(path.join(dir, 'cuda', 'include', 'cuda_runtime_api.h'));
  return { trt: path.join(dir, 'trt'), cuda: path.join(dir, 'cuda') };
}

test.serial('findTensorRt: headers, libraries and CUDA under the given roots; what is missing, by name', (t) => {
  const { trt, cuda } = fakeTensorRt(t);
  const saved = process.env.CUDAToolkit_ROOT;
  process.env.CUDAToolkit_ROOT = cuda;
  t.teardown(() => {
    if (saved === undefined) delete process.env.CUDAToolkit_ROOT;
    else process.env.CUDAToolkit_ROOT = saved;
  });
  t.is(readTensorRtVersion(path.join(trt, 'include')), '11.1.0');
  const found = findTensorRt({ root: trt });
  t.true(found.found, found.missing.join('; '));
  t.is(found.includeDir, path.join(trt, 'include'));
  t.is(found.libraryDir, path.join(trt, 'lib'));
  t.is(found.cudaRoot, cuda);
  // What probe() says when TensorRT is here but its module is not: the exact command.
  t.regex(tensorRtBuildAdvice(found, false), /^TensorRT 11\.1\.0 is installed .*: run 'npx int8-detect build-native' to build the module against it$/);
  t.regex(tensorRtBuildAdvice(found, true), /run 'npm run build:native' to build/);

  fs.rmSync(path.join(trt, 'lib', 'libnvonnxparser.so.11'));
  const partial = findTensorRt({ root: trt });
  t.false(partial.found);
  const parserMissing = partial.missing.find((line) => line.startsWith('libnvonnxparser'));
  t.truthy(parserMissing, partial.missing.join('; '));
  t.true(parserMissing?.includes(path.join(trt, 'lib')), 'the reason lists where it looked');
  t.regex(tensorRtBuildAdvice(partial, false), /^install TensorRT and the CUDA toolkit \(not found here: libnvonnxparser\), then run 'npx int8-detect build-native'/);
});

const systemTensorRt = findTensorRt();
(systemTensorRt.found ? test.skip : test)('build-native without TensorRT stops before compiling and names what is missing', async (t) => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-no-trt-'));
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true }));
  const result = await runCli(['build-native', '--tensorrt-root', empty], { timeoutMs: 60_000 });
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /Cannot build the TensorRT module: TensorRT is not installed here/);
  t.true(result.stderr.includes(path.join(empty, 'include')), 'it lists the folder it was given');
  t.regex(result.stderr, /NvInfer\.h/);
  t.regex(result.stderr, /TENSORRT_ROOT/);
  t.false(fs.existsSync(path.join(root, 'build', 'Release', 'int8_detect_tensorrt.node')));
});
