/**
 * Hardware decoding: which of ffmpeg's hwaccels to pass through. 'auto' asks ffmpeg what it was
 * built with (-hwaccels) and the library's probe() what the machine has (a CUDA device, a DRM
 * render node), and picks the first that both offer; without one it decodes on the CPU.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { probe } from '../probe';
import type { HwAccel } from './types';

const listed = new Map<string, Promise<Set<string>>>();

/** The hwaccels an ffmpeg binary lists; empty when it cannot be run. */
export function ffmpegHwaccels(ffmpegPath: string): Promise<Set<string>> {
  let found = listed.get(ffmpegPath);
  if (!found) {
    found = new Promise((resolve) => {
      execFile(ffmpegPath, ['-hide_banner', '-hwaccels'], { timeout: 10_000 }, (err, stdout) => {
        if (err) return resolve(new Set());
        const names = stdout.split('\n').slice(1).map((l) => l.trim()).filter((l) => /^[a-z0-9_]+$/.test(l));
        resolve(new Set(names));
      });
    });
    listed.set(ffmpegPath, found);
  }
  return found;
}

/** Resolve 'auto' to a concrete choice; a named hwaccel is taken as asked. */
export async function resolveHwAccel(requested: HwAccel, ffmpegPath: string): Promise<Exclude<HwAccel, 'auto'>> {
  if (requested !== 'auto') return requested;
  const available = await ffmpegHwaccels(ffmpegPath);
  if (available.has('cuda')) {
    const report = await probe().catch(() => undefined);
    if (report?.cuda.available && report.cuda.devices.length > 0) return 'cuda';
  }
  if (available.has('vaapi') && existsSync('/dev/dri/renderD128')) return 'vaapi';
  if (available.has('qsv') && existsSync('/dev/dri/renderD128')) return 'qsv';
  return 'none';
}

/** The ffmpeg options for a hwaccel. Frames come back to system memory (no -hwaccel_output_format). */
export function hwaccelArgs(hwaccel: Exclude<HwAccel, 'auto'>): string[] {
  return hwaccel === 'none' ? [] : ['-hwaccel', hwaccel];
}
