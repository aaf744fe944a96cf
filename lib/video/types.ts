/** The types shared by the video sources, the decoders and the pipeline. */
import type { Detection } from '../detect/types';
import type { RawFrame } from '../image/frame';

export type SourceKind = 'file' | 'rtsp' | 'http' | 'v4l2';

/** What the decoder writes on its stdout: NV12 (1.5 bytes a pixel) or packed BGR (3). */
export type OutputFormat = 'nv12' | 'bgr';

export type HwAccel = 'none' | 'auto' | 'cuda' | 'vaapi' | 'qsv';

export interface SourceOptions {
  /** A file path, rtsp://, rtsps://, http(s):// URL or a V4L2 device (/dev/videoN). */
  url: string;
  /** The stream's name in events and stats (default: 'stream<index>'). */
  id?: string;
  /** 'ffmpeg' (default) or 'gstreamer' (gst-launch-1.0 with fdsink; Jetson's nvv4l2decoder). */
  decoder?: 'ffmpeg' | 'gstreamer';
  /** Path of the ffmpeg executable (default 'ffmpeg' on PATH). */
  ffmpegPath?: string;
  /** Path of gst-launch-1.0 (default on PATH). */
  gstLaunchPath?: string;
  /** GStreamer decoder element (default 'decodebin'; 'nvv4l2decoder' on Jetson). */
  gstDecoder?: string;
  /** RTSP transport (default 'tcp': no losses on a busy network; 'udp' for cameras that need it). */
  rtspTransport?: 'tcp' | 'udp';
  /** Raw frame format handed to the engine (default 'nv12', half the bytes of BGR). */
  format?: OutputFormat;
  /** Hardware decoding: 'none' (default), 'auto' (whatever ffmpeg -hwaccels and probe() find), or one by name. */
  hwaccel?: HwAccel;
  /** Read a file at its native frame rate, as a camera would send it (ffmpeg -re). */
  realtime?: boolean;
  /** Extra ffmpeg input options, placed before -i. */
  inputArgs?: string[];
  /** No stream information within this many ms after starting the decoder: a timeout (default 10000). */
  connectTimeoutMs?: number;
  /** Connected, then no frame for this long: restart the decoder (default 5000). */
  stallTimeoutMs?: number;
  /** Reconnect attempts in a row before giving up (default Infinity for live sources, 0 for files). */
  maxRetries?: number;
  /** First reconnect delay (default 500 ms); doubles each failed attempt, with ±25 % jitter. */
  backoffInitialMs?: number;
  /** Longest reconnect delay (default 30000 ms). */
  backoffMaxMs?: number;
}

/** A decoded frame: raw pixels the engine takes, and where and when it came from. */
export interface VideoFrame extends RawFrame {
  /** The source's id. */
  stream: string;
  /** Presentation timestamp in seconds, as the decoder reports it (NaN when it has none). */
  pts: number;
  /** Wall-clock time (ms since the epoch) when the whole frame had been read from the decoder. */
  time: number;
  /** Frames of this stream read so far, this one included, across reconnects. */
  index: number;
}

export interface DetectionsEvent {
  stream: string;
  pts: number;
  /** The frame's wall-clock time (ms since the epoch). */
  time: number;
  /** Frame-to-detection latency in ms: from the frame being read to its detections. */
  latencyMs: number;
  width: number;
  height: number;
  detections: Detection[];
  /** The frame itself, only while the listener runs: copy what you keep (its memory is reused). */
  frame: VideoFrame;
}

export interface StreamStats {
  stream: string;
  /** 'connecting', 'connected', 'reconnecting', 'ended' or 'failed'. */
  state: SourceState;
  /** Frames read from the decoder per second, over the last interval. */
  fpsIn: number;
  /** Frames whose detections came back per second, over the last interval. */
  fpsProcessed: number;
  /** Frames dropped by the latest-frame policy (stale frames replaced by newer ones), in total. */
  dropped: number;
  /** Frames skipped by the maxFps limit, in total. */
  skipped: number;
  /** Frames read and processed in total. */
  framesIn: number;
  framesProcessed: number;
  /** Frame-to-detection latency over the last interval, ms (NaN when nothing was processed). */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Frames waiting in this stream's queue now. */
  queued: number;
  /** CPU time of the decoder process per wall second over the last interval (1 = one core busy). */
  decoderCpu: number;
  /** The decoder's CPU time as a share of all the machine's cores (decoderCpu / cores). */
  decoderCpuShare: number;
  width: number;
  height: number;
  reconnects: number;
}

export interface PipelineStats {
  time: number;
  intervalMs: number;
  streams: StreamStats[];
  /** Sums over the streams. */
  fpsIn: number;
  fpsProcessed: number;
  decoderCpu: number;
  decoderCpuShare: number;
}

export type SourceState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'ended' | 'failed';

export interface ConnectedEvent {
  stream: string;
  url: string;
  width: number;
  height: number;
  format: OutputFormat;
  decoder: string;
}

export interface DisconnectedEvent {
  stream: string;
  url: string;
  reason: string;
}

export interface ReconnectingEvent {
  stream: string;
  url: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface EndEvent {
  stream: string;
  url: string;
  frames: number;
}

export interface StreamErrorEvent {
  stream: string;
  url: string;
  error: Error;
  /** True when the source has given up (no more reconnects). */
  fatal: boolean;
}
