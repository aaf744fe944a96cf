#!/usr/bin/env node
// int8-detect's install script. npm 11 runs no dependency install scripts unless the user approves
// them, so nothing a user needs depends on this one: the core addon and OpenVINO come prebuilt in
// the platform package (@int8-detect/<platform>-<arch>), and nothing is downloaded. Where it runs:
// - in a development checkout it does nothing (npm install runs `prepare` next, which builds);
// - with --build-from-source (`npm rebuild int8-detect --build-from-source`) it builds the TensorRT
//   module against the TensorRT installed here, as `npx int8-detect build-native` does;
// - otherwise it checks that a core addon is there and, when none is, says what to do, without
//   failing the install (loading int8-detect then throws the same advice).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
if (fs.existsSync(path.join(root, '.git'))) process.exit(0);

function fromSource() {
  const value = process.env.npm_config_build_from_source;
  return value !== undefined && value !== '' && value !== 'false';
}

const dist = path.join(root, 'dist', 'lib');
if (fromSource()) {
  // The same as `npx int8-detect build-native`: the TensorRT module against the TensorRT installed here.
  const { spawnSync } = require('node:child_process');
  const result = spawnSync(process.execPath, [path.join(dist, 'cli', 'main.js'), 'build-native'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
} else {
  const { findNativeModule } = require(path.join(dist, 'native/binaries.js'));
  const lookup = findNativeModule('core');
  if (!lookup.found) {
    console.error(
      `int8-detect: no prebuilt core addon for ${process.platform}-${process.arch}: ${lookup.platformPackage.reason ?? 'none found'}. ` +
        'If npm skipped the platform package (a lockfile made on another platform, --omit=optional), reinstall with ' +
        `'npm install --os=${process.platform} --cpu=${process.arch} int8-detect'; see the README's platform table.`,
    );
  }
}
