/** File helpers shared by the CLI and caches. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Write a file under a temporary name and rename it, so no reader ever sees half of it. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await fs.writeFile(temporary, data);
    await fs.rename(temporary, file);
  } catch (err) {
    await fs.rm(temporary, { force: true });
    throw err;
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

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff', '.gif', '.avif']);

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
