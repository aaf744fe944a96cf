/** `int8-detect detect`: detections for an image or a folder, as text, JSON or annotated images. */
import * as path from 'node:path';
import { annotatedFormatFor, drawDetections } from '../../image/draw';
import type { RawFrame } from '../../image/frame';
import { createEngine } from '../../engine';
import { IMAGE_EXTENSIONS, listImages, writeFileAtomic } from '../../util/files';
import { decodeImage } from '../../image/decode';
import { CommandFailure, engineFlags, engineFlagsHelp, engineOptionsFrom, parseCommandArgs, UsageError } from '../args';
import { detectFlags, detectFlagsHelp, detectOptionsFrom } from '../detect-flags';
import type { Command } from '../command';
import { cliMessage, EXIT_CODES_HELP } from '../messages';
import { planAnnotatedOutputs } from '../output-plan';
import { ProgressBar } from '../progress';

export const detectCommand: Command = {
  name: 'detect',
  summary: 'detect objects in an image or every image of a folder',
  help: `Usage: int8-detect detect <image|folder> --model M [--out DIR] [--json] [options]

Images: ${[...IMAGE_EXTENSIONS].join(' ')} (what sharp decodes). An image that cannot be read is
reported and skipped; the others are processed, and the exit code is 1 with a count at the end
(--fail-fast stops at the first one instead).

Options:
${engineFlagsHelp}
${detectFlagsHelp({ scoreThreshold: 0.25, iouThreshold: 0.45, maxDetections: 300 })}
      --out DIR            write each image with its boxes and labels drawn to DIR, under its own name and
                           format (photo.webp -> DIR/photo.webp); DIR must not be the input folder
      --force              replace files that already exist in --out DIR (default: refuse before starting)
      --fail-fast          stop at the first image that cannot be read
      --json               print one JSON object per image: { image, width, height, detections }
  -h, --help               show this help

${EXIT_CODES_HELP}`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { ...engineFlags, ...detectFlags, out: { type: 'string' }, force: { type: 'boolean' }, 'fail-fast': { type: 'boolean' }, json: { type: 'boolean' } },
      true,
    );
    if (positionals.length !== 1) throw new UsageError('expected one image file or folder');
    let images: string[];
    try {
      images = await listImages(positionals[0]);
    } catch {
      throw new UsageError(`no such image or folder: ${positionals[0]}`);
    }
    if (images.length === 0) throw new UsageError(`no images (${[...IMAGE_EXTENSIONS].join(', ')}) in ${positionals[0]}`);
    const detectOptions = detectOptionsFrom(values, {});
    // Every output is decided, and refused if need be, before the model is even loaded.
    const outputs = typeof values.out === 'string' ? await planAnnotatedOutputs(images, values.out, values.force === true) : undefined;
    const failFast = values['fail-fast'] === true || images.length === 1;
    const engine = await createEngine(engineOptionsFrom(values));
    const progress = new ProgressBar('detect', images.length);
    const unreadable: string[] = [];
    try {
      for (const [i, file] of images.entries()) {
        let frame: RawFrame;
        try {
          frame = await decodeImage(file);
        } catch (err) {
          if (failFast) throw err;
          unreadable.push(file);
          progress.clear();
          process.stderr.write(`int8-detect detect: skipped ${file}: ${cliMessage(err)}\n`);
          continue;
        }
        const detections = await engine.detect(frame, detectOptions);
        if (values.json) {
          process.stdout.write(`${JSON.stringify({ image: file, width: frame.width, height: frame.height, detections })}\n`);
        } else {
          const summary = detections
            .map((d) => `  ${d.label} ${d.score.toFixed(2)} [${[d.box.x1, d.box.y1, d.box.x2, d.box.y2].map((v) => v.toFixed(0)).join(', ')}]`)
            .join('\n');
          process.stdout.write(`${file}: ${detections.length} object${detections.length === 1 ? '' : 's'}\n${summary}${summary ? '\n' : ''}`);
        }
        const target = outputs?.get(file);
        if (target !== undefined) {
          const encoded = await drawDetections(frame, detections, annotatedFormatFor(path.extname(file)));
          await writeFileAtomic(target, encoded, { overwrite: values.force === true }).catch((err: NodeJS.ErrnoException) => {
            throw err.code === 'EEXIST' ? new UsageError(`${target} appeared while detect ran; pass --force to replace it`) : err;
          });
        }
        progress.update(i + 1);
      }
    } finally {
      progress.done();
      await engine.dispose();
    }
    if (unreadable.length > 0) {
      const few = unreadable.slice(0, 3).map((f) => path.basename(f)).join(', ') + (unreadable.length > 3 ? ', ...' : '');
      throw new CommandFailure(`${unreadable.length} of ${images.length} images could not be read (${few}); the others were processed`);
    }
  },
};
