/** `int8-detect eval`: COCO mAP of a model on a labelled image set. */
import { createEngine } from '../../engine';
import { loadCocoDataset } from '../../eval/coco';
import { COCO_EVAL_DETECT_OPTIONS, evaluateEngine } from '../../eval/evaluate-engine';
import { writeFileAtomic } from '../../util/files';
import { engineFlags, engineFlagsHelp, engineOptionsFrom, parseCommandArgs, parseNumber, requireString } from '../args';
import { detectFlags, detectFlagsHelp, detectOptionsFrom } from '../detect-flags';
import type { Command } from '../command';
import { ProgressBar } from '../progress';

const defaults = COCO_EVAL_DETECT_OPTIONS as Required<Pick<typeof COCO_EVAL_DETECT_OPTIONS, 'scoreThreshold' | 'iouThreshold' | 'maxDetections'>>;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'COCO mAP of a model on labelled images (COCO instances.json)',
  help: `Usage: int8-detect eval --model M --images DIR --annotations instances.json [options]

Runs the model on every image of the annotations and scores the detections with the COCO metric
(as pycocotools computes it): mAP@[.5:.95], AP50, AP75, AP by object size, AR, and AP per class.
Class index i of the model is scored as the i-th entry of the annotations' categories.

Options:
${engineFlagsHelp}
      --images DIR         folder of the images named in the annotations
      --annotations FILE   COCO-format ground truth (instances.json)
${detectFlagsHelp(defaults)}
      --limit N            evaluate only the first N images
      --save-detections F  write the detections in COCO result format (for pycocotools)
      --json               print one JSON object: { mAP, AP50, AP75, ..., perClass, model, backend }
  -h, --help               show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      {
        ...engineFlags,
        ...detectFlags,
        images: { type: 'string' },
        annotations: { type: 'string' },
        limit: { type: 'string' },
        'save-detections': { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    const imagesDir = requireString(values.images, '--images');
    const annotations = requireString(values.annotations, '--annotations');
    const limit = parseNumber(values.limit, '--limit', { integer: true, min: 1 });
    const detectOptions = detectOptionsFrom(values, COCO_EVAL_DETECT_OPTIONS);
    const dataset = await loadCocoDataset(annotations);
    const engine = await createEngine(engineOptionsFrom(values));
    const total = limit === undefined ? dataset.images.length : Math.min(limit, dataset.images.length);
    const progress = new ProgressBar('eval', total);
    const started = Date.now();
    try {
      const result = await evaluateEngine(engine, {
        imagesDir,
        dataset,
        detectOptions,
        ...(limit !== undefined ? { limit } : {}),
        onProgress: (done) => progress.update(done),
      });
      progress.done();
      if (typeof values['save-detections'] === 'string') {
        await writeFileAtomic(values['save-detections'], JSON.stringify(result.detections));
      }
      const { metrics } = result;
      const info = engine.info;
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify({
            ...metrics,
            model: info.model.path,
            backend: info.backend,
            device: info.device,
            precision: info.precision,
            images: result.images,
            seconds: (Date.now() - started) / 1000,
          })}\n`,
        );
        return;
      }
      const pct = (v: number) => (v < 0 ? '  n/a' : (v * 100).toFixed(1).padStart(5));
      process.stdout.write(
        [
          `model     ${info.model.path} (${info.model.family}, ${info.precision}) on ${info.backend}/${info.device}`,
          `images    ${result.images}, detections ${result.detections.length}`,
          `mAP@[.5:.95] ${metrics.mAP.toFixed(4)}   AP50 ${metrics.AP50.toFixed(4)}   AP75 ${metrics.AP75.toFixed(4)}`,
          `AP small ${pct(metrics.APsmall)}  medium ${pct(metrics.APmedium)}  large ${pct(metrics.APlarge)}   (percent)`,
          `AR@1 ${pct(metrics.AR1)}  AR@10 ${pct(metrics.AR10)}  AR@100 ${pct(metrics.AR100)}   (percent)`,
          '',
        ].join('\n'),
      );
    } finally {
      await engine.dispose();
    }
  },
};
