/**
 * Command lines for the decoders. ffmpeg writes raw frames on stdout and, through the showinfo
 * filter, one log line per frame with its size and timestamp; `-autoscale 0` lets a frame keep
 * its own size when the stream's resolution changes (ffmpeg would otherwise scale every later
 * frame to the first frame's size), and the reader sizes each frame from its log line, so a
 * resolution change is followed exactly, with no restart and no lost frame.
 */
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { hwaccelArgs } from './hwaccel';
import { ffmpegInputArgs, ffmpegInputUrl } from './source-url';
import type { HwAccel, OutputFormat, SourceKind, SourceOptions } from './types';

export function ffmpegArgs(
  kind: SourceKind,
  options: SourceOptions,
  format: OutputFormat,
  hwaccel: Exclude<HwAccel, 'auto'>,
  connectTimeoutMs: number,
): string[] {
  const pixFmt = format === 'nv12' ? 'nv12' : 'bgr24';
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    ...hwaccelArgs(hwaccel),
    ...ffmpegInputArgs(kind, options, connectTimeoutMs),
    ...(options.inputArgs ?? []),
    '-i',
    ffmpegInputUrl(kind, options.url),
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-autoscale',
    '0',
    // One output frame for each decoded frame: no duplicates or drops after showinfo counted it.
    '-vsync',
    'passthrough',
    // NV12 needs even sizes; crop the odd row or column rather than scale.
    '-vf',
    `crop=trunc(iw/2)*2:trunc(ih/2)*2,format=${pixFmt},showinfo=checksum=0`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    pixFmt,
    'pipe:1',
  ];
}

/**
 * The GStreamer pipeline that decodes a source into raw frames on fd 3, as a list of tokens:
 * gst-launch-1.0 takes them as its arguments (and prints, with -v, the caps lines that give the
 * size); scripts/gst-launch-env.py takes them joined, from its environment. `decoder` is the
 * decoding element: decodebin by default, nvv4l2decoder on Jetson. `location` replaces the
 * source URL (the URL without its credentials, which the env launcher sets as properties of
 * the element named src).
 */
function gstreamerPipeline(kind: SourceKind, options: SourceOptions, format: OutputFormat, location: string = options.url, quote: (value: string) => string = (v) => v): string[] {
  const decoder = options.gstDecoder ?? 'decodebin';
  const convert = decoder.startsWith('nv') ? 'nvvidconv' : 'videoconvert';
  const raw = `video/x-raw,format=${format === 'nv12' ? 'NV12' : 'BGR'}`;
  let head: string[];
  if (kind === 'rtsp') {
    const source = ['rtspsrc', 'name=src', `location=${quote(location)}`, `protocols=${options.rtspTransport ?? 'tcp'}`];
    head = decoder === 'decodebin' ? [...source, 'latency=100', '!', 'decodebin'] : [...source, '!', 'rtph264depay', '!', 'h264parse', '!', decoder];
  } else if (kind === 'v4l2') {
    head = ['v4l2src', `device=${quote(location.replace(/^v4l2:/i, ''))}`, '!', 'decodebin'];
  } else {
    const uri = kind === 'file' ? pathToFileURL(path.resolve(location)).href : location;
    head = ['uridecodebin', `uri=${quote(uri)}`];
    if (decoder !== 'decodebin') head = ['filesrc', `location=${quote(path.resolve(location))}`, '!', 'parsebin', '!', decoder];
  }
  return [...head, '!', convert, '!', raw, '!', 'fdsink', 'name=sink', 'fd=3', `sync=${options.realtime ? 'true' : 'false'}`];
}

/** gst-launch-1.0's arguments: the pipeline, one token per argument, with -v for the caps lines. */
export function gstreamerArgs(kind: SourceKind, options: SourceOptions, format: OutputFormat): string[] {
  return ['-v', ...gstreamerPipeline(kind, options, format)];
}

/** A value in a gst_parse_launch description, quoted: URLs may hold spaces, '!' or quotes. */
function quoteGstValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The pipeline description for scripts/gst-launch-env.py, with `location` (the URL without user
 * info) for the source; the credentials go in the environment beside it, never in an argument.
 */
export function gstreamerDescription(kind: SourceKind, options: SourceOptions, format: OutputFormat, location: string): string {
  return gstreamerPipeline(kind, options, format, location, quoteGstValue).join(' ');
}

// /GstPipeline:pipeline0/GstFdSink:fdsink0.GstPad:sink: caps = video/x-raw, format=(string)NV12, width=(int)640, height=(int)480, ..., framerate=(fraction)15/1
const GST_SINK_CAPS = /GstFdSink:[^.]+\.GstPad:sink: caps = video\/x-raw.*?width=\(int\)(\d+), height=\(int\)(\d+)(?:.*?framerate=\(fraction\)(\d+)\/(\d+))?/;

export function parseGstSinkCaps(line: string): { width: number; height: number; fps: number } | undefined {
  const m = GST_SINK_CAPS.exec(line);
  if (!m) return undefined;
  const fps = m[3] !== undefined && Number(m[4]) > 0 ? Number(m[3]) / Number(m[4]) : NaN;
  return { width: Number(m[1]), height: Number(m[2]), fps };
}
