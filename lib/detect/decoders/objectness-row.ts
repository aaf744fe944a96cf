/**
 * The class part of a row in heads with objectness (YOLOX, YOLOv5): [.., objectness, C class
 * probabilities] with score = objectness x class probability. The best class only, or every
 * class above the threshold with multiLabel; the class filter applies to the class chosen.
 */
import type { CandidateBuffer } from '../nms';

export function pushObjectnessRow(
  out: CandidateBuffer,
  data: Float32Array,
  rowOffset: number,
  numClasses: number,
  objectness: number,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  scoreThreshold: number,
  mask: Uint8Array | null,
  multiLabel: boolean,
): void {
  const classes = rowOffset + 5;
  if (multiLabel) {
    for (let c = 0; c < numClasses; c++) {
      const score = objectness * data[classes + c];
      if (score > scoreThreshold && (mask === null || mask[c] === 1)) out.push(x1, y1, x2, y2, score, c);
    }
    return;
  }
  let best = data[classes];
  let bestClass = 0;
  for (let c = 1; c < numClasses; c++) {
    const v = data[classes + c];
    if (v > best) {
      best = v;
      bestClass = c;
    }
  }
  const score = objectness * best;
  if (score > scoreThreshold && (mask === null || mask[bestClass] === 1)) out.push(x1, y1, x2, y2, score, bestClass);
}
