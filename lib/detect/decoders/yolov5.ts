/**
 * YOLOv5 head as the Ultralytics yolov5 repository exports it: [1, N, 5 + C], N = 3 anchors per
 * grid cell, each row [cx, cy, w, h, objectness, C class probabilities], boxes already in input
 * pixels and everything already through its sigmoid in the graph.
 */
import { Int8DetectError } from '../../util/errors';
import { CandidateBuffer, type Candidates } from '../nms';
import type { OutputTensor } from '../types';
import type { DecodeOptions, Decoder } from './types';
import { pushObjectnessRow } from './objectness-row';

export function createYolov5Decoder(): Decoder {
  return {
    family: 'yolov5',
    decode(output: OutputTensor, _inputWidth: number, _inputHeight: number, scoreThreshold: number, classFilter?: readonly number[] | null, options?: DecodeOptions): Candidates {
      const { dims, data } = output;
      const rows = dims.length === 3 ? dims[1] : dims.length === 2 ? dims[0] : -1;
      const cols = dims[dims.length - 1];
      if ((dims.length === 3 && dims[0] !== 1) || rows < 0 || cols <= 5 || data.length < rows * cols) {
        throw new Int8DetectError(
          'ERR_DECODER',
          `YOLOv5 decoder: expected output "${output.name}" to be [1, anchors, 5 + classes] but it is [${dims.join(', ')}]` +
            ` (${data.length} values)`,
        );
      }
      const numClasses = cols - 5;
      const out = (options?.into ?? new CandidateBuffer()).reset();
      const mask = out.classMask(classFilter, numClasses);
      const multiLabel = options?.multiLabel ?? false;

      for (let i = 0, o = 0; i < rows; i++, o += cols) {
        const objectness = data[o + 4];
        // Class probabilities are <= 1: a row whose objectness misses the threshold cannot pass it.
        if (!(objectness > scoreThreshold)) continue;
        const cx = data[o];
        const cy = data[o + 1];
        const hw = data[o + 2] / 2;
        const hh = data[o + 3] / 2;
        pushObjectnessRow(out, data, o, numClasses, objectness, cx - hw, cy - hh, cx + hw, cy + hh, scoreThreshold, mask, multiLabel);
      }
      return out;
    },
  };
}
