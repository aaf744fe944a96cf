/** File helpers shared by the CLI and caches. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

let temporaryCount = 0;

/**
 * Write a file under a temporary name and rename it, so no reader ever sees half of it. With
 * `overwrite: false` an existing file is never replaced, not even one that appeared after the
 * caller looked: the temporary file is hard-linked into place (which fails on an existing name),
 * and an EEXIST error names the file.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { overwrite?: boolean } = {}): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  // pid and a per-process counter: two writes of one file in the same millisecond get two names.
  const temporary = `${file}.${process.pid}.${++temporaryCount}.tmp`;
  try {
    await fs.writeFile(temporary, data);
    if (options.overwrite === false) await linkNoReplace(temporary, file);
    else await fs.rename(temporary, file);
  } finally {
    await fs.rm(temporary, { force: true });
  }
}

async function linkNoReplace(from: string, to: string): Promise<void> {
  try {
    await fs.link(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw Object.assign(new Error(`${to} already exists`), { code });
    // A file system without hard links: check, then rename (a narrow race, but no silent replace of an old file).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    const exists = await fs.stat(to).then(() => true, () => false);
    if (exists) throw Object.assign(new Error(`${to} already exists`), { code: 'EEXIST' });
    await fs.rename(from, to);
  }
}

/** A companion file's path: the main file's with another extension (`x.xml` -> `x.bin`). */
export function companionPath(file: string, extension: string): string {
  return file.slice(0, file.length - path.extname(file).length) + extension;
}

/**
 * A file and the files it needs beside it (an OpenVINO IR's .bin), each written atomically, the
 * companions first: a reader never sees the main file without them.
 */
export async function writeWithCompanions(file: string, data: Uint8Array, companions: ReadonlyMap<string, Uint8Array>): Promise<void> {
  for (const [extension, bytes] of companions) await writeFileAtomic(companionPath(file, extension), bytes);
  await writeFileAtomic(file, data);
}

/** What sharp decodes (its prebuilt libvips has no BMP loader, so .bmp is not offered). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);

/** Image files directly inside a folder, sorted by name; or the one file given. */
export async function listImages(target: string): Promise<string[]> {
  const stat = await fs.stat(target);
  if (!stat.isDirectory()) return [target];
  const entries = await fs.readdir(target);
  return entries
    .filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()))
    .sort()
    .map((name) => path.join(target, name));
}
