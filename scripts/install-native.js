#!/usr/bin/env node
// Install-time check of the core addon. npm 11 runs no dependency install scripts unless the user
// approves them, so a published package must work from its prebuilds/ without this script; where
// it does run, it only builds from source when no prebuilt binary loads (node-llama-cpp's order:
// prebuilt first, building from source an explicit fallback, never a surprise).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function loads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

if (loads()) process.exit(0);
if (fs.existsSync(path.join(root, '.git'))) {
  // A development checkout: `npm install` runs `prepare`, which builds the addon with cmake-js next.
  process.exit(0);
}
console.error(`int8-detect: no prebuilt core addon for ${process.platform}-${process.arch}; building it from source with node-gyp`);
const result = spawnSync(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('int8-detect: building the core addon failed; it needs a C++17 compiler and Python (node-gyp). See the README.');
  process.exit(1);
}
