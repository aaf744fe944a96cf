/**
 * A plain, per-pixel TypeScript implementation of the native preprocessing, written for clarity
 * rather than speed, and the frame builders the tests use to derive every pixel format from one
 * decoded RGB image (including our own RGB -> YUV conversion).
 */
import sharp from 'sharp';
import type { RawFrame, ValidatedFrame } from '../../lib/image/frame';
import type { PixelFormat } from '../../lib/image/frame';

export type ColorMatrix = 'bt601' | 'bt709';
export type ColorRange = 'limited' | 'full';

/** Packed RGB pixels, 3 bytes each, no row padding. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export async function decodeRgb(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: expected 3 channels after decoding, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

export function cropRgb(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { data, width, height };
}

function kFactors(matrix: ColorMatrix): { kr: number; kb: number; kg: number } {
  const kr = matrix === 'bt709' ? 0.2126 : 0.299;
  const kb = matrix === 'bt709' ? 0.0722 : 0.114;
  return { kr, kb, kg: 1 - kr - kb };
}

const clamp255 = (v: number) => Math.min(255, Math.max(0, v));

/** Y'CbCr (8-bit codes) to R'G'B' in 0..255, unrounded and clamped: the textbook formulas. */
export function yuvToRgb(y: number, u: number, v: number, matrix: ColorMatrix, range: ColorRange): [number, number, number] {
  const { kr, kb, kg } = kFactors(matrix);
  const luma = range === 'limited' ? ((y - 16) * 255) / 219 : y;
  const cb = range === 'limited' ? ((u - 128) * 255) / 224 : u - 128;
  const cr = range === 'limited' ? ((v - 128) * 255) / 224 : v - 128;
  const r = luma + 2 * (1 - kr) * cr;
  const b = luma + 2 * (1 - kb) * cb;
  const g = (luma - kr * r - kb * b) / kg;
  return [clamp255(r), clamp255(g), clamp255(b)];
}

/** R'G'B' (0..255) to unrounded Y'CbCr codes, the inverse of yuvToRgb before clamping. */
export function rgbToYuv(r: number, g: number, b: number, matrix: ColorMatrix, range: ColorRange): [number, number, number] {
  const { kr, kb, kg } = kFactors(matrix);
  const luma = kr * r + kg * g + kb * b;
  const cb = (b - luma) / (2 * (1 - kb));
  const cr = (r - luma) / (2 * (1 - kr));
  if (range === 'full') return [luma, cb + 128, cr + 128];
  return [16 + (luma * 219) / 255, 128 + (cb * 224) / 255, 128 + (cr * 224) / 255];
}

const toByte = (v: number) => Math.round(clamp255(v));

export function luma601(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

export interface FrameLayoutOptions {
  /** Extra bytes at the end of every row of the first plane (filled with junk). */
  rowPadding?: number;
  /** Extra bytes at the end of every chroma row. */
  chromaPadding?: number;
  /** Junk bytes between the luma plane and the chroma plane. */
  chromaGap?: number;
  colorMatrix?: ColorMatrix;
  colorRange?: ColorRange;
}

// Junk where no pixel is: any byte the kernels read by mistake would show in the output.
const JUNK = 0xa5;

/** The same picture in any pixel format, with optional padded strides. YUV needs even sizes. */
export function makeFrame(image: RgbImage, format: PixelFormat, options: FrameLayoutOptions = {}): RawFrame {
  const { width, height } = image;
  const rowPadding = options.rowPadding ?? 0;
  const px = (x: number, y: number): [number, number, number] => {
    const i = (y * width + x) * 3;
    return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
  };
  if (format === 'nv12' || format === 'i420') {
    const matrix = options.colorMatrix ?? 'bt601';
    const range = options.colorRange ?? 'limited';
    const stride = width + rowPadding;
    const chromaRowBytes = format === 'nv12' ? width : width / 2;
    const uvStride = chromaRowBytes + (options.chromaPadding ?? 0);
    const uvOffset = stride * height + (options.chromaGap ?? 0);
    const chromaRows = height / 2;
    const planes = format === 'nv12' ? 1 : 2;
    const data = new Uint8Array(uvOffset + uvStride * chromaRows * planes).fill(JUNK);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data[y * stride + x] = toByte(rgbToYuv(...px(x, y), matrix, range)[0]);
    }
    // Chroma of each 2x2 block: the mean of its four pixels' chroma.
    for (let cy = 0; cy < chromaRows; cy++) {
      for (let cx = 0; cx < width / 2; cx++) {
        let u = 0;
        let v = 0;
        for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
          const yuv = rgbToYuv(...px(2 * cx + dx, 2 * cy + dy), matrix, range);
          u += yuv[1] / 4;
          v += yuv[2] / 4;
        }
        if (format === 'nv12') {
          data[uvOffset + cy * uvStride + 2 * cx] = toByte(u);
          data[uvOffset + cy * uvStride + 2 * cx + 1] = toByte(v);
        } else {
          data[uvOffset + cy * uvStride + cx] = toByte(u);
          data[uvOffset + uvStride * chromaRows + cy * uvStride + cx] = toByte(v);
        }
      }
    }
    return { data, width, height, format, stride, uvOffset, uvStride, colorMatrix: matrix, colorRange: range };
  }
  const bpp = format === 'gray' ? 1 : format === 'rgba' || format === 'bgra' ? 4 : 3;
  const stride = width * bpp + rowPadding;
  const data = new Uint8Array(stride * height).fill(JUNK);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = px(x, y);
      const o = y * stride + x * bpp;
      if (format === 'gray') {
        data[o] = toByte(luma601(r, g, b));
        continue;
      }
      const swap = format === 'bgr' || format === 'bgra';
      data[o] = swap ? b : r;
      data[o + 1] = g;
      data[o + 2] = swap ? r : b;
      // Alpha varies so that a kernel reading it as colour would be caught.
      if (bpp === 4) data[o + 3] = (x * 7 + y * 13) & 0xff;
    }
  }
  return { data, width, height, format, stride };
}

/** One source pixel as RGB (0..255, unrounded for YUV), read the simplest way. */
export function sourcePixelRgb(frame: ValidatedFrame, x: number, y: number): [number, number, number] {
  const d = frame.data;
  switch (frame.format) {
    case 'rgb':
      return [d[y * frame.stride + x * 3]!, d[y * frame.stride + x * 3 + 1]!, d[y * frame.stride + x * 3 + 2]!];
    case 'bgr':
      return [d[y * frame.stride + x * 3 + 2]!, d[y * frame.stride + x * 3 + 1]!, d[y * frame.stride + x * 3]!];
    case 'rgba':
      return [d[y * frame.stride + x * 4]!, d[y * frame.stride + x * 4 + 1]!, d[y * frame.stride + x * 4 + 2]!];
    case 'bgra':
      return [d[y * frame.stride + x * 4 + 2]!, d[y * frame.stride + x * 4 + 1]!, d[y * frame.stride + x * 4]!];
    case 'gray': {
      const v = d[y * frame.stride + x]!;
      return [v, v, v];
    }
    case 'nv12': {
      const c = frame.uvOffset + Math.floor(y / 2) * frame.uvStride + Math.floor(x / 2) * 2;
      return yuvToRgb(d[y * frame.stride + x]!, d[c]!, d[c + 1]!, frame.colorMatrix, frame.colorRange);
    }
    case 'i420': {
      const row = Math.floor(y / 2) * frame.uvStride + Math.floor(x / 2);
      return yuvToRgb(d[y * frame.stride + x]!, d[frame.uvOffset + row]!, d[frame.vOffset + row]!, frame.colorMatrix, frame.colorRange);
    }
  }
}

export interface ReferenceTarget {
  dstWidth: number;
  dstHeight: number;
  layout: 'nchw' | 'nhwc';
  channelOrder: 'rgb' | 'bgr' | 'gray';
  dtype: 'float32' | 'uint8';
  resizedWidth: number;
  resizedHeight: number;
  offsetX: number;
  offsetY: number;
  padValue: number;
  scale: number;
  mean: readonly number[];
  std: readonly number[];
}

/** Source coordinate and weight for output coordinate d: half-pixel centres, clamped (INTER_LINEAR). */
function sample(d: number, srcSize: number, dstSize: number): { i0: number; i1: number; w: number } {
  const s = (d + 0.5) * (srcSize / dstSize) - 0.5;
  if (s <= 0) return { i0: 0, i1: 0, w: 0 };
  if (s >= srcSize - 1) return { i0: srcSize - 1, i1: srcSize - 1, w: 0 };
  const i0 = Math.floor(s);
  return { i0, i1: i0 + 1, w: s - i0 };
}

/** The expected tensor, as numbers: float outputs normalised, uint8 outputs rounded pixels. */
export function referencePreprocess(frame: ValidatedFrame, t: ReferenceTarget): Float64Array {
  const channels = t.channelOrder === 'gray' ? 1 : 3;
  const out = new Float64Array(t.dstWidth * t.dstHeight * channels);
  const grayOut = t.channelOrder === 'gray';
  // Values per output channel: gray from colour uses BT.601 luma; a gray source's value is its own.
  const value = (x: number, y: number): number[] => {
    const [r, g, b] = sourcePixelRgb(frame, x, y);
    if (grayOut) return [frame.format === 'gray' ? r : luma601(r, g, b)];
    return t.channelOrder === 'bgr' ? [b, g, r] : [r, g, b];
  };
  const finish = (v: number, c: number) =>
    t.dtype === 'uint8' ? Math.round(v) : Math.fround((v * t.scale - t.mean[c]!) / t.std[c]!);
  const index = (x: number, y: number, c: number) =>
    t.layout === 'nchw' ? c * t.dstWidth * t.dstHeight + y * t.dstWidth + x : (y * t.dstWidth + x) * channels + c;

  for (let y = 0; y < t.dstHeight; y++) {
    for (let x = 0; x < t.dstWidth; x++) {
      const inside = x >= t.offsetX && x < t.offsetX + t.resizedWidth && y >= t.offsetY && y < t.offsetY + t.resizedHeight;
      if (!inside) {
        for (let c = 0; c < channels; c++) out[index(x, y, c)] = finish(t.padValue, c);
        continue;
      }
      const sx = sample(x - t.offsetX, frame.width, t.resizedWidth);
      const sy = sample(y - t.offsetY, frame.height, t.resizedHeight);
      const p00 = value(sx.i0, sy.i0);
      const p10 = value(sx.i1, sy.i0);
      const p01 = value(sx.i0, sy.i1);
      const p11 = value(sx.i1, sy.i1);
      for (let c = 0; c < channels; c++) {
        const top = p00[c]! * (1 - sx.w) + p10[c]! * sx.w;
        const bottom = p01[c]! * (1 - sx.w) + p11[c]! * sx.w;
        out[index(x, y, c)] = finish(top * (1 - sy.w) + bottom * sy.w, c);
      }
    }
  }
  return out;
}
