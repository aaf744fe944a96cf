/**
 * Run an engine over a labelled COCO-format image set and score it with the COCO metric: what
 * `int8-detect eval` prints and what the accuracy checks of quantization compare.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { COCO_EVAL_DETECT_OPTIONS } from '../detect/coco-options';
import type { DetectOptions } from '../detect/types';
import type { Engine } from '../engine';

/** What evaluation needs of an engine: its detect() and its class names. */
export type EvaluatedEngine = Pick<Engine, 'detect'> & { info: Pick<Engine['info'], 'labels'> };
import { Int8DetectError } from '../util/errors';
import { decodeImage } from '../image/decode';
import { categoryIdsByIndex, evaluate, toCocoDetections, type CocoDataset, type CocoDetection, type CocoMetrics } from './coco';

export { COCO_EVAL_DETECT_OPTIONS };

export interface EvaluateEngineOptions {
  /** Folder holding the dataset's images (file_name is resolved against it). */
  imagesDir: string;
  dataset: CocoDataset;
  detectOptions?: DetectOptions;
  /** Evaluate only the first N images of the dataset (in its order). */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface EngineEvaluation {
  metrics: CocoMetrics;
  detections: CocoDetection[];
  images: number;
}

export async function evaluateEngine(engine: EvaluatedEngine, options: EvaluateEngineOptions): Promise<EngineEvaluation> {
  const { dataset } = options;
  const images = options.limit === undefined ? dataset.images : dataset.images.slice(0, options.limit);
  const categoryIds = categoryIdsByIndex(dataset);
  if (categoryIds.length !== engine.info.labels.length) {
    throw new Int8DetectError(
      'ERR_ARGUMENT',
      `The annotations have ${categoryIds.length} categories but the model predicts ${engine.info.labels.length} classes: ` +
        'class index i is scored as the i-th category, so the two must match',
    );
  }
  const detectOptions = options.detectOptions ?? COCO_EVAL_DETECT_OPTIONS;
  const detections: CocoDetection[] = [];
  let done = 0;
  for (const image of images) {
    const file = path.join(options.imagesDir, image.file_name);
    await fs.access(file).catch(() => {
      throw new Int8DetectError('ERR_ARGUMENT', `Image ${image.file_name} of the annotations is not in ${options.imagesDir}`);
    });
    const frame = await decodeImage(file);
    const found = await engine.detect(frame, detectOptions);
    detections.push(...toCocoDetections(image.id, found, categoryIds));
    options.onProgress?.(++done, images.length);
  }
  const imageIds = images.map((i) => i.id);
  return { metrics: evaluate(detections, dataset, { imageIds }), detections, images: images.length };
}
