import * as path from 'node:path';

/** The package root (where package.json, build/, prebuilds/ and node_modules/ are), from dist/lib/util. */
export const packageRoot = path.resolve(__dirname, '..', '..', '..');
