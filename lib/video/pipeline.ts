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
import type { Detection, DetectOptions } from '../detect/types';
import type { Engine } from '../engine';
import { resolveDetectOptions } from '../detect/postprocess';
import { invalidArgument } from '../util/errors';
import { InFlight } from '../util/in-flight';
import { checkBounded, checkKnownKeys, optionKeys } from '../util/option-keys';
import { checkSourceOptions } from './source-options';
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

const PIPELINE_KEYS = optionKeys<PipelineOptions>({
  engine: true,
  sources: true,
  dropPolicy: true,
  queueSize: true,
  maxFps: true,
  batch: true,
  statsIntervalMs: true,
  detect: true,
});
const MAX_QUEUE_SIZE = 1000;
const MAX_FPS = 1000;
const MAX_BATCH = 256;

export interface PipelineOptions {
  engine: Engine;
  /** URLs/paths, or full source options. */
  sources: ReadonlyArray<string | SourceOptions>;
  /** 'latest' (default for live sources) drops stale frames; 'keep-all' (default for files) processes every frame. */
  dropPolicy?: DropPolicy;
  /** Frames a stream may hold waiting for the engine (default 1 under 'latest', 4 under 'keep-all'). */
  queueSize?: number;
  /**
   * Per-stream frame rate limit: frames arriving faster are skipped before they queue. Files count
   * video time (their timestamps), live sources arrival time.
   */
  maxFps?: number;
  /**
   * Frames from several streams in one inference (engine.detectBatch), up to this many, at most
   * the engine's own `batch` (createEngine({ batch })). A batch takes the frames waiting when an
   * inference can start, one per stream in turn; it never waits for more, so a frame does not go
   * stale for the sake of a full batch. `pipeline.info.batching` says what was set up.
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
  /** Most frames per inference: the `batch` asked, bounded by the engine's own. */
  batch: number;
  batching: string;
}

export class Pipeline extends TypedEmitter<PipelineEvents> {
  readonly info: PipelineInfo;
  private readonly streams: Stream[];
  private readonly engine: Engine;
  private readonly detectOptions: DetectOptions | undefined;
  private readonly maxInFlight: number;
  /** Frames per inference (1: engine.detect per frame). */
  private readonly batch: number;
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
    checkKnownKeys(options, PIPELINE_KEYS, 'createPipeline options');
    const { engine } = options;
    if (typeof engine !== 'object' || engine === null || typeof engine.detect !== 'function') {
      throw invalidArgument('an Engine from createEngine()', 'engine', engine);
    }
    if (!Array.isArray(options.sources) || options.sources.length === 0) {
      throw invalidArgument('a non-empty array of sources', 'sources', options.sources);
    }
    if (options.dropPolicy !== undefined && options.dropPolicy !== 'latest' && options.dropPolicy !== 'keep-all') {
      throw invalidArgument("'latest' or 'keep-all'", 'dropPolicy', options.dropPolicy);
    }
    checkBounded(options.queueSize, 'queueSize', { integer: true, min: 1, max: MAX_QUEUE_SIZE, maxWhy: 'each queued frame holds its pixels' });
    if (options.maxFps !== undefined && !(typeof options.maxFps === 'number' && options.maxFps > 0)) throw invalidArgument('a positive number', 'maxFps', options.maxFps);
    checkBounded(options.maxFps, 'maxFps', { max: MAX_FPS, maxWhy: 'faster than any camera' });
    checkBounded(options.batch, 'batch', { integer: true, min: 1, max: MAX_BATCH });
    checkBounded(options.statsIntervalMs, 'statsIntervalMs', { min: 0, max: 86_400_000, maxWhy: 'a day' });
    this.engine = engine;
    // Checked now, so a misspelt option fails here rather than on every frame.
    if (options.detect !== undefined) resolveDetectOptions(options.detect);
    this.detectOptions = options.detect;
    const allLatest = options.dropPolicy === 'latest';
    this.minIntervalMs = options.maxFps ? 1000 / options.maxFps : 0;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));

    const ids = new Set<string>();
    this.streams = options.sources.map((entry, index) => {
      const sourceOptions: SourceOptions = typeof entry === 'string' ? { url: entry } : entry;
      if (typeof sourceOptions !== 'object' || sourceOptions === null || typeof sourceOptions.url !== 'string' || sourceOptions.url === '') {
        throw invalidArgument('a URL, a path or { url }', `sources[${index}]`, entry);
      }
      checkSourceOptions(sourceOptions, index);
      const source = new VideoSource(sourceOptions, index, this.pool, this.sourceHandlers());
      if (ids.has(source.id)) throw invalidArgument('a unique stream id', `sources[${index}].id`, source.id);
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
    const requested = options.batch ?? 1;
    const engineBatch = engine.info.batch ?? 1;
    this.batch = Math.max(1, Math.min(requested, engineBatch));
    this.info = {
      streams: this.streams.map((s) => ({ id: s.source.id, url: s.source.url, policy: s.policy, queueSize: s.capacity })),
      inFlight: this.maxInFlight,
      batch: this.batch,
      batching:
        requested <= 1
          ? `one frame per inference, up to ${this.maxInFlight} in flight through the engine's request pool`
          : this.batch === requested
            ? `up to ${this.batch} frames per inference (the frames waiting, one per stream in turn), up to ${this.maxInFlight} inferences in flight`
            : `batch ${requested} asked, but the engine takes ${engineBatch} frame${engineBatch === 1 ? '' : 's'} per inference (createEngine({ batch })): ` +
              (this.batch > 1 ? `up to ${this.batch} frames per inference` : `one frame per inference`) +
              `, up to ${this.maxInFlight} in flight`,
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
      // A file decodes as fast as the machine goes, so its rate is counted in video time (the
      // frames' timestamps): 5 fps of a 30 s file is 150 frames, however long they take to read.
      // A live source is counted in arrival time.
      const at = !stream.source.live && Number.isFinite(frame.pts) ? frame.pts * 1000 : frame.time;
      // 10 % slack, so a 15 fps camera limited to 15 fps is not thinned by arrival jitter.
      if (at - stream.lastAcceptedAt < this.minIntervalMs * 0.9) {
        stream.counters.skipped++;
        return release();
      }
      stream.lastAcceptedAt = at;
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
      const batch: { stream: Stream; item: Queued }[] = [];
      while (batch.length < this.batch) {
        const stream = this.takeTurn();
        if (!stream) break;
        const item = stream.queue.shift()!;
        if (stream.paused && stream.queue.length <= stream.capacity >> 1) {
          stream.paused = false;
          stream.source.resume();
        }
        batch.push({ stream, item });
      }
      if (batch.length === 0) return;
      if (batch.length === 1) this.run(batch[0].stream, batch[0].item);
      else this.runBatch(batch);
    }
  }

  /** Frames of several streams in one inference; each outcome is delivered in its stream's order. */
  private runBatch(batch: { stream: Stream; item: Queued }[]): void {
    const entries = batch.map(({ stream, item }) => ({ stream, item, sequence: stream.dispatched++ }));
    void this.running
      .track(() =>
        this.engine.detectBatch(entries.map((e) => e.item.frame), this.detectOptions).then(
          (results) => entries.forEach((e, i) => this.delivered(e.stream, e.item, e.sequence, results[i])),
          (err: unknown) => entries.forEach((e) => this.failed(e.stream, e.item, e.sequence, err)),
        ),
      )
      .finally(() => {
        this.schedule();
        this.checkIdle();
      });
  }

  private delivered(stream: Stream, item: Queued, sequence: number, detections: Detection[]): void {
    const { frame } = item;
    const latencyMs = Date.now() - frame.time;
    stream.counters.processed(latencyMs);
    // The event carries the frame's pixels: its buffer goes back to the pool only once delivered.
    this.finishInOrder(stream, sequence, () => {
      if (!this.disposed) {
        this.safeEmit(stream, { stream: frame.stream, pts: frame.pts, time: frame.time, latencyMs, width: frame.width, height: frame.height, detections, frame });
      }
      item.release();
    });
  }

  private failed(stream: Stream, item: Queued, sequence: number, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.finishInOrder(stream, sequence, () => {
      if (this.listenerCount('error') > 0) this.emit('error', { stream: item.frame.stream, url: stream.source.url, error, fatal: false });
      item.release();
    });
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
          (detections) => this.delivered(stream, item, sequence, detections),
          (err: unknown) => this.failed(stream, item, sequence, err),
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
