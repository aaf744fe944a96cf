import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const prebuilds = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);

// `npm run prebuild` makes prebuilds/ (CI runs it before the tests); on a developer's machine
// without it the check is skipped, saying so.
const hasPrebuild = existsSync(prebuilds);
if (!hasPrebuild && !process.env.CI) {
  console.log(`prebuild test skipped: ${prebuilds} is missing (run 'npm run prebuild')`);
}

(hasPrebuild || process.env.CI ? test : test.skip)('the prebuilt binary loads in a copy of the package with no build folder', async (t) => {
  t.true(hasPrebuild, `${prebuilds} is missing: run 'npm run prebuild' first`);
  const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'int8-detect-package-'));
  try {
    await fs.copyFile(path.join(root, 'package.json'), path.join(copy, 'package.json'));
    await fs.cp(path.join(root, 'dist', 'lib'), path.join(copy, 'dist', 'lib'), { recursive: true });
    await fs.cp(path.join(root, 'prebuilds'), path.join(copy, 'prebuilds'), { recursive: true });
    await fs.symlink(path.join(root, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    t.false(existsSync(path.join(copy, 'build')));
    const script = `
      const gyp = require('node-gyp-build');
      const file = gyp.path(${JSON.stringify(copy)});
      const { loadCoreAddon } = require(${JSON.stringify(path.join(copy, 'dist', 'lib', 'native', 'core-addon.js'))});
      const core = loadCoreAddon();
      const dst = new Float32Array(3 * 4 * 4);
      core.preprocessSync({ src: new Uint8Array(2 * 2 * 3).fill(200), width: 2, height: 2, format: 'rgb', stride: 6,
        uvOffset: 0, uvStride: 0, vOffset: 0, colorMatrix: 'bt601', colorRange: 'limited', dst, dstWidth: 4, dstHeight: 4,
        layout: 'nchw', channelOrder: 'bgr', resizedWidth: 4, resizedHeight: 4, offsetX: 0, offsetY: 0, padValue: 114,
        scale: 1, mean: [0, 0, 0], std: [1, 1, 1] });
      console.log(JSON.stringify({ file, first: dst[0], napi: core.napiVersion }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: copy, encoding: 'utf8' }).trim());
    t.true(out.file.startsWith(path.join(copy, 'prebuilds')), `loaded ${out.file}`);
    t.is(out.first, 200);
    t.is(out.napi, 8);
  } finally {
    await fs.rm(copy, { recursive: true, force: true });
  }
});
