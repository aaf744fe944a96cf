#!/usr/bin/env node
// npm run pack: writes every tarball a user's install needs into pack/: the main package and the
// platform package of this machine (scripts/pack-platform.js stages it). `npm install ./pack/*.tgz`
// in an empty folder then gives a working install, OpenVINO included, with no compiler and no Python.
// Prints the packed and unpacked size of each tarball beside onnxruntime-node's, and writes them
// to pack/sizes.json.
//
//   node scripts/pack.js [--out DIR] [--skip-build] [--openvino-devices cpu|all] [--json]
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { stagePlatformPackage } = require('./pack-platform');

const root = path.resolve(__dirname, '..');

/** npm itself: the one running this script (npm run pack), else the npm on the PATH. */
function npm(args, options = {}) {
  const execPath = process.env.npm_execpath;
  const [command, prefix] = execPath && execPath.endsWith('.js') ? [process.execPath, [execPath]] : ['npm', []];
  return execFileSync(command, [...prefix, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: command === 'npm' && process.platform === 'win32',
    ...options,
  });
}

function build() {
  console.error('pack: building the TypeScript and the native modules (npm run build:ts, npm run build:native)');
  // tsc never deletes the output of a source file that moved or went: start from an empty dist/.
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  npm(['run', 'build:ts'], { stdio: 'inherit' });
  npm(['run', 'build:native'], { stdio: 'inherit' });
}

/** `npm pack --json` of a folder into `out`: the tarball's name, packed and unpacked size, entries. */
function packFolder(folder, out) {
  const [result] = JSON.parse(npm(['pack', folder, '--ignore-scripts', '--json', '--pack-destination', out], { cwd: root }));
  return { name: result.name, version: result.version, file: result.filename, packed: result.size, unpacked: result.unpackedSize, entries: result.entryCount };
}

/**
 * onnxruntime-node's registry tarball, the yardstick of the size budget: `npm pack --dry-run` of the
 * installed version reads it from the npm cache (the project's own install put it there).
 */
function onnxRuntimeNodeSize() {
  const { version } = JSON.parse(fs.readFileSync(require.resolve('onnxruntime-node/package.json', { paths: [root] }), 'utf8'));
  const [result] = JSON.parse(npm(['pack', `onnxruntime-node@${version}`, '--dry-run', '--json', '--prefer-offline'], { cwd: os.tmpdir() }));
  return { name: 'onnxruntime-node (for comparison)', version, packed: result.size, unpacked: result.unpackedSize, entries: result.entryCount };
}

function mb(bytes) {
  return bytes === undefined ? '' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(root, 'pack') },
      'skip-build': { type: 'boolean', default: false },
      'openvino-devices': { type: 'string', default: 'cpu' },
      json: { type: 'boolean', default: false },
    },
  });
  const devices = values['openvino-devices'];
  if (devices !== 'cpu' && devices !== 'all') throw new Error(`--openvino-devices expects cpu or all, got ${devices}`);
  const out = path.resolve(values.out);

  // The main package names each platform package at its own version: a release bump must change both.
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const platformName = `@int8-detect/${process.platform}-${process.arch}`;
  if ((manifest.optionalDependencies ?? {})[platformName] !== manifest.version) {
    throw new Error(`package.json's optionalDependencies must name ${platformName} at ${manifest.version} (it has ${JSON.stringify(manifest.optionalDependencies ?? {})})`);
  }
  if (!values['skip-build']) build();
  fs.mkdirSync(out, { recursive: true });
  // Exactly this run's tarballs, so that ./pack/*.tgz is the set a user installs.
  for (const file of fs.readdirSync(out)) if (file.endsWith('.tgz')) fs.rmSync(path.join(out, file));

  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'int8-detect-platform-'));
  try {
    const platform = stagePlatformPackage({ stage, devices });
    console.error(`pack: staged ${platform.name} (OpenVINO ${platform.openvino.version}: ${platform.openvino.files.length} files, devices ${platform.openvinoDevicesSeen.join(', ')})`);
    const packages = [packFolder(stage, out), packFolder(root, out)];
    const report = { platform: platform.platform, openvino: platform.openvino, needs: platform.needs, packages, compare: onnxRuntimeNodeSize() };
    fs.writeFileSync(path.join(out, 'sizes.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const rows = [...packages, report.compare].map((p) => [`${p.name}@${p.version}`, mb(p.packed), mb(p.unpacked), String(p.entries), p.file ? path.join(path.relative(process.cwd(), out) || '.', p.file) : '']);
      const header = ['package', 'packed', 'unpacked', 'files', 'tarball'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()}\n`);
    }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  console.error(`pack: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
