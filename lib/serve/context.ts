/** What the route plugins share: models, streams, events, metrics, limits and the shutdown state. */
import type { EventBus } from './event-bus';
import type { LongResponses } from './long-responses';
import type { ServerMetrics } from './metrics';
import type { ServedModel } from './models';
import type { StreamRegistry } from './stream-registry';

export interface ResolvedLimits {
  maxImageBytes: number;
  maxImagePixels: number;
  maxJsonBytes: number;
  maxConcurrentDetect: number;
  maxStreams: number;
  maxEventClients: number;
  maxLiveViewers: number;
}

export interface ServeContext {
  models: ReadonlyMap<string, ServedModel>;
  defaultModel: string;
  streams: StreamRegistry;
  bus: EventBus;
  metrics: ServerMetrics;
  responses: LongResponses;
  limits: ResolvedLimits;
  token: string | undefined;
  protectMetrics: boolean;
  allowFileSources: boolean;
  liveFps: number;
  /** Headers every response carries (security headers; CORS when configured is added by its plugin). */
  headers: Record<string, string>;
  state: { closing: boolean; detectInFlight: number };
}

/** An error reply with a status the route chose, in the API's error shape. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
