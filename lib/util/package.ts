/** Where the installed package is, and its version: for caches, module paths and cache keys. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The package root (holds package.json, build/, prebuilds/): dist/lib/util/ is three levels below it. */
export const packageRoot = path.resolve(__dirname, '..', '..', '..');

let version: string | undefined;

/** The version in the package's own package.json, read once. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
