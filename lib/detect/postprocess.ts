/**
 * From raw outputs to detections: decode the head, suppress overlaps, map boxes back through the
 * letterbox to source pixels, attach labels. Also the validation and defaults of DetectOptions.
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import { unletterboxBox } from './letterbox';
import { CandidateBuffer, nonMaxSuppression } from './nms';
import type { ModelProfile } from './profile';
import type { Detection, DetectOptions, LetterboxGeometry, OutputTensor, ResolvedDetectOptions } from './types';


export const DETECT_DEFAULTS = Object.freeze({
  scoreThreshold: 0.25,
  iouThreshold: 0.45,
  maxDetections: 300,
  classAgnostic: false,
  multiLabel: false,
});

const isUnitInterval = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;

/** Validate detect options and fill every default. */
export function resolveDetectOptions(options?: DetectOptions): ResolvedDetectOptions {
  if (options === undefined || options === null) return { ...DETECT_DEFAULTS };
  if (typeof options !== 'object') throw invalidArgument('an object', 'options', options);
  const { scoreThreshold, iouThreshold, maxDetections, classes, classAgnostic, multiLabel } = options;
  if (scoreThreshold !== undefined && !isUnitInterval(scoreThreshold)) throw invalidArgument('a number between 0 and 1', 'scoreThreshold', scoreThreshold);
  if (iouThreshold !== undefined && !isUnitInterval(iouThreshold)) throw invalidArgument('a number between 0 and 1', 'iouThreshold', iouThreshold);
  if (maxDetections !== undefined && !(Number.isInteger(maxDetections) && maxDetections > 0)) {
    throw invalidArgument('a positive integer', 'maxDetections', maxDetections);
  }
  if (classes !== undefined) {
    if (!Array.isArray(classes)) throw invalidArgument('an array of class ids', 'classes', classes);
    classes.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0) throw invalidArgument('a non-negative integer class id', `classes[${i}]`, id);
    });
  }
  if (classAgnostic !== undefined && typeof classAgnostic !== 'boolean') throw invalidArgument('a boolean', 'classAgnostic', classAgnostic);
  if (multiLabel !== undefined && typeof multiLabel !== 'boolean') throw invalidArgument('a boolean', 'multiLabel', multiLabel);
  const resolved: ResolvedDetectOptions = {
    scoreThreshold: scoreThreshold ?? DETECT_DEFAULTS.scoreThreshold,
    iouThreshold: iouThreshold ?? DETECT_DEFAULTS.iouThreshold,
    maxDetections: maxDetections ?? DETECT_DEFAULTS.maxDetections,
    classAgnostic: classAgnostic ?? DETECT_DEFAULTS.classAgnostic,
    multiLabel: multiLabel ?? DETECT_DEFAULTS.multiLabel,
  };
  if (classes !== undefined) resolved.classes = [...classes];
  return resolved;
}

// One candidate buffer per profile (per loaded model), reused from frame to frame.
const buffers = new WeakMap<ModelProfile, CandidateBuffer>();

export function postprocess(
  outputs: readonly OutputTensor[],
  profile: ModelProfile,
  geometry: LetterboxGeometry,
  options: ResolvedDetectOptions,
): Detection[] {
  const output = outputs.find((o) => o.name === profile.outputName) ?? (outputs.length === 1 ? outputs[0] : undefined);
  if (!output) {
    throw new Int8DetectError(
      'ERR_DECODER',
      `The ${profile.family} decoder reads output "${profile.outputName}" but the model returned ${outputs.map((o) => `"${o.name}"`).join(', ') || 'no outputs'}`,
    );
  }
  let buffer = buffers.get(profile);
  if (!buffer) {
    buffer = new CandidateBuffer();
    buffers.set(profile, buffer);
  }
  const candidates = profile.decoder.decode(output, geometry.dstWidth, geometry.dstHeight, options.scoreThreshold, options.classes, {
    multiLabel: options.multiLabel,
    into: buffer,
  });
  const kept = nonMaxSuppression(candidates, {
    iouThreshold: options.iouThreshold,
    maxDetections: options.maxDetections,
    classAgnostic: options.classAgnostic,
  });
  const { boxes, scores, classIds } = candidates;
  const detections: Detection[] = new Array(kept.length);
  for (let k = 0; k < kept.length; k++) {
    const i = kept[k];
    const b = i * 4;
    const classId = classIds[i];
    detections[k] = {
      box: unletterboxBox({ x1: boxes[b], y1: boxes[b + 1], x2: boxes[b + 2], y2: boxes[b + 3] }, geometry),
      score: scores[i],
      classId,
      label: profile.labels[classId] ?? `class ${classId}`,
    };
  }
  return detections;
}
