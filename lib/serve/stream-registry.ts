/** The server's cameras by id: added and removed at run time, each announced on the event bus. */
import type { FastifyBaseLogger } from 'fastify';
import { Int8DetectError } from '../util/errors';
import { resolveCamera } from './camera-options';
import { CameraStream } from './camera-stream';
import type { EventBus } from './event-bus';
import type { ServerMetrics } from './metrics';
import type { ServedModel } from './models';
import type { CameraOptions, StreamInfo } from './types';

/** Why a stream could not be added, with the HTTP status it maps to. */
export class StreamConflictError extends Int8DetectError {
  constructor(
    message: string,
    readonly statusCode: 409,
  ) {
    super('ERR_ARGUMENT', message);
  }
}

export interface StreamRegistryContext {
  models: ReadonlyMap<string, ServedModel>;
  bus: EventBus;
  metrics: ServerMetrics;
  log: FastifyBaseLogger;
  maxStreams: number;
  ffmpegPath?: string;
}

export class StreamRegistry {
  private readonly streams = new Map<string, CameraStream>();
  private readonly modelLabels: Map<string, { labels: readonly string[] }>;
  private counter = 0;
  private closed = false;

  constructor(private readonly context: StreamRegistryContext) {
    this.modelLabels = new Map([...context.models].map(([id, m]) => [id, { labels: m.engine.info.labels }]));
  }

  /** Check and start a camera. `where` names it in messages ('cameras[1]', 'body'). */
  add(camera: CameraOptions, where: string, allowFiles: boolean): CameraStream {
    if (this.closed) throw new Int8DetectError('ERR_ARGUMENT', 'The server is shutting down');
    let defaultId: string;
    do defaultId = `cam${this.counter++}`;
    while (this.streams.has(defaultId));
    const resolved = resolveCamera(camera, {
      where,
      allowFiles,
      defaultId,
      models: this.modelLabels,
      defaultModel: this.context.models.keys().next().value as string,
    });
    if (this.streams.has(resolved.id)) throw new StreamConflictError(`A stream with the id '${resolved.id}' exists already`, 409);
    if (this.streams.size >= this.context.maxStreams) throw new StreamConflictError(`The server runs its limit of ${this.context.maxStreams} streams already`, 409);
    const model = this.context.models.get(resolved.model)!;
    // Every camera has its own pipeline, and a pipeline hands the engine as many frames as the
    // engine runs at once. With several cameras that would queue `concurrency` frames of each in
    // the engine, going stale; one frame each keeps a frame behind about one of every other
    // camera. (One camera gets frames at its own rate, which one inference at a time outpaces.)
    const inFlight = 1;
    const stream = new CameraStream(resolved, {
      engine: model.forStream(inFlight),
      bus: this.context.bus,
      metrics: this.context.metrics,
      log: this.context.log,
      ...(this.context.ffmpegPath ? { ffmpegPath: this.context.ffmpegPath } : {}),
    });
    this.streams.set(stream.id, stream);
    this.context.log.info({ stream: stream.id, url: stream.publicUrl, model: resolved.model }, 'stream added');
    this.context.bus.publish({ type: 'stream.added', stream: stream.id, time: Date.now(), info: stream.info() });
    return stream;
  }

  get(id: string): CameraStream | undefined {
    return this.streams.get(id);
  }

  list(): StreamInfo[] {
    return [...this.streams.values()].map((s) => s.info());
  }

  get size(): number {
    return this.streams.size;
  }

  /** Stop a camera (its decoder exits before this resolves); false when there is none by that id. */
  async remove(id: string): Promise<boolean> {
    const stream = this.streams.get(id);
    if (!stream) return false;
    this.streams.delete(id);
    await stream.dispose();
    this.context.log.info({ stream: id }, 'stream removed');
    this.context.bus.publish({ type: 'stream.removed', stream: id, time: Date.now() });
    return true;
  }

  /** Every decoder process now running. */
  decoderPids(): number[] {
    return [...this.streams.values()].flatMap((s) => s.decoderPids);
  }

  /** Stop every camera; no decoder is left running when this resolves. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.streams.values()];
    this.streams.clear();
    await Promise.all(all.map((s) => s.dispose()));
  }
}
