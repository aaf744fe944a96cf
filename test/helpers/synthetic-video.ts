/**
 * A made-up video for the tracking tests: COCO objects cut out of the fixture images (each with a
 * small margin of its own scene) moving on known straight paths across a plain background. The
 * truth is exact: every object's box in every frame.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Box } from '../../lib/detect/types';
import { coco } from './fixtures';

export interface Crop {
  annotationId: number;
  label: string;
  /** Packed RGB. */
  data: Buffer;
  width: number;
  height: number;
  /** The object's box inside the crop. */
  box: Box;
}

interface CocoFile {
  images: Array<{ id: number; file_name: string; width: number; height: number }>;
  annotations: Array<{ id: number; image_id: number; category_id: number; bbox: [number, number, number, number]; iscrowd: number }>;
  categories: Array<{ id: number; name: string }>;
}

/** Object crops of the given classes, in the order of the annotations file, the object scaled to `objectHeight` pixels. */
export async function cocoCrops(classes: readonly string[], objectHeight: number, limit: number): Promise<Crop[]> {
  const file = JSON.parse(readFileSync(coco.evalAnnotations, 'utf8')) as CocoFile;
  const names = new Map(file.categories.map((c) => [c.id, c.name]));
  const images = new Map(file.images.map((i) => [i.id, i]));
  const out: Crop[] = [];
  for (const a of file.annotations) {
    const label = names.get(a.category_id)!;
    const [x, y, w, h] = a.bbox;
    if (a.iscrowd || !classes.includes(label) || w < 70 || h < 90 || w > 260 || h > 300 || w / h > 1.6) continue;
    const image = images.get(a.image_id)!;
    const margin = Math.round(0.06 * Math.max(w, h));
    const left = Math.max(0, Math.floor(x - margin));
    const top = Math.max(0, Math.floor(y - margin));
    const right = Math.min(image.width, Math.ceil(x + w + margin));
    const bottom = Math.min(image.height, Math.ceil(y + h + margin));
    const scale = objectHeight / h;
    const width = Math.round((right - left) * scale);
    const height = Math.round((bottom - top) * scale);
    const { data } = await sharp(path.join(coco.evalImages, image.file_name))
      .extract({ left, top, width: right - left, height: bottom - top })
      .resize(width, height, { fit: 'fill' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    out.push({ annotationId: a.id, label, data, width, height, box: { x1: (x - left) * scale, y1: (y - top) * scale, x2: (x + w - left) * scale, y2: (y + h - top) * scale } });
    if (out.length >= limit) break;
  }
  return out;
}

/** A grey left-to-right gradient with soft horizontal bands: nothing a detector would call an object. */
export function background(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = Math.round(95 + (60 * x) / width + 12 * Math.sin(y / 37));
      const o = (y * width + x) * 3;
      data[o] = v;
      data[o + 1] = v + 4;
      data[o + 2] = v - 6;
    }
  }
  return data;
}

/** Paste a crop with its top-left at (left, top), clipped to the frame. */
export function paste(frame: Buffer, width: number, height: number, crop: Crop, left: number, top: number): void {
  const x0 = Math.max(0, left);
  const x1 = Math.min(width, left + crop.width);
  if (x1 <= x0) return;
  for (let row = 0; row < crop.height; row++) {
    const y = top + row;
    if (y < 0 || y >= height) continue;
    crop.data.copy(frame, (y * width + x0) * 3, (row * crop.width + (x0 - left)) * 3, (row * crop.width + (x1 - left)) * 3);
  }
}

/** Encode raw RGB frames as H.264 in an MP4 file with ffmpeg. */
export function encodeH264(frames: readonly Buffer[], width: number, height: number, fps: number, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ffmpeg = spawn('ffmpeg', [
      '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', String(fps),
      '-movflags', '+faststart', '-f', 'mp4', out,
    ], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    ffmpeg.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    ffmpeg.on('error', reject);
    ffmpeg.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}: ${stderr}`))));
    ffmpeg.stdin.on('error', () => undefined);
    (async () => {
      for (const f of frames) {
        if (!ffmpeg.stdin.write(f)) await new Promise((r) => ffmpeg.stdin.once('drain', r));
      }
      ffmpeg.stdin.end();
    })().catch(reject);
  });
}
