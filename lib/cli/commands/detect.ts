/** `int8-detect detect`: detections for an image or a folder, as text, JSON or annotated images. */
import * as path from 'node:path';
import { drawDetections } from '../../image/draw';
import { createEngine } from '../../engine';
import { writeFileAtomic, listImages } from '../../util/files';
import { decodeImage } from '../../image/decode';
import { engineFlags, engineFlagsHelp, engineOptionsFrom, parseCommandArgs, UsageError } from '../args';
import { detectFlags, detectFlagsHelp, detectOptionsFrom } from '../detect-flags';
import type { Command } from '../command';
import { ProgressBar } from '../progress';

export const detectCommand: Command = {
  name: 'detect',
  summary: 'detect objects in an image or every image of a folder',
  help: `Usage: int8-detect detect <image|folder> --model M [--out DIR] [--json] [options]

Options:
${engineFlagsHelp}
${detectFlagsHelp({ scoreThreshold: 0.25, iouThreshold: 0.45, maxDetections: 300 })}
      --out DIR            write each image with its boxes and labels drawn to DIR
      --json               print one JSON object per image: { image, width, height, detections }
  -h, --help               show this help`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { ...engineFlags, ...detectFlags, out: { type: 'string' }, json: { type: 'boolean' } }, true);
    if (positionals.length !== 1) throw new UsageError('expected one image file or folder');
    let images: string[];
    try {
      images = await listImages(positionals[0]);
    } catch {
      throw new UsageError(`no such image or folder: ${positionals[0]}`);
    }
    if (images.length === 0) throw new UsageError(`no images (jpg, png, webp, ...) in ${positionals[0]}`);
    const detectOptions = detectOptionsFrom(values, {});
    const engine = await createEngine(engineOptionsFrom(values));
    const progress = new ProgressBar('detect', images.length);
    try {
      for (const [i, file] of images.entries()) {
        const frame = await decodeImage(file);
        const detections = await engine.detect(frame, detectOptions);
        if (values.json) {
          process.stdout.write(`${JSON.stringify({ image: file, width: frame.width, height: frame.height, detections })}\n`);
        } else {
          const summary = detections
            .map((d) => `  ${d.label} ${d.score.toFixed(2)} [${[d.box.x1, d.box.y1, d.box.x2, d.box.y2].map((v) => v.toFixed(0)).join(', ')}]`)
            .join('\n');
          process.stdout.write(`${file}: ${detections.length} object${detections.length === 1 ? '' : 's'}\n${summary}${summary ? '\n' : ''}`);
        }
        if (values.out) {
          const ext = path.extname(file).toLowerCase() === '.png' ? 'png' : 'jpeg';
          const name = `${path.basename(file, path.extname(file))}.${ext === 'png' ? 'png' : 'jpg'}`;
          await writeFileAtomic(path.join(String(values.out), name), await drawDetections(frame, detections, ext));
        }
        progress.update(i + 1);
      }
    } finally {
      progress.done();
      await engine.dispose();
    }
  },
};
