/**
 * One camera of the server: its own pipeline (so cameras come and go at run time without touching
 * the others; they share the model's engine and its request pool), its tracker, zones and lines,
 * the newest frame for snapshots and the live view, and its events, metrics and log lines.
 *
 * The URL is kept here only; everything that leaves (API, events, logs) carries `redactUrl(url)`.
 */
import type { FastifyBaseLogger } from 'fastify';
import sharp from 'sharp';
import type { Engine } from '../engine';
import { createPipeline, type Pipeline } from '../video/pipeline';
import { redactUrl } from '../video/redact';
import type { Track } from '../video/tracking/byte-tracker';
import { StreamAnalytics, type AnalyticsCounts } from '../video/tracking/stream-analytics';
import type { DetectionsEvent, StreamStats } from '../video/types';
import type { ResolvedCamera } from './camera-options';
import type { EventBus } from './event-bus';
import type { ServerMetrics } from './metrics';
import { overlaySvg } from './overlay';
import type { StreamInfo, StreamState, TrackedObject } from './types';

/** sharp reads raw 3-channel pixels as RGB; the decoder writes BGR. */
const BGR_TO_RGB: [[number, number, number], [number, number, number], [number, number, number]] = [
  [0, 0, 1],
  [0, 1, 0],
  [1, 0, 0],
];

interface LatestFrame {
  data: Buffer;
  width: number;
  height: number;
  time: number;
  sequence: number;
  tracks: TrackedObject[];
}

export interface CameraStreamContext {
  engine: Engine;
  bus: EventBus;
  metrics: ServerMetrics;
  log: FastifyBaseLogger;
  ffmpegPath?: string;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

function trackedObject(t: Track, width: number, height: number): TrackedObject {
  const clip = (v: number, max: number) => round1(Math.min(Math.max(v, 0), max));
  return {
    id: t.id,
    classId: t.classId,
    label: t.label,
    score: Math.round(t.score * 1000) / 1000,
    box: { x1: clip(t.box.x1, width), y1: clip(t.box.y1, height), x2: clip(t.box.x2, width), y2: clip(t.box.y2, height) },
  };
}

export class CameraStream {
  readonly id: string;
  /** The URL with credentials replaced by ***: the only form that leaves this object. */
  readonly publicUrl: string;
  state: StreamState = 'connecting';
  private readonly url: string;
  private readonly pipeline: Pipeline;
  private readonly analytics: StreamAnalytics;
  private stats: StreamStats | undefined;
  private latest: LatestFrame | undefined;
  private sequence = 0;
  private rendering = new Map<string, { sequence: number; jpeg: Promise<Buffer> }>();
  private readonly frameListeners = new Set<() => void>();

  constructor(
    readonly camera: ResolvedCamera,
    private readonly context: CameraStreamContext,
  ) {
    this.id = camera.id;
    this.url = camera.url;
    this.publicUrl = redactUrl(camera.url);
    this.analytics = new StreamAnalytics({ zones: camera.zones, lines: camera.lines, coordinates: camera.coordinates, tracker: camera.tracker });
    const lowThreshold = camera.tracker.lowThreshold ?? 0.1;
    this.pipeline = createPipeline({
      engine: context.engine,
      sources: [
        {
          url: this.url,
          id: camera.id,
          // BGR: the engine takes it as it is, and the snapshots and live view encode it without a colour conversion of our own.
          format: 'bgr',
          ...(camera.rtspTransport ? { rtspTransport: camera.rtspTransport } : {}),
          ...(camera.realtime !== undefined ? { realtime: camera.realtime } : {}),
          ...(context.ffmpegPath ? { ffmpegPath: context.ffmpegPath } : {}),
        },
      ],
      ...(camera.maxFps !== undefined ? { maxFps: camera.maxFps } : {}),
      detect: {
        scoreThreshold: lowThreshold,
        ...camera.detect,
        ...(camera.classIds ? { classes: camera.classIds } : {}),
      },
    });
    this.listen();
    context.metrics.addStream(this.id);
  }

  private listen(): void {
    const { bus, metrics, log } = this.context;
    const setState = (state: StreamState, reason?: string) => {
      this.state = state;
      metrics.setUp(this.id, state === 'connected');
      bus.publish({ type: 'stream.state', stream: this.id, time: Date.now(), state, ...(reason ? { reason: redactUrl(reason) } : {}) });
    };
    this.pipeline.on('detections', (e) => this.onDetections(e));
    this.pipeline.on('connected', (e) => {
      log.info({ stream: this.id, url: this.publicUrl, width: e.width, height: e.height }, 'stream connected');
      setState('connected');
    });
    this.pipeline.on('disconnected', (e) => log.warn({ stream: this.id, reason: redactUrl(e.reason) }, 'stream disconnected'));
    this.pipeline.on('reconnecting', (e) => {
      metrics.reconnect(this.id);
      log.info({ stream: this.id, attempt: e.attempt, delayMs: e.delayMs }, 'stream reconnecting');
      setState('reconnecting', e.reason);
    });
    this.pipeline.on('end', (e) => {
      log.info({ stream: this.id, frames: e.frames }, 'stream ended');
      if (this.state !== 'failed') setState('ended');
    });
    this.pipeline.on('error', (e) => {
      const message = redactUrl(e.error.message);
      log.warn({ stream: this.id, fatal: e.fatal, error: message }, 'stream error');
      if (e.fatal) setState('failed', message);
    });
    this.pipeline.on('stats', (s) => {
      const stats = s.streams[0];
      if (!stats) return;
      this.stats = stats;
      metrics.observeStats(stats);
      bus.publish({
        type: 'stream.stats',
        stream: this.id,
        time: s.time,
        state: this.state,
        fpsIn: stats.fpsIn,
        fpsProcessed: stats.fpsProcessed,
        latencyP50Ms: Number.isNaN(stats.latencyP50Ms) ? null : stats.latencyP50Ms,
        latencyP99Ms: Number.isNaN(stats.latencyP99Ms) ? null : stats.latencyP99Ms,
        dropped: stats.dropped,
        reconnects: stats.reconnects,
        decoderCpu: stats.decoderCpu,
      });
    });
    this.pipeline.on('log', (_stream, line) => log.debug({ stream: this.id, line: redactUrl(line) }, 'decoder'));
  }

  private onDetections(e: DetectionsEvent): void {
    const { bus, metrics } = this.context;
    const { frame, tracks, events } = this.analytics.update(e.detections, e.time, e.width, e.height);
    const objects = tracks.map((t) => trackedObject(t, e.width, e.height));
    metrics.frameLatency(this.id, e.latencyMs / 1000);
    this.keepFrame(e, objects);
    bus.publish({ type: 'detections', stream: this.id, time: e.time, latencyMs: e.latencyMs, width: e.width, height: e.height, frame, tracks: objects });
    for (const event of events) {
      if (event.type === 'line.cross') {
        metrics.lineCrossing(this.id, event.line, event.label, event.direction);
        bus.publish({ ...event, stream: this.id });
      } else {
        metrics.zoneEvent(this.id, event.zone, event.label, event.type === 'zone.enter' ? 'enter' : 'exit');
        bus.publish({ ...event, stream: this.id });
      }
    }
    if (events.length > 0) metrics.occupancy(this.id, this.analytics.counts(e.time));
    for (const listener of this.frameListeners) listener();
  }

  /** The event's frame is reused once the listeners return: copy it into this stream's own buffer. */
  private keepFrame(e: DetectionsEvent, tracks: TrackedObject[]): void {
    const { frame } = e;
    const rowBytes = frame.width * 3;
    const bytes = rowBytes * frame.height;
    let data = this.latest?.data;
    if (!data || data.byteLength !== bytes) data = Buffer.allocUnsafe(bytes);
    const src = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    const stride = frame.stride ?? rowBytes;
    if (stride === rowBytes) src.copy(data, 0, 0, bytes);
    else for (let y = 0; y < frame.height; y++) src.copy(data, y * rowBytes, y * stride, y * stride + rowBytes);
    this.latest = { data, width: frame.width, height: frame.height, time: e.time, sequence: ++this.sequence, tracks };
  }

  /** Called after every processed frame (the live view waits on it). */
  onFrame(listener: () => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  /** The newest frame as JPEG, annotated or not; undefined before the first frame. Shared by concurrent callers. */
  snapshot(annotated: boolean): Promise<Buffer> | undefined {
    const latest = this.latest;
    if (!latest) return undefined;
    const key = annotated ? 'annotated' : 'plain';
    const cached = this.rendering.get(key);
    if (cached && cached.sequence === latest.sequence) return cached.jpeg;
    // A copy: sharp reads the pixels on its own thread while the next frame lands in `latest.data`.
    const pixels = Buffer.from(latest.data);
    let image = sharp(pixels, { raw: { width: latest.width, height: latest.height, channels: 3 } }).recomb(BGR_TO_RGB);
    if (annotated) {
      const scale = this.camera.coordinates === 'normalized';
      const svg = overlaySvg(latest.width, latest.height, latest.tracks, {
        zones: this.camera.zones ?? [],
        lines: this.camera.lines ?? [],
        scaleX: scale ? latest.width : 1,
        scaleY: scale ? latest.height : 1,
      });
      image = image.composite([{ input: Buffer.from(svg) }]);
    }
    const jpeg = image.jpeg({ quality: 80 }).toBuffer();
    this.rendering.set(key, { sequence: latest.sequence, jpeg });
    jpeg.catch(() => this.rendering.delete(key));
    return jpeg;
  }

  /** The sequence number of the newest frame (0 before the first). */
  get frameSequence(): number {
    return this.latest?.sequence ?? 0;
  }

  counts(): AnalyticsCounts {
    return this.analytics.counts(Date.now());
  }

  info(): StreamInfo {
    const s = this.stats;
    return {
      id: this.id,
      url: this.publicUrl,
      model: this.camera.model,
      state: this.state,
      width: this.latest?.width ?? s?.width ?? 0,
      height: this.latest?.height ?? s?.height ?? 0,
      fpsIn: s?.fpsIn ?? 0,
      fpsProcessed: s?.fpsProcessed ?? 0,
      latencyP50Ms: s && !Number.isNaN(s.latencyP50Ms) ? s.latencyP50Ms : null,
      latencyP99Ms: s && !Number.isNaN(s.latencyP99Ms) ? s.latencyP99Ms : null,
      framesIn: s?.framesIn ?? 0,
      framesProcessed: s?.framesProcessed ?? 0,
      dropped: s?.dropped ?? 0,
      reconnects: s?.reconnects ?? 0,
      maxFps: this.camera.maxFps ?? null,
      classes: this.camera.classIds ?? null,
      zones: [...(this.camera.zones ?? [])],
      lines: [...(this.camera.lines ?? [])],
      coordinates: this.camera.coordinates,
      counts: this.counts(),
    };
  }

  /** Decoder process ids (to check that none outlives the server). */
  get decoderPids(): number[] {
    return this.pipeline.decoderPids;
  }

  /** Resolves when a file source has been read to its end (live sources: when they give up). */
  whenIdle(): Promise<void> {
    return this.pipeline.whenIdle();
  }

  /** Stop the decoder and wait for it to exit; in-flight detections finish. */
  async dispose(): Promise<void> {
    this.frameListeners.clear();
    await this.pipeline.dispose();
    this.context.metrics.removeStream(this.id);
  }
}
