#!/usr/bin/env node
// The fresh-install test: what a user gets from `npm install int8-detect`, checked on this machine.
//
//   node scripts/fresh-install-test.js [--no-pack] [--hide-venv] [--keep]
//
// 1. `npm run pack` writes the main package and this platform's package into pack/ (--no-pack: use
//    what is there).
// 2. The npm cache is warmed with one ordinary install in a throwaway folder, so that step 3 needs
//    no network (npm's --offline needs every dependency's metadata in the cache).
// 3. In an empty temporary folder: `npm install --offline --ignore-scripts ./pack/*.tgz`, with cmake,
//    the C/C++ compilers, make, ninja and python hidden from the PATH and, where `unshare` can, no
//    network at all (a network namespace). --hide-venv also hides the project's .venv (the
//    OpenVINO wheel): a tmpfs mounted over it in a mount namespace, or, without one, a rename.
// 4. Then, in that folder, under the same conditions: `npx int8-detect probe` must report OpenVINO
//    available from the platform package; createEngine({ backend: 'auto' }) must pick OpenVINO on
//    x86-64 and load every OpenVINO library from the platform package; `detect` and
//    `quantize --backend openvino` must work on the fixtures.
// Prints one line per check and ends with "N passed, N failed"; exits 1 when any check fails.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const root = path.resolve(__dirname, '..');
const { values: flags } = parseArgs({
  options: { 'no-pack': { type: 'boolean', default: false }, 'hide-venv': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false } },
});

const results = { passed: 0, failed: 0 };
function check(ok, what, detail) {
  results[ok ? 'passed' : 'failed'] += 1;
  console.log(`${ok ? 'ok    ' : 'NOT OK'} ${what}${detail ? `: ${detail}` : ''}`);
  return ok;
}

// ------------------------------------------------------------------ the environment of a user
/** Names a source build would need; the install and first use must work without any of them. */
const BUILD_TOOLS = /^(cmake|ccmake|cpack|ctest|c\+\+|g\+\+|gcc|cc|cpp|clang|clang\+\+|make|gmake|ninja|node-gyp|python[0-9.]*|pip[0-9.]*)$|^(\w+-)*(g\+\+|gcc|c\+\+|clang|clang\+\+)(-[0-9.]+)?$/;

/** A folder of links to every program on the PATH except the build tools: the user's PATH. */
function pathWithoutBuildTools(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const hidden = new Set();
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    let names;
    try {
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const link = path.join(dir, name);
      if (BUILD_TOOLS.test(name)) {
        hidden.add(name);
        continue;
      }
      if (fs.existsSync(link)) continue; // the first on the PATH wins, as in a shell
      try {
        fs.accessSync(path.join(folder, name), fs.constants.X_OK);
        fs.symlinkSync(path.join(folder, name), link);
      } catch {
        // not executable, or a name that cannot be linked: not a program this test needs
      }
    }
  }
  return { dir, hidden: [...hidden].sort() };
}

/** Environment variables that would point the package at the project instead of itself. */
function userEnv(pathDir) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(INT8_DETECT_|npm_|LD_LIBRARY_PATH$|DYLD_LIBRARY_PATH$|OpenVINO_DIR$|INTEL_OPENVINO_DIR$|PYTHON|VIRTUAL_ENV$)/.test(name)) continue;
    env[name] = value;
  }
  env.PATH = pathDir;
  return env;
}

/** How to run a command with no network and, with --hide-venv, no .venv: unshare where it can. */
function isolation(venvPaths) {
  if (process.platform !== 'linux') return { prefix: [], how: 'no isolation (unshare is Linux only)' };
  const mounts = venvPaths.map((p) => `mount -t tmpfs tmpfs '${p}'`).join(' && ');
  const inner = mounts ? `${mounts} && exec "$@"` : 'exec "$@"';
  for (const unshareFlags of [['-n', '-m'], ['-r', '-n', '-m']]) {
    const trial = spawnSync('unshare', [...unshareFlags, '--', 'sh', '-c', inner, 'sh', 'true'], { stdio: 'ignore' });
    if (trial.status === 0) {
      return {
        prefix: ['unshare', ...unshareFlags, '--', 'sh', '-c', inner, 'sh'],
        how: `unshare ${unshareFlags.join(' ')}: no network${venvPaths.length ? `, ${venvPaths.join(' and ')} hidden under an empty tmpfs` : ''}`,
      };
    }
  }
  return { prefix: [], how: 'no network namespace available: npm --offline only' };
}

// ------------------------------------------------------------------ steps
function run(command, args, options) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

function lastLines(text, count = 8) {
  return text.trim().split('\n').slice(-count).join('\n');
}

function pack() {
  if (flags['no-pack']) return;
  console.log('== npm run pack');
  const result = run('npm', ['run', 'pack'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error('npm run pack failed');
}

function tarballs() {
  const dir = path.join(root, 'pack');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.tgz')).map((f) => path.join(dir, f)) : [];
  if (files.length < 2) throw new Error(`pack/ holds ${files.length} tarballs; expected the main package and a platform package: run 'npm run pack'`);
  return files;
}

function newProject(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'fresh-install', version: '1.0.0', private: true })}\n`);
  return dir;
}

function warmCache(files) {
  console.log('== warm the npm cache (an ordinary install in a throwaway folder)');
  const dir = newProject('int8-detect-warm-');
  try {
    const result = run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', ...files], { cwd: dir });
    if (result.status !== 0) throw new Error(`warming the npm cache failed:\n${lastLines(result.stderr)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function fixtures() {
  const dir = path.resolve(process.env.INT8_DETECT_FIXTURES ?? path.join(root, '..', 'shared', 'fixtures'));
  const images = path.join(dir, 'coco', 'eval', 'images');
  const preferred = path.join(images, '000000000790.jpg');
  return {
    model: path.join(dir, 'models', 'yolox_nano.onnx'),
    image: fs.existsSync(preferred) ? preferred : path.join(images, fs.readdirSync(images).sort()[0]),
    calib: path.join(dir, 'coco', 'calib'),
  };
}

/** Inside the fresh project: the API with backend 'auto', and which files OpenVINO's libraries came from. */
const API_SCRIPT = `
const fs = require('node:fs');
const { createEngine } = require('int8-detect');
(async () => {
  const engine = await createEngine({ model: process.argv[1], backend: 'auto' });
  const detections = await engine.detect(process.argv[2]);
  const maps = process.platform === 'linux' ? fs.readFileSync('/proc/self/maps', 'utf8') : '';
  const libraries = [...new Set(maps.split('\\n').map((line) => line.split(/\\s+/)[5]).filter((file) => file && /openvino|libtbb|int8_detect/.test(file)))];
  console.log(JSON.stringify({ backend: engine.info.backend, reason: engine.info.reasons.backend, detections: detections.length, labels: detections.map((d) => d.label), libraries }));
  await engine.dispose();
})().catch((err) => { console.error(err.stack); process.exit(1); });`;

function main() {
  pack();
  const files = tarballs();
  console.log(`tarballs: ${files.map((f) => path.relative(root, f)).join(', ')}`);
  warmCache(files);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-fresh-'));
  const venv = path.join(root, '.venv');
  let renamedVenv;
  try {
    const userPath = pathWithoutBuildTools(path.join(work, 'bin'));
    const env = userEnv(userPath.dir);
    let venvPaths = [];
    if (flags['hide-venv'] && fs.existsSync(venv)) venvPaths = [...new Set([venv, fs.realpathSync(venv)])];
    let isolated = isolation(venvPaths);
    if (venvPaths.length > 0 && isolated.prefix.length === 0) {
      // No mount namespace: move the .venv out of the way for the duration instead.
      renamedVenv = `${venv}.hidden-by-fresh-install-test`;
      fs.renameSync(venv, renamedVenv);
      isolated = { ...isolated, how: `${isolated.how}; .venv renamed to ${path.basename(renamedVenv)}` };
    }
    console.log(`== fresh install in ${work}/project (${isolated.how}; hidden from the PATH: ${userPath.hidden.join(' ') || 'none found'})`);
    const project = path.join(work, 'project');
    fs.renameSync(newProject('int8-detect-project-'), project);
    const user = (command, args) => {
      const [cmd, ...rest] = isolated.prefix.length ? [...isolated.prefix, command, ...args] : [command, ...args];
      return run(cmd, rest, { cwd: project, env });
    };

    const tools = user('sh', ['-c', 'for t in cmake c++ g++ python3; do command -v $t; done; true']);
    check(tools.stdout.trim() === '', 'cmake, c++, g++ and python3 are not on the PATH', tools.stdout.trim() || undefined);
    if (venvPaths.length > 0 && isolated.prefix.length > 0) {
      const listing = user('sh', ['-c', `ls -A '${venvPaths[0]}' | wc -l`]);
      check(listing.stdout.trim() === '0', `${venvPaths[0]} is empty for the install and first use`, `${listing.stdout.trim()} entries`);
    }

    const started = Date.now();
    const install = user('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', ...files]);
    if (!check(install.status === 0, `npm install --offline --ignore-scripts ${files.map((f) => path.basename(f)).join(' ')}`, install.status === 0 ? `${((Date.now() - started) / 1000).toFixed(1)} s` : lastLines(install.stderr))) return;
    const platformDir = path.join(project, 'node_modules', '@int8-detect', `${process.platform}-${process.arch}`);
    check(fs.existsSync(path.join(platformDir, 'lib', 'int8_detect_openvino.node')), `the platform package is installed (${path.relative(project, platformDir)})`);
    check(!fs.existsSync(path.join(project, 'node_modules', 'int8-detect', 'build')), 'nothing was built: node_modules/int8-detect has no build/');

    const probe = user('npx', ['int8-detect', 'probe', '--json']);
    let report;
    try {
      report = JSON.parse(probe.stdout);
    } catch {
      check(false, 'npx int8-detect probe --json', lastLines(probe.stderr || probe.stdout));
    }
    if (report) {
      const ov = report.backends.openvino;
      check(ov.available === true, 'probe: OpenVINO available', ov.available ? `${ov.version} on ${ov.devices.join(', ')}` : ov.reason);
      check(ov.module?.source === 'platform-package', 'probe: the OpenVINO module came from the platform package', ov.module ? `${ov.module.source}: ${ov.module.file}` : 'probe names no module source');
      check(report.core?.source === 'platform-package', 'probe: the core addon came from the platform package', report.core ? `${report.core.source}: ${report.core.file}` : 'probe names no core source');
      console.log(`       probe's TensorRT line: ${report.backends.tensorrt.reason}`);
    }

    const fx = fixtures();
    const api = user('node', ['-e', API_SCRIPT, fx.model, fx.image]);
    let engine;
    try {
      engine = JSON.parse(api.stdout.trim().split('\n').pop());
    } catch {
      check(false, "createEngine({ backend: 'auto' })", lastLines(api.stderr || api.stdout));
    }
    if (engine) {
      if (process.arch === 'x64') check(engine.backend === 'openvino', "createEngine({ backend: 'auto' }) picks OpenVINO on x86-64", engine.reason);
      else console.log(`       backend 'auto' on ${process.arch}: ${engine.backend} (${engine.reason})`);
      check(engine.detections > 0, `engine.detect() on ${path.basename(fx.image)}`, `${engine.detections} detections: ${[...new Set(engine.labels)].join(', ')}`);
      if (process.platform === 'linux') {
        const ovLibs = engine.libraries.filter((file) => /openvino|libtbb/.test(file));
        const outside = ovLibs.filter((file) => !file.startsWith(platformDir));
        check(ovLibs.length > 0 && outside.length === 0, 'every OpenVINO and TBB library loaded comes from the platform package', outside.length ? `from elsewhere: ${outside.join(', ')}` : `${ovLibs.length} files: ${ovLibs.map((f) => path.basename(f)).join(' ')}`);
      }
    }

    const detect = user('npx', ['int8-detect', 'detect', fx.image, '--model', fx.model, '--json']);
    const detected = detect.status === 0 ? JSON.parse(detect.stdout.trim().split('\n')[0]).detections.length : 0;
    check(detected > 0, `npx int8-detect detect ${path.basename(fx.image)} --model yolox_nano.onnx`, detect.status === 0 ? `${detected} detections` : lastLines(detect.stderr));

    const ir = path.join(work, 'yolox_nano.int8.xml');
    const quantize = user('npx', ['int8-detect', 'quantize', '--backend', 'openvino', '--model', fx.model, '--calib', fx.calib, '--out', ir, '--subset', '16', '--held-back', '8', '--no-search']);
    const irOk = quantize.status === 0 && fs.existsSync(ir) && fs.existsSync(ir.replace(/\.xml$/, '.bin'));
    check(irOk, 'npx int8-detect quantize --backend openvino (16 calibration images, 8 held back)', irOk ? lastLines(quantize.stdout, 20).split('\n').filter((l) => /^(check|FakeQuantize)/.test(l)).join(' | ') : lastLines(quantize.stderr || quantize.stdout));
    if (irOk) {
      const irDetect = user('npx', ['int8-detect', 'detect', fx.image, '--model', ir, '--backend', 'openvino', '--json']);
      const count = irDetect.status === 0 ? JSON.parse(irDetect.stdout.trim().split('\n')[0]).detections.length : 0;
      check(count > 0, 'npx int8-detect detect with the INT8 IR on OpenVINO', irDetect.status === 0 ? `${count} detections` : lastLines(irDetect.stderr));
    }
  } finally {
    if (renamedVenv) fs.renameSync(renamedVenv, venv);
    if (flags.keep) console.log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  check(false, 'fresh-install test', err instanceof Error ? err.message : String(err));
}
console.log(`\n${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed === 0 ? 0 : 1);
