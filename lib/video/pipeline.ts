/**
 * The multi-stream pipeline: sources -> per-stream bounded queues -> engine.detect() -> events.
 *
 * Each stream has its own queue. Under the latest-frame policy the queue holds the newest frame
 * only (a stale frame is dropped when a newer one comes), so latency stays bounded when streams
 * send more than the engine can run; under keep-all (for files) a full queue pauses that stream's
 * decoder instead, through the pipe. Streams take turns (round robin) for the engine's request
 * pool, so when frames must be dropped they are dropped evenly.
 */
import { cpus } from 'node:os';
import type { DetectOptions } from '../detect/types';
import type { Engine } from '../engine';
import { invalidArgument } from '../util/errors';
import { InFlight } from '../util/in-flight';
import { FramePool } from './frame-assembler';
import { VideoSource } from './source';
import { StreamCounters } from './stream-stats';
import { TypedEmitter } from './typed-emitter';
import type {
  ConnectedEvent,
  DetectionsEvent,
  DisconnectedEvent,
  EndEvent,
  PipelineStats,
  ReconnectingEvent,
  SourceOptions,
  StreamErrorEvent,
  VideoFrame,
} from './types';

export type DropPolicy = 'latest' | 'keep-all';

export interface PipelineOptions {
  engine: Engine;
  /** URLs/paths, or full source options. */
  sources: ReadonlyArray<string | SourceOptions>;
  /** 'latest' (default for live sources) drops stale frames; 'keep-all' (default for files) processes every frame. */
  dropPolicy?: DropPolicy;
  /** Frames a stream may hold waiting for the engine (default 1 under 'latest', 4 under 'keep-all'). */
  queueSize?: number;
  /** Per-stream frame rate limit: frames arriving faster are skipped before they queue. */
  maxFps?: number;
  /**
   * Frames from several streams in one inference, where the model's batch dimension allows it.
   * The Engine runs one frame per call today, so frames go through its request pool (options
   * `concurrency` of createEngine) concurrently instead; `pipeline.info.batching` says so.
   */
  batch?: number;
  /** How often the `stats` event fires (default 1000 ms; 0: never). */
  statsIntervalMs?: number;
  /** Options for every detect() call. */
  detect?: DetectOptions;
}

export interface PipelineEvents {
  [event: string]: (...args: never[]) => void;
  detections: (event: DetectionsEvent) => void;
  connected: (event: ConnectedEvent) => void;
  disconnected: (event: DisconnectedEvent) => void;
  reconnecting: (event: ReconnectingEvent) => void;
  end: (event: EndEvent) => void;
  error: (event: StreamErrorEvent) => void;
  stats: (stats: PipelineStats) => void;
  /** Every stream has ended or failed. */
  idle: () => void;
  /** The decoders' log lines, credentials removed. */
  log: (stream: string, line: string) => void;
}

interface Queued {
  frame: VideoFrame;
  release: () => void;
}

interface Stream {
  source: VideoSource;
  policy: DropPolicy;
  capacity: number;
  queue: Queued[];
  counters: StreamCounters;
  lastAcceptedAt: number;
  paused: boolean;
  done: boolean;
  /**
   * Frames of one stream may finish out of order when several are in flight; their outcomes
   * wait here so each stream's events come out in frame order.
   */
  dispatched: number;
  emitted: number;
  finished: Map<number, () => void>;
}

export interface PipelineInfo {
  streams: Array<{ id: string; url: string; policy: DropPolicy; queueSize: number }>;
  /** Inferences in flight at most (the engine's concurrency, plus one being preprocessed). */
  inFlight: number;
  batching: string;
}

export class Pipeline extends TypedEmitter<PipelineEvents> {
  readonly info: PipelineInfo;
  private readonly streams: Stream[];
  private readonly engine: Engine;
  private readonly detectOptions: DetectOptions | undefined;
  private readonly maxInFlight: number;
  private readonly minIntervalMs: number;
  private readonly pool = new FramePool();
  private readonly cores = Math.max(1, cpus().length);
  private readonly running = new InFlight();
  private nextStream = 0;
  private statsTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private idleEmitted = false;
  private disposing: Promise<void> | undefined;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(options: PipelineOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'createPipeline(options)', options);
    const { engine } = options;
    if (typeof engine !== 'object' || engine === null || typeof engine.detect !== 'function') {
      throw invalidArgument('an Engine from createEngine()', 'options.engine', engine);
    }
    if (!Array.isArray(options.sources) || options.sources.length === 0) {
      throw invalidArgument('a non-empty array of sources', 'options.sources', options.sources);
    }
    if (options.dropPolicy !== undefined && options.dropPolicy !== 'latest' && options.dropPolicy !== 'keep-all') {
      throw invalidArgument("'latest' or 'keep-all'", 'options.dropPolicy', options.dropPolicy);
    }
    const positive = (value: unknown, name: string, integer: boolean) => {
      if (value !== undefined && (typeof value !== 'number' || !(value > 0) || (integer && !Number.isInteger(value)) || !Number.isFinite(value))) {
        throw invalidArgument(integer ? 'a positive integer' : 'a positive number', name, value);
      }
    };
    positive(options.queueSize, 'options.queueSize', true);
    positive(options.maxFps, 'options.maxFps', false);
    positive(options.batch, 'options.batch', true);
    if (options.statsIntervalMs !== undefined && !(typeof options.statsIntervalMs === 'number' && options.statsIntervalMs >= 0)) {
      throw invalidArgument('a number of milliseconds >= 0', 'options.statsIntervalMs', options.statsIntervalMs);
    }
    this.engine = engine;
    this.detectOptions = options.detect;
    const allLatest = options.dropPolicy === 'latest';
    this.minIntervalMs = options.maxFps ? 1000 / options.maxFps : 0;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));

    const ids = new Set<string>();
    this.streams = options.sources.map((entry, index) => {
      const sourceOptions: SourceOptions = typeof entry === 'string' ? { url: entry } : entry;
      if (typeof sourceOptions !== 'object' || sourceOptions === null || typeof sourceOptions.url !== 'string' || sourceOptions.url === '') {
        throw invalidArgument('a URL, a path or { url }', `options.sources[${index}]`, entry);
      }
      const source = new VideoSource(sourceOptions, index, this.pool, this.sourceHandlers());
      if (ids.has(source.id)) throw invalidArgument('a unique stream id', `options.sources[${index}].id`, source.id);
      ids.add(source.id);
      const policy = options.dropPolicy ?? (source.live ? 'latest' : 'keep-all');
      const capacity = options.queueSize ?? (policy === 'latest' ? 1 : 4);
      return {
        source,
        policy,
        capacity,
        queue: [],
        counters: new StreamCounters(() => source.cpuSeconds()),
        lastAcceptedAt: -Infinity,
        paused: false,
        done: false,
        dispatched: 0,
        emitted: 0,
        finished: new Map(),
      };
    });

    // Under the latest-frame policy a frame is handed to the engine only when it can start at
    // once (one per request), so it never waits, going stale, inside the engine. Where every
    // frame is kept, one more is in flight so that preprocessing overlaps inference.
    const latestOnly = allLatest || this.streams.every((s) => s.policy === 'latest');
    this.maxInFlight = engine.info.concurrency + (latestOnly ? 0 : 1);
    const batchDim = engine.info.model.inputs[0]?.dims[0];
    const requested = options.batch ?? 1;
    this.info = {
      streams: this.streams.map((s) => ({ id: s.source.id, url: s.source.url, policy: s.policy, queueSize: s.capacity })),
      inFlight: this.maxInFlight,
      batching:
        requested <= 1
          ? `one frame per inference, up to ${this.maxInFlight} in flight through the engine's request pool`
          : typeof batchDim === 'number' && batchDim === 1
            ? `batch ${requested} asked, but the model's batch dimension is fixed at 1: frames run concurrently through the engine's request pool (${this.maxInFlight} in flight)`
            : `batch ${requested} asked; the Engine runs one frame per call, so frames run concurrently through its request pool (${this.maxInFlight} in flight)`,
    };

    const interval = options.statsIntervalMs ?? 1000;
    if (interval > 0) {
      this.statsTimer = setInterval(() => this.emit('stats', this.stats()), interval);
      this.statsTimer.unref();
    }
    // Start on the next turn, so listeners attached right after createPipeline() miss nothing.
    setImmediate(() => {
      if (!this.disposed) for (const s of this.streams) s.source.start();
    });
  }

  /** The stream ids, in the order of the sources. */
  get streamIds(): string[] {
    return this.streams.map((s) => s.source.id);
  }

  /** Resolves when every stream has ended or failed (files reach their end; live sources give up). */
  whenIdle(): Promise<void> {
    return this.done;
  }

  /** Per-stream figures since the last call (the `stats` event calls it on its interval). */
  stats(): PipelineStats {
    let intervalMs = 0;
    const streams = this.streams.map((s) => {
      const { intervalMs: windowMs, ...stats } = s.counters.snapshot(s.source.id, s.source.state, s.queue.length, s.source.size, s.source.reconnects, this.cores);
      intervalMs = windowMs;
      return stats;
    });
    const sum = (key: 'fpsIn' | 'fpsProcessed' | 'decoderCpu') => streams.reduce((a, s) => a + s[key], 0);
    const decoderCpu = sum('decoderCpu');
    return {
      time: Date.now(),
      intervalMs,
      streams,
      fpsIn: sum('fpsIn'),
      fpsProcessed: sum('fpsProcessed'),
      decoderCpu,
      decoderCpuShare: decoderCpu / this.cores,
    };
  }

  /** Decoder process ids now running (for checks that none outlive dispose()). */
  get decoderPids(): number[] {
    return this.streams.map((s) => s.source.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Stop every decoder (and wait until each has exited), let in-flight detections finish, free the frames. The engine stays open. */
  dispose(): Promise<void> {
    if (!this.disposing) {
      this.disposed = true;
      this.disposing = (async () => {
        if (this.statsTimer) clearInterval(this.statsTimer);
        await Promise.all(this.streams.map((s) => s.source.dispose()));
        await this.running.drained();
        for (const s of this.streams) {
          for (const item of s.queue) item.release();
          s.queue.length = 0;
        }
        this.resolveDone();
      })();
    }
    return this.disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private sourceHandlers() {
    const find = (id: string) => this.streams.find((s) => s.source.id === id)!;
    return {
      frame: (frame: VideoFrame, release: () => void) => this.onFrame(find(frame.stream), frame, release),
      connected: (e: ConnectedEvent) => this.emit('connected', e),
      disconnected: (e: DisconnectedEvent) => this.emit('disconnected', e),
      reconnecting: (e: ReconnectingEvent) => this.emit('reconnecting', e),
      end: (e: EndEvent) => {
        const stream = find(e.stream);
        stream.done = true;
        this.emit('end', e);
        this.checkIdle();
      },
      error: (e: StreamErrorEvent) => {
        // An EventEmitter 'error' with no listener throws: a camera's timeout must not end a server.
        if (this.listenerCount('error') > 0) this.emit('error', e);
        else if (e.fatal) process.emitWarning(e.error.message, 'VideoSourceWarning');
      },
      line: (stream: string, line: string) => {
        if (this.listenerCount('log') > 0) this.emit('log', stream, line);
      },
    };
  }

  private onFrame(stream: Stream, frame: VideoFrame, release: () => void): void {
    stream.counters.frameIn();
    if (this.disposed) return release();
    if (this.minIntervalMs > 0) {
      // 10 % slack, so a 15 fps camera limited to 15 fps is not thinned by arrival jitter.
      if (frame.time - stream.lastAcceptedAt < this.minIntervalMs * 0.9) {
        stream.counters.skipped++;
        return release();
      }
      stream.lastAcceptedAt = frame.time;
    }
    if (stream.policy === 'latest') {
      while (stream.queue.length >= stream.capacity) {
        stream.queue.shift()!.release();
        stream.counters.dropped++;
      }
    }
    stream.queue.push({ frame, release });
    if (stream.policy === 'keep-all' && stream.queue.length >= stream.capacity && !stream.paused) {
      stream.paused = true;
      stream.source.pause();
    }
    this.schedule();
  }

  private schedule(): void {
    while (this.running.size < this.maxInFlight && !this.disposed) {
      const stream = this.takeTurn();
      if (!stream) return;
      const item = stream.queue.shift()!;
      if (stream.paused && stream.queue.length <= stream.capacity >> 1) {
        stream.paused = false;
        stream.source.resume();
      }
      this.run(stream, item);
    }
  }

  /** The next stream, in turn, that has a frame waiting. */
  private takeTurn(): Stream | undefined {
    for (let i = 0; i < this.streams.length; i++) {
      const stream = this.streams[(this.nextStream + i) % this.streams.length];
      if (stream.queue.length > 0) {
        this.nextStream = (this.nextStream + i + 1) % this.streams.length;
        return stream;
      }
    }
    return undefined;
  }

  private run(stream: Stream, item: Queued): void {
    const { frame } = item;
    const sequence = stream.dispatched++;
    // Counted until the outcome is delivered, so dispose() waits for the event and the frame's release.
    void this.running
      .track(() =>
        this.engine.detect(frame, this.detectOptions).then(
          (detections) => {
            const latencyMs = Date.now() - frame.time;
            stream.counters.processed(latencyMs);
            // The event carries the frame's pixels: its buffer goes back to the pool only once delivered.
            this.finishInOrder(stream, sequence, () => {
              if (!this.disposed) {
                this.safeEmit(stream, { stream: frame.stream, pts: frame.pts, time: frame.time, latencyMs, width: frame.width, height: frame.height, detections, frame });
              }
              item.release();
            });
          },
          (err: unknown) => {
            const error = err instanceof Error ? err : new Error(String(err));
            this.finishInOrder(stream, sequence, () => {
              if (this.listenerCount('error') > 0) this.emit('error', { stream: frame.stream, url: stream.source.url, error, fatal: false });
              item.release();
            });
          },
        ),
      )
      .finally(() => {
        this.schedule();
        this.checkIdle();
      });
  }

  /** Deliver a frame's outcome once every earlier frame of its stream has been delivered. */
  private finishInOrder(stream: Stream, sequence: number, deliver: () => void): void {
    stream.finished.set(sequence, deliver);
    for (let next = stream.finished.get(stream.emitted); next; next = stream.finished.get(stream.emitted)) {
      stream.finished.delete(stream.emitted);
      stream.emitted++;
      next();
    }
  }

  private safeEmit(stream: Stream, event: DetectionsEvent): void {
    try {
      this.emit('detections', event);
    } catch (err) {
      // A listener's bug must not stall the pipeline; report it like any other error.
      const error = err instanceof Error ? err : new Error(String(err));
      if (this.listenerCount('error') > 0) this.emit('error', { stream: event.stream, url: stream.source.url, error, fatal: false });
      else process.emitWarning(error);
    }
  }

  private checkIdle(): void {
    if (!this.idleEmitted && this.running.size === 0 && this.streams.every((s) => s.done && s.queue.length === 0)) {
      this.idleEmitted = true;
      this.emit('idle');
      this.resolveDone();
    }
  }
}

/** Start decoding every source and detecting on its frames; see PipelineOptions. */
export function createPipeline(options: PipelineOptions): Pipeline {
  return new Pipeline(options);
}
