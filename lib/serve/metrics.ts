/**
 * Prometheus metrics (prom-client), in a registry of the server's own so that two servers in one
 * process, or the host application's metrics, do not collide. Labels carry stream, zone and line
 * ids and class names, never a URL. A removed stream's series are removed with it.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type LabelValues } from 'prom-client';
import type { AnalyticsCounts } from '../video/tracking/stream-analytics';
import type { StreamStats } from '../video/types';

type Labelled = { remove(labels: LabelValues<string>): void };

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10];
const INFERENCE_BUCKETS = [0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly fpsIn: Gauge<'stream'>;
  readonly fpsProcessed: Gauge<'stream'>;
  readonly framesIn: Counter<'stream'>;
  readonly framesProcessed: Counter<'stream'>;
  readonly dropped: Counter<'stream'>;
  readonly skipped: Counter<'stream'>;
  readonly latency: Histogram<'stream'>;
  readonly inference: Histogram<'model' | 'backend' | 'precision' | 'source'>;
  readonly reconnects: Counter<'stream'>;
  readonly decoderCpu: Gauge<'stream'>;
  readonly streamUp: Gauge<'stream'>;
  readonly events: Counter<'stream' | 'type'>;
  readonly zoneEntries: Counter<'stream' | 'zone' | 'class'>;
  readonly zoneExits: Counter<'stream' | 'zone' | 'class'>;
  readonly zoneOccupancy: Gauge<'stream' | 'zone' | 'class'>;
  readonly lineCrossings: Counter<'stream' | 'line' | 'class' | 'direction'>;
  readonly httpRequests: Histogram<'method' | 'route' | 'status'>;
  readonly eventClients: Gauge;
  readonly liveViewers: Gauge;
  readonly webhookDeliveries: Counter<'outcome'>;
  /** Every label set used per stream, to remove them with the stream. */
  private readonly seriesByStream = new Map<string, Map<string, { metric: Labelled; labels: LabelValues<string> }>>();
  /** Last totals seen per stream, to turn the pipeline's running totals into counter increments. */
  private readonly totals = new Map<string, { framesIn: number; framesProcessed: number; dropped: number; skipped: number }>();

  constructor() {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.fpsIn = new Gauge({ name: 'int8_detect_stream_fps_in', help: 'Frames read from the decoder per second, over the last stats interval', labelNames: ['stream'], registers: r });
    this.fpsProcessed = new Gauge({ name: 'int8_detect_stream_fps_processed', help: 'Frames detected per second, over the last stats interval', labelNames: ['stream'], registers: r });
    this.framesIn = new Counter({ name: 'int8_detect_stream_frames_in_total', help: 'Frames read from the decoder', labelNames: ['stream'], registers: r });
    this.framesProcessed = new Counter({ name: 'int8_detect_stream_frames_processed_total', help: 'Frames detected', labelNames: ['stream'], registers: r });
    this.dropped = new Counter({ name: 'int8_detect_stream_frames_dropped_total', help: 'Stale frames dropped by the latest-frame policy', labelNames: ['stream'], registers: r });
    this.skipped = new Counter({ name: 'int8_detect_stream_frames_skipped_total', help: 'Frames skipped by the maxFps limit', labelNames: ['stream'], registers: r });
    this.latency = new Histogram({ name: 'int8_detect_stream_latency_seconds', help: 'Frame-to-detection latency: from the frame read from the decoder to its detections', labelNames: ['stream'], buckets: LATENCY_BUCKETS, registers: r });
    this.inference = new Histogram({
      name: 'int8_detect_inference_seconds',
      help: 'engine.detect() time (preprocessing, inference, decoding, NMS, and any wait for a free inference slot) by model, backend and precision; source is stream or http',
      labelNames: ['model', 'backend', 'precision', 'source'],
      buckets: INFERENCE_BUCKETS,
      registers: r,
    });
    this.reconnects = new Counter({ name: 'int8_detect_stream_reconnects_total', help: 'Reconnect attempts', labelNames: ['stream'], registers: r });
    this.decoderCpu = new Gauge({ name: 'int8_detect_stream_decoder_cpu_cores', help: "The decoder process's CPU use, in cores (1 = one core busy), over the last stats interval", labelNames: ['stream'], registers: r });
    this.streamUp = new Gauge({ name: 'int8_detect_stream_up', help: '1 while the stream is connected, else 0', labelNames: ['stream'], registers: r });
    this.events = new Counter({ name: 'int8_detect_events_total', help: 'Events published, by stream and type', labelNames: ['stream', 'type'], registers: r });
    this.zoneEntries = new Counter({ name: 'int8_detect_zone_entries_total', help: 'Tracks that entered a zone, by class', labelNames: ['stream', 'zone', 'class'], registers: r });
    this.zoneExits = new Counter({ name: 'int8_detect_zone_exits_total', help: 'Tracks that left a zone, by class', labelNames: ['stream', 'zone', 'class'], registers: r });
    this.zoneOccupancy = new Gauge({ name: 'int8_detect_zone_objects', help: 'Tracks inside a zone now, by class', labelNames: ['stream', 'zone', 'class'], registers: r });
    this.lineCrossings = new Counter({ name: 'int8_detect_line_crossings_total', help: 'Line crossings, by class and direction', labelNames: ['stream', 'line', 'class', 'direction'], registers: r });
    this.httpRequests = new Histogram({ name: 'int8_detect_http_request_duration_seconds', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], buckets: INFERENCE_BUCKETS, registers: r });
    this.eventClients = new Gauge({ name: 'int8_detect_event_clients', help: 'Open /v1/events connections', registers: r });
    this.liveViewers = new Gauge({ name: 'int8_detect_live_viewers', help: 'Open live.mjpeg connections', registers: r });
    this.webhookDeliveries = new Counter({ name: 'int8_detect_webhook_deliveries_total', help: 'Webhook deliveries by outcome (delivered, retried, failed, dropped)', labelNames: ['outcome'], registers: r });
  }

  private remember(stream: string, metric: Labelled, labels: LabelValues<string>): void {
    let series = this.seriesByStream.get(stream);
    if (!series) {
      series = new Map();
      this.seriesByStream.set(stream, series);
    }
    const key = `${(metric as unknown as { name: string }).name}\u0000${JSON.stringify(labels)}`;
    if (!series.has(key)) series.set(key, { metric, labels });
  }

  /** The pipeline's per-second stats of one stream. */
  observeStats(s: StreamStats): void {
    const labels = { stream: s.stream };
    this.fpsIn.set(labels, s.fpsIn);
    this.fpsProcessed.set(labels, s.fpsProcessed);
    this.decoderCpu.set(labels, s.decoderCpu);
    const last = this.totals.get(s.stream) ?? { framesIn: 0, framesProcessed: 0, dropped: 0, skipped: 0 };
    this.framesIn.inc(labels, Math.max(0, s.framesIn - last.framesIn));
    this.framesProcessed.inc(labels, Math.max(0, s.framesProcessed - last.framesProcessed));
    this.dropped.inc(labels, Math.max(0, s.dropped - last.dropped));
    this.skipped.inc(labels, Math.max(0, s.skipped - last.skipped));
    this.totals.set(s.stream, { framesIn: s.framesIn, framesProcessed: s.framesProcessed, dropped: s.dropped, skipped: s.skipped });
    for (const m of [this.fpsIn, this.fpsProcessed, this.decoderCpu, this.framesIn, this.framesProcessed, this.dropped, this.skipped]) this.remember(s.stream, m, labels);
  }

  /** A stream is registered: its series exist (at zero) from the start, as Prometheus prefers. */
  addStream(stream: string): void {
    const labels = { stream };
    for (const m of [this.framesIn, this.framesProcessed, this.dropped, this.skipped, this.reconnects]) {
      m.inc(labels, 0);
      this.remember(stream, m, labels);
    }
    this.streamUp.set(labels, 0);
    this.latency.zero(labels);
    this.remember(stream, this.streamUp, labels);
    this.remember(stream, this.latency, labels);
  }

  setUp(stream: string, up: boolean): void {
    this.streamUp.set({ stream }, up ? 1 : 0);
  }

  reconnect(stream: string): void {
    this.reconnects.inc({ stream });
  }

  frameLatency(stream: string, seconds: number): void {
    this.latency.observe({ stream }, seconds);
  }

  event(stream: string, type: string): void {
    const labels = { stream, type };
    this.events.inc(labels);
    this.remember(stream, this.events, labels);
  }

  zoneEvent(stream: string, zone: string, label: string, kind: 'enter' | 'exit'): void {
    const labels = { stream, zone, class: label };
    const metric = kind === 'enter' ? this.zoneEntries : this.zoneExits;
    metric.inc(labels);
    this.remember(stream, metric, labels);
  }

  lineCrossing(stream: string, line: string, label: string, direction: 'in' | 'out'): void {
    const labels = { stream, line, class: label, direction };
    this.lineCrossings.inc(labels);
    this.remember(stream, this.lineCrossings, labels);
  }

  /** Occupancy per zone and class; classes no longer inside go to 0. */
  occupancy(stream: string, counts: AnalyticsCounts): void {
    for (const [zone, c] of Object.entries(counts.zones)) {
      const series = this.seriesByStream.get(stream);
      for (const entry of series?.values() ?? []) {
        if (entry.metric === this.zoneOccupancy && entry.labels.zone === zone && !(String(entry.labels.class) in c.inside)) {
          this.zoneOccupancy.set(entry.labels as LabelValues<'stream' | 'zone' | 'class'>, 0);
        }
      }
      for (const [label, n] of Object.entries(c.inside)) {
        const labels = { stream, zone, class: label };
        this.zoneOccupancy.set(labels, n);
        this.remember(stream, this.zoneOccupancy, labels);
      }
    }
  }

  removeStream(stream: string): void {
    for (const { metric, labels } of this.seriesByStream.get(stream)?.values() ?? []) metric.remove(labels);
    this.seriesByStream.delete(stream);
    this.totals.delete(stream);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
