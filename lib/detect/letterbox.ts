/**
 * Letterbox geometry: where a source frame lands inside the model input. TypeScript owns this
 * arithmetic (the native preprocessing only executes it) so that decoding can invert it exactly.
 */
import type { Box, LetterboxGeometry } from './types';

export type LetterboxPlacement = 'topleft' | 'center';

/**
 * Scale the frame to fit the model input keeping its aspect ratio, then place it top-left (YOLOX)
 * or centred (Ultralytics). Centred placement rounds the padding as Ultralytics' LetterBox does
 * (round(d - 0.1) on the top/left side) so our tensors match theirs pixel for pixel.
 */
export function letterboxGeometry(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  placement: LetterboxPlacement,
): LetterboxGeometry {
  const scale = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
  const resizedWidth = Math.min(dstWidth, Math.max(1, Math.round(srcWidth * scale)));
  const resizedHeight = Math.min(dstHeight, Math.max(1, Math.round(srcHeight * scale)));
  let offsetX = 0;
  let offsetY = 0;
  if (placement === 'center') {
    offsetX = Math.round((dstWidth - resizedWidth) / 2 - 0.1);
    offsetY = Math.round((dstHeight - resizedHeight) / 2 - 0.1);
    offsetX = Math.max(0, offsetX);
    offsetY = Math.max(0, offsetY);
  }
  return { srcWidth, srcHeight, dstWidth, dstHeight, scale, resizedWidth, resizedHeight, offsetX, offsetY };
}

/** Map a box from model-input pixels back to source pixels, clipped to the source frame. */
export function unletterboxBox(box: Box, g: LetterboxGeometry): Box {
  // The resize maps resizedWidth pixels onto srcWidth: use that exact ratio, not the nominal scale,
  // so rounding of the resized size does not shift boxes near the far edge.
  const sx = g.srcWidth / g.resizedWidth;
  const sy = g.srcHeight / g.resizedHeight;
  const clip = (v: number, hi: number) => (v < 0 ? 0 : v > hi ? hi : v);
  return {
    x1: clip((box.x1 - g.offsetX) * sx, g.srcWidth),
    y1: clip((box.y1 - g.offsetY) * sy, g.srcHeight),
    x2: clip((box.x2 - g.offsetX) * sx, g.srcWidth),
    y2: clip((box.y2 - g.offsetY) * sy, g.srcHeight),
  };
}
