/**
 * What ffmpeg's stderr tells us: one showinfo line per frame (its size and timestamp, written
 * before the frame reaches stdout, so the reader always knows how many bytes the next frame
 * has), and the failures worth naming (authentication, not found, refused).
 */
import type { VideoErrorReason } from './errors';

export interface FrameLayoutInfo {
  width: number;
  height: number;
  /** Seconds; NaN when the frame has no timestamp. */
  pts: number;
}

// [Parsed_showinfo_2 @ 0x...] n:  57 pts:4560023 pts_time:3.80002 pos: 324010 fmt:nv12 sar:1/1 s:640x480 ...
const SHOWINFO_FRAME = /\[Parsed_showinfo_\d+ @ [^\]]+\] n:\s*\d+\s+pts:\s*\S+\s+pts_time:(\S+)\s.*?\bs:(\d+)x(\d+)/;

export function parseShowinfoFrame(line: string): FrameLayoutInfo | undefined {
  const m = SHOWINFO_FRAME.exec(line);
  if (!m) return undefined;
  const pts = Number(m[1]);
  return { width: Number(m[2]), height: Number(m[3]), pts: Number.isFinite(pts) ? pts : NaN };
}

/** A failure reason recognised in a log line, if any. */
export function classifyFfmpegLine(line: string): VideoErrorReason | undefined {
  if (/\b401\b.*unauthori[sz]ed|unauthori[sz]ed.*\b401\b|method \w+ failed: 401/i.test(line)) return 'auth';
  if (/\b403\b.*forbidden/i.test(line)) return 'auth';
  if (/\b404\b.*not found|method \w+ failed: 404|No such file or directory|No such device/i.test(line)) return 'not-found';
  return undefined;
}

/** Lines that only describe (banner, stream metadata, showinfo's side data) and explain no failure. */
export function isNoise(line: string): boolean {
  return /^\s*\[Parsed_showinfo_/.test(line) || /^\s*(Metadata|encoder|title|comment|Duration|Side data|Stream mapping)\b/.test(line);
}
