/**
 * Encoded images (JPEG, PNG, WebP, ...) decoded to raw frames with sharp, and raw RGB frames
 * encoded back, for the CLI's annotated output.
 */
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { Int8DetectError } from '../util/errors';
import type { RawFrame } from './frame';

/**
 * Decode to packed RGB, honouring EXIF orientation as OpenCV's imread does, so boxes are in the
 * coordinates of the image as people see it.
 */
export async function decodeImage(input: Buffer | string): Promise<RawFrame> {
  if (typeof input === 'string') {
    try {
      await fs.access(input);
    } catch {
      throw new Int8DetectError('ERR_ARGUMENT', `Image file not found: ${input}`);
    }
  }
  try {
    const { data, info } = await sharp(input, { failOn: 'error' })
      .autoOrient()
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, format: 'rgb' };
  } catch (err) {
    const what = typeof input === 'string' ? input : `a Buffer of ${input.byteLength} bytes`;
    throw new Int8DetectError('ERR_FRAME', `Could not decode the image ${what}: ${(err as Error).message}`, { cause: err });
  }
}
