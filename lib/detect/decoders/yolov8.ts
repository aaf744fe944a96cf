/**
 * YOLOv8 / YOLO11 head (Ultralytics): [1, 4 + C, N], class-major, one column per anchor point,
 * rows cx, cy, w, h (input pixels) then C class probabilities; no objectness. Some exports add a
 * transpose and give [1, N, 4 + C]: the 'anchors-first' layout.
 */
import { Int8DetectError } from '../../util/errors';
import { CandidateBuffer, type Candidates } from '../nms';
import type { OutputTensor } from '../types';
import type { DecodeOptions, Decoder } from './types';

/** 'channels-first': [1, 4 + C, N] (the Ultralytics export); 'anchors-first': [1, N, 4 + C]. */
export type Yolov8Layout = 'channels-first' | 'anchors-first';

export function createYolov8Decoder(layout: Yolov8Layout = 'channels-first'): Decoder {
  return {
    family: 'yolov8',
    decode(output: OutputTensor, _inputWidth: number, _inputHeight: number, scoreThreshold: number, classFilter?: readonly number[] | null, options?: DecodeOptions): Candidates {
      const { dims, data } = output;
      const a = dims.length === 3 ? dims[1] : dims.length === 2 ? dims[0] : -1;
      const b = dims[dims.length - 1];
      const features = layout === 'channels-first' ? a : b;
      const anchors = layout === 'channels-first' ? b : a;
      if ((dims.length === 3 && dims[0] !== 1) || a < 0 || features <= 4 || data.length < a * b) {
        const expected = layout === 'channels-first' ? '[1, 4 + classes, anchors]' : '[1, anchors, 4 + classes]';
        throw new Int8DetectError(
          'ERR_DECODER',
          `YOLOv8 decoder (${layout}): expected output "${output.name}" to be ${expected} but it is [${dims.join(', ')}]` +
            ` (${data.length} values)`,
        );
      }
      const numClasses = features - 4;
      const out = (options?.into ?? new CandidateBuffer()).reset();
      const mask = out.classMask(classFilter, numClasses);
      const multiLabel = options?.multiLabel ?? false;
      if (layout === 'channels-first') decodeChannelsFirst(data, anchors, numClasses, scoreThreshold, mask, multiLabel, out);
      else decodeAnchorsFirst(data, anchors, numClasses, scoreThreshold, mask, multiLabel, out);
      return out;
    },
  };
}

/**
 * [4 + C, N]: walk each class row front to back (contiguous memory) keeping a running best per
 * anchor, instead of striding N floats per step to read one anchor's classes.
 */
function decodeChannelsFirst(
  data: Float32Array,
  n: number,
  numClasses: number,
  threshold: number,
  mask: Uint8Array | null,
  multiLabel: boolean,
  out: CandidateBuffer,
): void {
  if (multiLabel) {
    for (let c = 0; c < numClasses; c++) {
      if (mask !== null && mask[c] === 0) continue;
      const row = (4 + c) * n;
      for (let i = 0; i < n; i++) {
        const score = data[row + i];
        if (score > threshold) pushBox(data, n, i, score, c, out);
      }
    }
    return;
  }
  // An anchor passes iff its best class does, so only values above the threshold can matter:
  // start every anchor's best at the threshold and the branch below is almost never taken.
  const { bestScores, bestClasses } = out.anchorScratch(n);
  bestScores.fill(threshold, 0, n);
  bestClasses.fill(-1, 0, n);
  for (let c = 0; c < numClasses; c++) {
    const row = (4 + c) * n;
    for (let i = 0; i < n; i++) {
      const v = data[row + i];
      if (v > threshold && v > bestScores[i]) {
        bestScores[i] = v;
        bestClasses[i] = c;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const classId = bestClasses[i];
    if (classId >= 0 && (mask === null || mask[classId] === 1)) pushBox(data, n, i, bestScores[i], classId, out);
  }
}

function pushBox(data: Float32Array, n: number, i: number, score: number, classId: number, out: CandidateBuffer): void {
  const cx = data[i];
  const cy = data[n + i];
  const hw = data[2 * n + i] / 2;
  const hh = data[3 * n + i] / 2;
  out.push(cx - hw, cy - hh, cx + hw, cy + hh, score, classId);
}

/** [N, 4 + C]: one contiguous row per anchor. */
function decodeAnchorsFirst(
  data: Float32Array,
  n: number,
  numClasses: number,
  threshold: number,
  mask: Uint8Array | null,
  multiLabel: boolean,
  out: CandidateBuffer,
): void {
  const cols = 4 + numClasses;
  for (let i = 0, o = 0; i < n; i++, o += cols) {
    const hw = data[o + 2] / 2;
    const hh = data[o + 3] / 2;
    const x1 = data[o] - hw;
    const y1 = data[o + 1] - hh;
    const x2 = data[o] + hw;
    const y2 = data[o + 1] + hh;
    if (multiLabel) {
      for (let c = 0; c < numClasses; c++) {
        const score = data[o + 4 + c];
        if (score > threshold && (mask === null || mask[c] === 1)) out.push(x1, y1, x2, y2, score, c);
      }
      continue;
    }
    let best = data[o + 4];
    let bestClass = 0;
    for (let c = 1; c < numClasses; c++) {
      const v = data[o + 4 + c];
      if (v > best) {
        best = v;
        bestClass = c;
      }
    }
    if (best > threshold && (mask === null || mask[bestClass] === 1)) out.push(x1, y1, x2, y2, best, bestClass);
  }
}
