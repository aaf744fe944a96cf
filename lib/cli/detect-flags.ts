/** The flags that shape detections, shared by `detect` and `eval`. */
import type { DetectOptions } from '../detect/types';
import { MAX_DETECTIONS_BOUND } from '../detect/postprocess';
import { parseNumber, UsageError, type OptionSpec } from './args';

export const detectFlags = {
  'score-threshold': { type: 'string' },
  'iou-threshold': { type: 'string' },
  'max-detections': { type: 'string' },
  classes: { type: 'string' },
} as const satisfies OptionSpec;

export function detectFlagsHelp(defaults: Required<Pick<DetectOptions, 'scoreThreshold' | 'iouThreshold' | 'maxDetections'>>): string {
  return `      --score-threshold S  keep detections scoring above S (default ${defaults.scoreThreshold})
      --iou-threshold T    NMS IoU threshold (default ${defaults.iouThreshold})
      --max-detections N   at most N detections per image (default ${defaults.maxDetections})
      --classes LIST       keep only these class ids, comma-separated (e.g. 0,2,7)`;
}

export function detectOptionsFrom(values: Record<string, unknown>, defaults: DetectOptions): DetectOptions {
  const options: DetectOptions = { ...defaults };
  const score = parseNumber(values['score-threshold'], '--score-threshold', { min: 0, max: 1 });
  const iou = parseNumber(values['iou-threshold'], '--iou-threshold', { min: 0, max: 1 });
  const max = parseNumber(values['max-detections'], '--max-detections', { integer: true, min: 1, max: MAX_DETECTIONS_BOUND });
  if (score !== undefined) options.scoreThreshold = score;
  if (iou !== undefined) options.iouThreshold = iou;
  if (max !== undefined) options.maxDetections = max;
  if (typeof values.classes === 'string') {
    const ids = values.classes.split(',').map((s) => Number(s.trim()));
    if (ids.some((n) => !Number.isInteger(n) || n < 0)) throw new UsageError(`--classes expects comma-separated class ids, got ${values.classes}`);
    options.classes = ids;
  }
  return options;
}
