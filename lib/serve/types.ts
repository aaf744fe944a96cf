/** The options of `createServer()` and `int8-detect serve --config`, and what the server reports. */
import type { FastifyInstance } from 'fastify';
import type { DetectOptions } from '../detect/types';
import type { Engine, EngineOptions } from '../engine';
import type { TrackerOptions } from '../video/tracking/byte-tracker';
import type { LineSpec } from '../video/tracking/lines';
import type { AnalyticsCounts } from '../video/tracking/stream-analytics';
import type { ZoneSpec } from '../video/tracking/zones';
import type { SourceState } from '../video/types';

/** A camera: where it is, and what to look for in it. */
export interface CameraOptions {
  /** rtsp://, rtsps://, http(s):// (and, where allowed, a file path or /dev/videoN). Credentials in it are never shown. */
  url: string;
  /** The stream's id in the API, events and metrics: 1-64 letters, digits, _ . or - (default cam<N>). */
  id?: string;
  /** Which model (an id of `models`) runs on it (default: the first model). */
  model?: string;
  /** Process at most this many frames a second (default: every frame the engine keeps up with). */
  maxFps?: number;
  /** Classes of interest: class ids or names (default: all). */
  classes?: ReadonlyArray<number | string>;
  zones?: readonly ZoneSpec[];
  lines?: readonly LineSpec[];
  /** 'pixels' (default): zone and line points in frame pixels; 'normalized': fractions of width and height. */
  coordinates?: 'pixels' | 'normalized';
  /** Tracker settings (ByteTrack's thresholds, maxAge in frames). */
  tracker?: TrackerOptions;
  /** Detection settings; scoreThreshold defaults to the tracker's lowThreshold (0.1), so low-score boxes reach the second association. */
  detect?: Pick<DetectOptions, 'scoreThreshold' | 'iouThreshold' | 'maxDetections'>;
  rtspTransport?: 'tcp' | 'udp';
  /** Read a file at its frame rate, like a camera (files only). */
  realtime?: boolean;
}

/** Where event notifications are POSTed (JSON), with retries. */
export interface WebhookOptions {
  url: string;
  /** Event types sent (default: zone.enter, zone.exit, line.cross, stream.state). */
  events?: readonly ServerEventType[];
  /** Tries after the first failure (default 3). */
  retries?: number;
  /** Delay before the first retry, doubled each time (default 1000 ms). */
  backoffMs?: number;
  /** Per delivery (default 5000 ms). */
  timeoutMs?: number;
  /** Extra headers (e.g. an Authorization for the receiver). */
  headers?: Record<string, string>;
}

export interface ServerLimits {
  /** Largest request body for /v1/detect, bytes (default 20 MiB). Larger: 413. */
  maxImageBytes?: number;
  /** Largest image, pixels (default 40 000 000). Larger: 413. */
  maxImagePixels?: number;
  /** Largest JSON body, bytes (default 256 KiB). */
  maxJsonBytes?: number;
  /** /v1/detect requests running at once; more wait for the engine up to maxQueuedDetect, beyond that 503 (default 64). */
  maxConcurrentDetect?: number;
  /** Cameras at once (default 32). */
  maxStreams?: number;
  /** Open /v1/events connections (default 64). */
  maxEventClients?: number;
  /** Open live.mjpeg connections (default 64). */
  maxLiveViewers?: number;
}

/** A model the server runs: createEngine options, or an Engine you made (the server then does not dispose it). */
export type ModelOptions = EngineOptions | { engine: Engine };

export interface LoggerOptions {
  /** pino level (default 'info'). */
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where JSON log lines go (default stdout). */
  stream?: { write(line: string): void };
}

export interface ServerOptions {
  /** Models by id; the first is the default. */
  models?: Record<string, ModelOptions>;
  /** Shorthand for one model: `models: { default: { model } }`. */
  model?: string;
  /** Shorthand for one model you opened yourself. */
  engine?: Engine;
  /** The backend for the `model` shorthand. */
  backend?: EngineOptions['backend'];
  cameras?: readonly CameraOptions[];
  /** Bind address (default 127.0.0.1: only this machine). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** When set, every /v1 route needs it: `Authorization: Bearer <token>` or `?token=`. */
  token?: string;
  /** Also require the token on /metrics (default false: Prometheus scrapes it). */
  protectMetrics?: boolean;
  /** CORS: off by default; origins allowed to call the API from a browser. */
  cors?: { origins: readonly string[] };
  /** Let POST /v1/streams open files and /dev/video devices (default false: network URLs only). Config cameras may always. */
  allowFileSources?: boolean;
  webhooks?: readonly WebhookOptions[];
  limits?: ServerLimits;
  /** Frames a second the live view sends per camera (default 5). */
  liveFps?: number;
  /** Log lines (JSON, pino): true, false (default for the library) or settings. */
  logger?: boolean | LoggerOptions;
  /** Mount into your own fastify instance (you call listen) instead of a new one. */
  app?: FastifyInstance;
  /** Path prefix of every route when mounted (default none). */
  prefix?: string;
  /** The ffmpeg executable (default on PATH). */
  ffmpegPath?: string;
}

export type StreamState = SourceState;

/** A stream as the API shows it: the URL with its credentials replaced by ***. */
export interface StreamInfo {
  id: string;
  url: string;
  model: string;
  state: StreamState;
  width: number;
  height: number;
  fpsIn: number;
  fpsProcessed: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  framesIn: number;
  framesProcessed: number;
  dropped: number;
  reconnects: number;
  maxFps: number | null;
  classes: number[] | null;
  zones: ZoneSpec[];
  lines: LineSpec[];
  coordinates: 'pixels' | 'normalized';
  counts: AnalyticsCounts;
}

export interface TrackedObject {
  id: number;
  classId: number;
  label: string;
  score: number;
  box: { x1: number; y1: number; x2: number; y2: number };
}

export type ServerEventType =
  | 'detections'
  | 'zone.enter'
  | 'zone.exit'
  | 'line.cross'
  | 'stream.added'
  | 'stream.removed'
  | 'stream.state'
  | 'stream.stats';

export const SERVER_EVENT_TYPES: readonly ServerEventType[] = ['detections', 'zone.enter', 'zone.exit', 'line.cross', 'stream.added', 'stream.removed', 'stream.state', 'stream.stats'];

export interface DetectionsServerEvent {
  type: 'detections';
  stream: string;
  time: number;
  latencyMs: number;
  width: number;
  height: number;
  frame: number;
  tracks: TrackedObject[];
}

export interface ZoneServerEvent {
  type: 'zone.enter' | 'zone.exit';
  stream: string;
  zone: string;
  trackId: number;
  classId: number;
  label: string;
  time: number;
  dwellMs?: number;
  reason?: 'left' | 'lost';
}

export interface LineServerEvent {
  type: 'line.cross';
  stream: string;
  line: string;
  trackId: number;
  classId: number;
  label: string;
  direction: 'in' | 'out';
  time: number;
}

export interface StreamServerEvent {
  type: 'stream.added' | 'stream.removed';
  stream: string;
  time: number;
  info?: StreamInfo;
}

export interface StreamStateServerEvent {
  type: 'stream.state';
  stream: string;
  time: number;
  state: StreamState;
  reason?: string;
}

export interface StreamStatsServerEvent {
  type: 'stream.stats';
  stream: string;
  time: number;
  state: StreamState;
  fpsIn: number;
  fpsProcessed: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  dropped: number;
  reconnects: number;
  decoderCpu: number;
}

export type ServerEvent = DetectionsServerEvent | ZoneServerEvent | LineServerEvent | StreamServerEvent | StreamStateServerEvent | StreamStatsServerEvent;
