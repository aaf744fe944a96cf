/**
 * Where each native module can come from, in the order the loaders try them:
 *
 * 1. an explicit file from the environment (INT8_DETECT_OPENVINO_MODULE, for OpenVINO);
 * 2. the platform package `@int8-detect/<platform>-<arch>` that npm installed through
 *    `optionalDependencies` (sharp's pattern): prebuilt, and for OpenVINO with its runtime beside it;
 * 3. the package's own `prebuilds/<platform>-<arch>/` (`npm run prebuild`);
 * 4. a local build, `build/Release/` (`npm run build:native`, `npx int8-detect build-native`).
 *
 * A development checkout (a `.git` beside package.json) tries its local build first: what its
 * developer just compiled must win over a published platform package of the same version.
 * This file only finds files; loading them (in a child process first) is the loaders' job.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../util/package';

/** 'core', or a runtime's module name (OptionalModuleSpec.name): int8_detect_<name>.node. */
export type NativeModuleName = string;
export type BinarySource = 'environment' | 'platform-package' | 'prebuilds' | 'local-build';

export interface BinaryCandidate {
  source: BinarySource;
  file: string;
}

export interface PlatformPackage {
  /** `@int8-detect/linux-x64`. */
  name: string;
  /** Its folder, when it is installed and matches this version of int8-detect. */
  dir?: string;
  version?: string;
  /** The OpenVINO version it carries, and for which devices ('cpu' or 'all'). */
  openvino?: string;
  openvinoDevices?: string;
  /** Why it is not used, when it is not. */
  reason?: string;
}

export interface BinaryLookup {
  /** Every place tried, in order; `found` is the first that exists. */
  tried: BinaryCandidate[];
  found?: BinaryCandidate;
  platformPackage: PlatformPackage;
}

/** Each module's file name, the same in build/Release, prebuilds and the platform package's lib/. */
export function nativeModuleFile(module: NativeModuleName): string {
  return `int8_detect_${module}.node`;
}

/** The platform package for this process: `@int8-detect/${platform}-${arch}`. */
export function platformPackageName(platform: string = process.platform, arch: string = process.arch): string {
  return `@int8-detect/${platform}-${arch}`;
}

interface PlatformManifest {
  name: string;
  version: string;
  'int8-detect'?: { openvino?: string; openvinoDevices?: string };
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/**
 * The installed platform package, resolved from the package root as Node resolves dependencies.
 * A package of another version is refused: the JavaScript and the native modules ship together.
 */
export function findPlatformPackage(root: string = packageRoot): PlatformPackage {
  const name = platformPackageName();
  let manifestFile: string;
  try {
    manifestFile = require.resolve(`${name}/package.json`, { paths: [root] });
  } catch {
    return { name, reason: `${name} is not installed (npm installs it with int8-detect on ${process.platform}-${process.arch}: see the README's install section)` };
  }
  const manifest = readJson<PlatformManifest>(manifestFile);
  const own = readJson<{ version: string }>(path.join(root, 'package.json')).version;
  const dir = path.dirname(manifestFile);
  const info = manifest['int8-detect'] ?? {};
  if (manifest.version !== own) {
    return { name, version: manifest.version, reason: `${name}@${manifest.version} in ${dir} does not match int8-detect@${own}: reinstall int8-detect` };
  }
  return { name, dir, version: manifest.version, openvino: info.openvino, openvinoDevices: info.openvinoDevices };
}

let libcCache: 'glibc' | 'musl' | undefined;

/** glibc or musl, as Node's own report says (sharp's and detect-libc's way); Linux only. */
function linuxLibc(): 'glibc' | 'musl' {
  if (libcCache === undefined) {
    const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    libcCache = header?.glibcVersionRuntime ? 'glibc' : 'musl';
  }
  return libcCache;
}

/**
 * Whether a prebuilt file's name tags fit this process (prebuildify's `<name>.<tag>...node`):
 * an ABI tag must be this Node's, a libc tag this libc.
 */
function prebuildTagsFit(file: string): boolean {
  const tags = file.split('.').slice(1, -1);
  return tags.every((tag) => {
    if (/^abi\d+$/.test(tag)) return tag === `abi${process.versions.modules}`;
    if (tag === 'glibc' || tag === 'musl') return process.platform === 'linux' && tag === linuxLibc();
    return true;
  });
}

/**
 * The module's prebuilt file in prebuilds/<platform>-<arch>/: the core is whichever `.node` there
 * is not another module's int8_detect_<name>.node (prebuildify names it after the runtime, e.g. node.napi.node).
 */
function prebuiltFile(root: string, module: NativeModuleName): string | undefined {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return undefined;
  }
  // Another module is int8_detect_<name>.node; the core may also carry prebuildify's name.
  const own = names.filter((name) => name.endsWith('.node') && (module === 'core' ? !name.startsWith('int8_detect_') || name.startsWith('int8_detect_core.') : name.startsWith(`int8_detect_${module}.`)));
  const fitting = own.filter(prebuildTagsFit);
  // N-API builds first: one file serves every Node version.
  const chosen = fitting.find((name) => name.split('.').includes('napi')) ?? fitting[0];
  return chosen === undefined ? undefined : path.join(dir, chosen);
}

/**
 * Every place the module may be, in the order above, and the first that exists. `environment`
 * is an explicit file that, when given, is the only candidate (a test or a user said so).
 */
export function findNativeModule(module: NativeModuleName, options: { root?: string; environment?: string } = {}): BinaryLookup {
  const root = options.root ?? packageRoot;
  const platformPackage = findPlatformPackage(root);
  if (options.environment !== undefined) {
    const only: BinaryCandidate = { source: 'environment', file: path.resolve(options.environment) };
    return { tried: [only], found: fs.existsSync(only.file) ? only : undefined, platformPackage };
  }
  const file = nativeModuleFile(module);
  const fromPlatform: BinaryCandidate[] = platformPackage.dir ? [{ source: 'platform-package', file: path.join(platformPackage.dir, 'lib', file) }] : [];
  const prebuilt = prebuiltFile(root, module);
  const fromPrebuilds: BinaryCandidate[] = [{ source: 'prebuilds', file: prebuilt ?? path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, file) }];
  const fromBuild: BinaryCandidate[] = [{ source: 'local-build', file: path.join(root, 'build', 'Release', file) }];
  const tried = isDevelopmentCheckout(root) ? [...fromBuild, ...fromPlatform, ...fromPrebuilds] : [...fromPlatform, ...fromPrebuilds, ...fromBuild];
  return { tried, found: tried.find((candidate) => fs.existsSync(candidate.file)), platformPackage };
}

/** Whether int8-detect lists a platform package for this platform (one a release publishes). */
export function isPlatformPublished(root: string = packageRoot): boolean {
  const manifest = readJson<{ optionalDependencies?: Record<string, string> }>(path.join(root, 'package.json'));
  return Object.keys(manifest.optionalDependencies ?? {}).includes(platformPackageName());
}

/** A git checkout (a .git beside package.json): its local build comes first, and its advice is a checkout's. */
export function isDevelopmentCheckout(root: string = packageRoot): boolean {
  return fs.existsSync(path.join(root, '.git'));
}

/** "the platform package @int8-detect/linux-x64", "prebuilds/", ... for probe() and error messages. */
export function describeBinarySource(candidate: BinaryCandidate, platformPackage?: PlatformPackage): string {
  switch (candidate.source) {
    case 'environment':
      return `the file the environment names (${candidate.file})`;
    case 'platform-package':
      return `the platform package ${platformPackage?.name ?? platformPackageName()}`;
    case 'prebuilds':
      return 'prebuilds/';
    case 'local-build':
      return 'the local build (build/Release)';
  }
}
