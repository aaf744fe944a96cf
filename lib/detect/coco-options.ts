import type { DetectOptions } from './types';

/**
 * The settings COCO mAP is customarily measured with: a very low score threshold and every
 * class of a box kept (as Ultralytics' validator does), at most 100 detections per image (the
 * most pycocotools counts). Evaluation and the label-free check both detect with these.
 */
export const COCO_EVAL_DETECT_OPTIONS: DetectOptions = {
  scoreThreshold: 0.001,
  iouThreshold: 0.65,
  maxDetections: 100,
  multiLabel: true,
};
