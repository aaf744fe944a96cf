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

/** A path as the file system sees it: symbolic links and relative parts resolved, the missing tail kept. */
async function realFile(file: string): Promise<string> {
  return path.join(await realFolder(path.dirname(file)), path.basename(file));
}

/**
 * Refuse an output flag that names one of the command's inputs (`quantize --model m.onnx --out
 * m.onnx` would replace the float model, `watch in.mp4 --out in.mp4` would overwrite the video
 * while ffmpeg reads it). Inputs are named by their flag ('--model') or in words ('one of the
 * sources'); entries whose path is undefined are ignored.
 */
export async function refuseOutputsOverInputs(outputs: ReadonlyArray<readonly [string, string | undefined]>, inputs: ReadonlyArray<readonly [string, string | undefined]>): Promise<void> {
  const given = inputs.filter((entry): entry is readonly [string, string] => entry[1] !== undefined);
  const real = await Promise.all(given.map(async ([flag, file]) => [flag, await realFile(file)] as const));
  for (const [outFlag, file] of outputs) {
    if (file === undefined) continue;
    const target = await realFile(file);
    const input = real.find(([, source]) => source === target);
    if (input) throw new UsageError(`${outFlag} ${file} is ${input[0].startsWith('-') ? `the ${input[0]} file` : input[0]}: writing it would replace that input; give another path`);
  }
}
