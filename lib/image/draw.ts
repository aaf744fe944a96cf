/** Draw detections onto an image (boxes and labels) with sharp, for annotated output. */
import sharp from 'sharp';
import type { Detection } from '../detect/types';
import { Int8DetectError } from '../util/errors';
import type { RawFrame } from './frame';

const PALETTE = ['#ff3838', '#ff9d97', '#ff701f', '#ffb21d', '#cfd231', '#48f90a', '#92cc17', '#3ddb86', '#1a9334', '#00d4bb',
  '#2c99a8', '#00c2ff', '#344593', '#6473ff', '#0018ec', '#8438ff', '#520085', '#cb38ff', '#ff95c8', '#ff37c7'];

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** An SVG overlay of the detections, sized to the frame. `channelOrder` 'bgr' swaps red and blue, for drawing straight onto BGR pixels. */
export function detectionsSvg(width: number, height: number, detections: readonly Detection[], channelOrder: 'rgb' | 'bgr' = 'rgb'): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 300));
  const fontSize = Math.max(11, Math.round(Math.min(width, height) / 40));
  const parts = detections.map((d) => {
    const rgb = PALETTE[d.classId % PALETTE.length];
    const colour = channelOrder === 'bgr' ? `#${rgb.slice(5, 7)}${rgb.slice(3, 5)}${rgb.slice(1, 3)}` : rgb;
    const { x1, y1, x2, y2 } = d.box;
    const caption = escapeXml(`${d.label} ${d.score.toFixed(2)}`);
    const captionWidth = Math.round(caption.length * fontSize * 0.6) + 6;
    const top = y1 >= fontSize + 4 ? y1 - fontSize - 4 : y1;
    return (
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(y2 - y1).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<rect x="${x1.toFixed(1)}" y="${top.toFixed(1)}" width="${captionWidth}" height="${fontSize + 4}" fill="${colour}"/>` +
      `<text x="${(x1 + 3).toFixed(1)}" y="${(top + fontSize).toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#ffffff">${caption}</text>`
    );
  });
  return `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

/** Encode an RGB frame with the detections drawn on it, as JPEG or PNG by the file extension. */
export async function drawDetections(frame: RawFrame, detections: readonly Detection[], format: 'jpeg' | 'png'): Promise<Buffer> {
  const overlay = Buffer.from(detectionsSvg(frame.width, frame.height, detections));
  const image = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).composite([{ input: overlay }]);
  return format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 90 }).toBuffer();
}

/**
 * Draw detections onto raw RGB or BGR pixels and return raw pixels of the same size and order
 * (video frames on their way to an encoder: no image format in between).
 */
export async function drawDetectionsRaw(frame: RawFrame, detections: readonly Detection[]): Promise<Buffer> {
  if (frame.format !== 'rgb' && frame.format !== 'bgr') {
    throw new Int8DetectError('ERR_FRAME', `drawDetectionsRaw draws on rgb or bgr frames, not ${frame.format}`);
  }
  const overlay = Buffer.from(detectionsSvg(frame.width, frame.height, detections, frame.format));
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .composite([{ input: overlay }])
    .removeAlpha()
    .raw()
    .toBuffer();
}
