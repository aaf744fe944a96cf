/**
 * Where `detect --out DIR` writes each annotated image, decided before any image is processed, so
 * that nothing is written when the plan is refused: an output that would be one of the inputs is
 * refused (even with --force), and an existing file is replaced only with --force.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args';

/** The real path of a folder that may not exist yet: the nearest existing ancestor resolved, the rest appended. */
async function realFolder(folder: string): Promise<string> {
  const absolute = path.resolve(folder);
  const rest: string[] = [];
  let at = absolute;
  for (;;) {
    try {
      return path.join(await fs.realpath(at), ...rest.reverse());
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return absolute;
      rest.push(path.basename(at));
      at = parent;
    }
  }
}

/** input file -> output file: the same name and extension, inside `outDir`. */
export async function planAnnotatedOutputs(images: readonly string[], outDir: string, force: boolean): Promise<Map<string, string>> {
  const stat = await fs.stat(outDir).catch(() => undefined);
  if (stat && !stat.isDirectory()) throw new UsageError(`--out ${outDir} is a file, not a folder: give the folder to write the annotated images to`);
  const out = await realFolder(outDir);
  const plan = new Map<string, string>();
  const existing: string[] = [];
  for (const image of images) {
    const name = path.basename(image);
    if ((await realFolder(path.dirname(image))) === out) {
      throw new UsageError(`--out ${outDir} holds the input images: the annotated copies would replace them; give another folder`);
    }
    const target = path.join(outDir, name);
    if (await fs.stat(target).then(() => true, () => false)) existing.push(name);
    plan.set(image, target);
  }
  if (existing.length > 0 && !force) {
    const few = existing.slice(0, 3).join(', ') + (existing.length > 3 ? ', ...' : '');
    const one = existing.length === 1;
    throw new UsageError(`${existing.length} file${one ? '' : 's'} in --out ${outDir} already exist${one ? 's' : ''} (${few}); pass --force to replace ${one ? 'it' : 'them'}`);
  }
  return plan;
}
