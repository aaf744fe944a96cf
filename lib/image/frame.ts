/**
 * Frame types and their validation. A frame is raw pixels in memory (the video path) or an
 * encoded image (a Buffer holding JPEG/PNG/WebP..., or a file path).
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import type { NativePixelFormat } from '../native/core-addon';

export type PixelFormat = NativePixelFormat;

export const PIXEL_FORMATS: readonly PixelFormat[] = ['rgb', 'bgr', 'rgba', 'bgra', 'gray', 'nv12', 'i420'];

/** Raw pixels in memory, as a decoder or camera hands them over. */
export interface RawFrame {
  data: Uint8Array;
  width: number;
  height: number;
  format: PixelFormat;
  /** Bytes per row of the first plane (luma for NV12/I420); defaults to the packed row size. */
  stride?: number;
  /** NV12/I420: byte offset of the chroma plane; defaults to stride x height. */
  uvOffset?: number;
  /** NV12/I420: bytes per chroma row; defaults to stride (NV12) or stride / 2 (I420). */
  uvStride?: number;
  /** YUV formats: conversion matrix (default 'bt601', what SD and most camera H.264 streams use). */
  colorMatrix?: 'bt601' | 'bt709';
  /** YUV formats: 'limited' (16..235, video) or 'full' (0..255, JPEG-style); default 'limited'. */
  colorRange?: 'limited' | 'full';
}

/** An encoded image: its bytes, or the path of a file. */
export type EncodedImage = Buffer | string;

export type FrameInput = RawFrame | EncodedImage;

/** A raw frame whose layout has been checked and completed. */
export interface ValidatedFrame {
  data: Uint8Array;
  width: number;
  height: number;
  format: PixelFormat;
  stride: number;
  uvOffset: number;
  uvStride: number;
  vOffset: number;
  colorMatrix: 'bt601' | 'bt709';
  colorRange: 'limited' | 'full';
}

const BYTES_PER_PIXEL: Record<Exclude<PixelFormat, 'nv12' | 'i420'>, number> = { rgb: 3, bgr: 3, rgba: 4, bgra: 4, gray: 1 };

export function isRawFrame(value: unknown): value is RawFrame {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && 'data' in value && 'format' in value;
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw invalidArgument('a positive integer', name, value);
  return value;
}

/** Check that the buffer holds the frame it claims to, and fill the plane layout. */
export function validateRawFrame(frame: RawFrame): ValidatedFrame {
  if (!(frame.data instanceof Uint8Array)) throw invalidArgument('a Buffer or Uint8Array', 'frame.data', frame.data);
  if (!PIXEL_FORMATS.includes(frame.format)) {
    throw new Int8DetectError(
      'ERR_FRAME',
      `Unknown frame format ${JSON.stringify(frame.format)}: expected one of ${PIXEL_FORMATS.join(', ')}`,
    );
  }
  const width = positiveInteger(frame.width, 'frame.width');
  const height = positiveInteger(frame.height, 'frame.height');
  const format = frame.format;
  const colorMatrix = frame.colorMatrix ?? 'bt601';
  const colorRange = frame.colorRange ?? 'limited';
  if (colorMatrix !== 'bt601' && colorMatrix !== 'bt709') throw invalidArgument("'bt601' or 'bt709'", 'frame.colorMatrix', colorMatrix);
  if (colorRange !== 'limited' && colorRange !== 'full') throw invalidArgument("'limited' or 'full'", 'frame.colorRange', colorRange);

  if (format === 'nv12' || format === 'i420') {
    if (width % 2 !== 0 || height % 2 !== 0) {
      throw new Int8DetectError('ERR_FRAME', `A ${format} frame needs an even width and height, but this one is ${width}x${height}`);
    }
    const stride = frame.stride ?? width;
    if (!Number.isInteger(stride) || stride < width) throw invalidArgument(`an integer stride of at least the width (${width})`, 'frame.stride', stride);
    const uvOffset = frame.uvOffset ?? stride * height;
    const chromaRowBytes = format === 'nv12' ? width : width / 2;
    const uvStride = frame.uvStride ?? (format === 'nv12' ? stride : Math.floor(stride / 2));
    if (!Number.isInteger(uvStride) || uvStride < chromaRowBytes) {
      throw invalidArgument(`an integer chroma stride of at least ${chromaRowBytes}`, 'frame.uvStride', uvStride);
    }
    if (!Number.isInteger(uvOffset) || uvOffset < stride * (height - 1) + width) {
      throw invalidArgument('a chroma plane offset past the end of the luma plane', 'frame.uvOffset', uvOffset);
    }
    const chromaRows = height / 2;
    const vOffset = format === 'i420' ? uvOffset + uvStride * chromaRows : uvOffset;
    const chromaEnd = vOffset + uvStride * (chromaRows - 1) + chromaRowBytes;
    if (frame.data.byteLength < chromaEnd) {
      throw new Int8DetectError(
        'ERR_FRAME',
        `Frame buffer too small: a ${width}x${height} ${format} frame with stride ${stride} needs ${chromaEnd} bytes, but the buffer has ${frame.data.byteLength}`,
      );
    }
    return { data: frame.data, width, height, format, stride, uvOffset, uvStride, vOffset, colorMatrix, colorRange };
  }

  const rowBytes = width * BYTES_PER_PIXEL[format];
  const stride = frame.stride ?? rowBytes;
  if (!Number.isInteger(stride) || stride < rowBytes) throw invalidArgument(`an integer stride of at least ${rowBytes} bytes`, 'frame.stride', stride);
  const needed = stride * (height - 1) + rowBytes;
  if (frame.data.byteLength < needed) {
    throw new Int8DetectError(
      'ERR_FRAME',
      `Frame buffer too small: a ${width}x${height} ${format} frame with stride ${stride} needs ${needed} bytes, but the buffer has ${frame.data.byteLength}`,
    );
  }
  return { data: frame.data, width, height, format, stride, uvOffset: 0, uvStride: 0, vOffset: 0, colorMatrix, colorRange };
}
