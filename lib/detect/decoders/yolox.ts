/**
 * YOLOX head, exported raw: [1, N, 5 + C] with one row per grid cell over strides 8, 16, 32
 * (row-major within each stride), each row [dx, dy, log w, log h, objectness, C class scores],
 * objectness and class scores already through a sigmoid. Boxes are decoded here against the grid.
 */
import { Int8DetectError } from '../../util/errors';
import { CandidateBuffer, type Candidates } from '../nms';
import type { OutputTensor } from '../types';
import type { DecodeOptions, Decoder } from './types';
import { pushObjectnessRow } from './objectness-row';

export const DEFAULT_STRIDES: readonly number[] = [8, 16, 32];

/** Number of grid cells over all strides for an input size (a stride-s feature map is ceil(size / s) wide). */
export function gridCellCount(inputWidth: number, inputHeight: number, strides: readonly number[] = DEFAULT_STRIDES): number {
  let cells = 0;
  for (const s of strides) cells += Math.ceil(inputWidth / s) * Math.ceil(inputHeight / s);
  return cells;
}

interface Grid {
  gx: Float32Array;
  gy: Float32Array;
  stride: Float32Array;
}

function buildGrid(inputWidth: number, inputHeight: number, strides: readonly number[]): Grid {
  const cells = gridCellCount(inputWidth, inputHeight, strides);
  const grid: Grid = { gx: new Float32Array(cells), gy: new Float32Array(cells), stride: new Float32Array(cells) };
  let i = 0;
  for (const s of strides) {
    const w = Math.ceil(inputWidth / s);
    const h = Math.ceil(inputHeight / s);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, i++) {
        grid.gx[i] = x;
        grid.gy[i] = y;
        grid.stride[i] = s;
      }
    }
  }
  return grid;
}

export function createYoloxDecoder(strides: readonly number[] = DEFAULT_STRIDES): Decoder {
  const grids = new Map<string, Grid>();
  const gridFor = (w: number, h: number): Grid => {
    const key = `${w}x${h}`;
    let grid = grids.get(key);
    if (!grid) {
      grid = buildGrid(w, h, strides);
      grids.set(key, grid);
    }
    return grid;
  };

  return {
    family: 'yolox',
    decode(output: OutputTensor, inputWidth: number, inputHeight: number, scoreThreshold: number, classFilter?: readonly number[] | null, options?: DecodeOptions): Candidates {
      const { dims, data } = output;
      const cells = gridCellCount(inputWidth, inputHeight, strides);
      const rows = dims.length === 3 ? dims[1] : dims.length === 2 ? dims[0] : -1;
      const cols = dims[dims.length - 1];
      if ((dims.length === 3 && dims[0] !== 1) || rows !== cells || cols <= 5 || data.length < rows * cols) {
        throw new Int8DetectError(
          'ERR_DECODER',
          `YOLOX decoder: expected output "${output.name}" to be [1, ${cells}, 5 + classes] for a ${inputWidth}x${inputHeight} input ` +
            `(one row per grid cell at strides ${strides.join(', ')}) but it is [${dims.join(', ')}]`,
        );
      }
      const numClasses = cols - 5;
      const out = (options?.into ?? new CandidateBuffer()).reset();
      const mask = out.classMask(classFilter, numClasses);
      const { gx, gy, stride } = gridFor(inputWidth, inputHeight);
      const multiLabel = options?.multiLabel ?? false;

      for (let i = 0, o = 0; i < rows; i++, o += cols) {
        const objectness = data[o + 4];
        // Class scores are sigmoids (<= 1), so no class can beat the threshold once objectness does not.
        if (!(objectness > scoreThreshold)) continue;
        const s = stride[i];
        const cx = (data[o] + gx[i]) * s;
        const cy = (data[o + 1] + gy[i]) * s;
        const hw = (Math.exp(data[o + 2]) * s) / 2;
        const hh = (Math.exp(data[o + 3]) * s) / 2;
        pushObjectnessRow(out, data, o, numClasses, objectness, cx - hw, cy - hh, cx + hw, cy + hh, scoreThreshold, mask, multiLabel);
      }
      return out;
    },
  };
}
