/** What kind of source a URL or path names, and the ffmpeg input options that suit it. */
import type { SourceKind, SourceOptions } from './types';

export function sourceKind(url: string): SourceKind {
  if (/^rtsps?:\/\//i.test(url)) return 'rtsp';
  if (/^https?:\/\//i.test(url)) return 'http';
  if (/^\/dev\/video\d+$/.test(url) || /^v4l2:/i.test(url)) return 'v4l2';
  return 'file';
}

/** Live sources reconnect when they end; files end. */
export function isLive(kind: SourceKind): boolean {
  return kind !== 'file';
}

/** ffmpeg options placed before -i for this kind of source. */
export function ffmpegInputArgs(kind: SourceKind, options: SourceOptions, connectTimeoutMs: number): string[] {
  // Socket I/O timeout in microseconds: ffmpeg then fails by itself on a dead connection, and
  // our own connect timer and stall watchdog cover what it misses.
  const timeoutUs = String(Math.max(1, Math.round(connectTimeoutMs)) * 1000);
  switch (kind) {
    case 'rtsp':
      // A short probe: ffmpeg's default (5 s of analysis) delays every connect and reconnect,
      // and an RTSP camera's SDP and first keyframe already say what the stream is.
      return ['-rtsp_transport', options.rtspTransport ?? 'tcp', '-timeout', timeoutUs, '-analyzeduration', '1000000', '-probesize', '500000', '-fflags', 'nobuffer', '-flags', 'low_delay'];
    case 'http':
      return ['-rw_timeout', timeoutUs, '-fflags', 'nobuffer'];
    case 'v4l2':
      return ['-f', 'v4l2'];
    case 'file':
      return options.realtime ? ['-re'] : [];
  }
}

export function ffmpegInputUrl(kind: SourceKind, url: string): string {
  return kind === 'v4l2' ? url.replace(/^v4l2:/i, '') : url;
}
