/**
 * createServer(): the video-analytics server around createEngine and createPipeline. fastify does
 * the HTTP (no parsing of our own), prom-client the metrics, @fastify/swagger the OpenAPI
 * document from the route schemas.
 *
 * Shutdown (close(), or SIGTERM in the CLI): readiness turns 503, the open SSE and MJPEG responses
 * end, fastify stops accepting and waits for the requests in flight, the decoders are stopped and
 * waited for, then the engines the server opened are disposed. No child process outlives it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Int8DetectError, invalidArgument } from '../util/errors';
import { checkKnownKeys, optionKeys } from '../util/option-keys';
import { redactUrl } from '../video/redact';
import { requireToken } from './auth';
import type { CameraStream } from './camera-stream';
import { HttpError, type ResolvedLimits, type ServeContext } from './context';
import { EventBus } from './event-bus';
import { LongResponses } from './long-responses';
import { ServerMetrics } from './metrics';
import { closeModels, modelOptionsOf, openModels, type ServedModel } from './models';
import { detectRoutes } from './routes/detect';
import { eventRoutes } from './routes/events';
import { streamRoutes } from './routes/streams';
import { systemRoutes } from './routes/system';
import { StreamRegistry } from './stream-registry';
import type { CameraOptions, ServerEvent, ServerLimits, ServerOptions, StreamInfo } from './types';
import { resolveWebhook, startWebhooks } from './webhooks';

export interface Int8DetectServer {
  /** The fastify instance (yours when you passed `app`). */
  readonly app: FastifyInstance;
  /** A Node request handler, to mount the server in an http.Server or Express (after `ready()`). */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Listen on host:port (only when the server made its own fastify instance); resolves to the address. */
  listen(): Promise<string>;
  /** Routes registered and ready to answer (listen() calls it). */
  ready(): Promise<void>;
  /** Graceful shutdown; see the file comment. Safe to call twice. */
  close(): Promise<void>;
  /** Subscribe to the server's events (the same as /v1/events); returns the unsubscribe function. */
  on(listener: (event: ServerEvent) => void): () => void;
  addStream(camera: CameraOptions): StreamInfo;
  removeStream(id: string): Promise<boolean>;
  streams(): StreamInfo[];
  /** Decoder process ids now running (every one has exited once close() resolves). */
  decoderPids(): number[];
  /** Resolves when a stream's source has ended (files) or given up (cameras). */
  whenStreamIdle(id: string): Promise<void>;
  readonly models: ReadonlyMap<string, ServedModel>;
}

const DEFAULT_LIMITS: ResolvedLimits = {
  maxImageBytes: 20 * 1024 * 1024,
  maxImagePixels: 40_000_000,
  maxJsonBytes: 256 * 1024,
  maxConcurrentDetect: 64,
  maxStreams: 32,
  maxEventClients: 64,
  maxLiveViewers: 64,
};

function resolveLimits(limits: ServerLimits | undefined): ResolvedLimits {
  if (limits === undefined) return DEFAULT_LIMITS;
  if (typeof limits !== 'object' || limits === null) throw invalidArgument('an object of limits', 'options.limits', limits);
  const out = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_LIMITS)) throw invalidArgument(`one of ${Object.keys(DEFAULT_LIMITS).join(', ')}`, 'a key of options.limits', key);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidArgument('a positive integer', `options.limits.${key}`, value);
    out[key as keyof ResolvedLimits] = value;
  }
  return out;
}

/** Every key of ServerOptions: a misspelt one ('camera' for 'cameras') is refused, not ignored. */
const SERVER_KEYS = optionKeys<ServerOptions>({
  models: true, model: true, engine: true, backend: true, cameras: true, host: true, port: true, token: true, protectMetrics: true, cors: true,
  allowFileSources: true, webhooks: true, limits: true, liveFps: true, logger: true, app: true, prefix: true, ffmpegPath: true,
});

function checkOptions(options: ServerOptions): void {
  if (typeof options !== 'object' || options === null) throw invalidArgument('an options object', 'createServer(options)', options);
  checkKnownKeys(options, SERVER_KEYS, 'createServer()');
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 8)) {
    throw new Int8DetectError('ERR_ARGUMENT', 'Expected a token of at least 8 characters for options.token but received a shorter one or not a string');
  }
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)) throw invalidArgument('a port number 0-65535', 'options.port', options.port);
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host === '')) throw invalidArgument('a host name or address', 'options.host', options.host);
  if (options.liveFps !== undefined && !(typeof options.liveFps === 'number' && options.liveFps > 0 && options.liveFps <= 60)) throw invalidArgument('a number in (0, 60]', 'options.liveFps', options.liveFps);
  if (options.cameras !== undefined && !Array.isArray(options.cameras)) throw invalidArgument('an array of cameras', 'options.cameras', options.cameras);
  if (options.webhooks !== undefined && !Array.isArray(options.webhooks)) throw invalidArgument('an array of webhooks', 'options.webhooks', options.webhooks);
  options.webhooks?.forEach((w, i) => resolveWebhook(w, `options.webhooks[${i}]`));
  if (options.cors !== undefined && !(typeof options.cors === 'object' && options.cors !== null && Array.isArray(options.cors.origins) && options.cors.origins.every((o) => typeof o === 'string'))) {
    throw invalidArgument('{ origins: [ ... ] }', 'options.cors', options.cors);
  }
  if (options.prefix !== undefined && !(typeof options.prefix === 'string' && /^\/[A-Za-z0-9_./-]*[^/]$/.test(options.prefix))) throw invalidArgument("a path such as '/detector'", 'options.prefix', options.prefix);
}

/** Log options for fastify: never the query string (it may carry ?token=), never a request's headers. */
function loggerOptions(logger: ServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === undefined || logger === false) return false;
  const settings = logger === true ? {} : logger;
  return {
    level: settings.level ?? 'info',
    ...(settings.stream ? { stream: settings.stream } : {}),
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: (req.url ?? '').split('?')[0] }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: (err: Error) => ({ type: err.name, message: redactUrl(err.message), stack: redactUrl(err.stack ?? '') }),
    },
  };
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export async function createServer(options: ServerOptions): Promise<Int8DetectServer> {
  checkOptions(options);
  const limits = resolveLimits(options.limits);
  const ownApp = options.app === undefined;
  const app: FastifyInstance =
    options.app ??
    Fastify({
      logger: loggerOptions(options.logger),
      // fastify's own per-request lines hold the URL with its query string (?token=): we log our own line without it.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: limits.maxJsonBytes,
      // Unknown body fields are refused (a typo such as "zone" for "zones" should not pass silently).
      ajv: { customOptions: { removeAdditional: false } },
      // A request still running at shutdown finishes; idle keep-alive connections are closed.
      forceCloseConnections: 'idle',
      return503OnClosing: true,
    });
  const log: FastifyBaseLogger = app.log;
  const metrics = new ServerMetrics();
  const bus = new EventBus();
  const models = await openModels(modelOptionsOf(options), metrics);
  const streams = new StreamRegistry({ models, bus, metrics, log, maxStreams: limits.maxStreams, ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}) });
  const responses = new LongResponses();
  const context: ServeContext = {
    models,
    defaultModel: models.keys().next().value as string,
    streams,
    bus,
    metrics,
    responses,
    limits,
    token: options.token,
    protectMetrics: options.protectMetrics === true,
    allowFileSources: options.allowFileSources === true,
    liveFps: options.liveFps ?? 5,
    headers: SECURITY_HEADERS,
    state: { closing: false, detectInFlight: 0 },
  };
  const unsubscribeMetrics = bus.subscribe((event) => {
    // Per-frame events are counted by the frame metrics; a removed stream's series are gone with it.
    if (event.type !== 'detections' && event.type !== 'stream.stats' && event.type !== 'stream.removed') metrics.event(event.stream, event.type);
  });
  const webhooks = startWebhooks(options.webhooks ?? [], bus, metrics, log);

  let cleanup: Promise<void> | undefined;
  const shutdown = () => {
    cleanup ??= (async () => {
      context.state.closing = true;
      responses.endAll();
      webhooks.stop();
      await streams.close();
      unsubscribeMetrics();
      await closeModels(models);
    })();
    return cleanup;
  };

  try {
    // Cameras from the options are checked before any route exists, so a bad config fails createServer.
    (options.cameras ?? []).forEach((camera, i) => streams.add(camera, `cameras[${i}]`, true));

    await app.register(
      async (scope) => {
        await scope.register(swagger, {
          openapi: {
            openapi: '3.0.3',
            info: { title: 'int8-detect serve', description: 'Object detection, tracking, zones and line counts on cameras, with INT8 where the hardware pays for it', version: '1' },
            components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
            ...(options.token ? { security: [{ bearer: [] }] } : {}),
          },
        });
        if (options.cors) await scope.register(cors, { origin: [...options.cors.origins], methods: ['GET', 'POST', 'DELETE'] });

        scope.addHook('onRequest', async (_request, reply) => {
          reply.headers(SECURITY_HEADERS);
          // While closing, a kept-alive connection would hold the server open after its last answer
          // (fastify closes idle ones only once, when close() begins).
          if (context.state.closing) reply.header('connection', 'close');
        });
        scope.addHook('onSend', async (_request, reply) => {
          if (context.state.closing) reply.header('connection', 'close');
        });
        scope.addHook('onResponse', async (request, reply) => {
          const route = request.routeOptions.url ?? 'unmatched';
          metrics.httpRequests.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
          request.log.info({ method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
        });
        scope.addHook('preClose', async () => {
          // Open SSE and MJPEG responses would hold the server open: end them first.
          context.state.closing = true;
          responses.endAll();
        });
        scope.addHook('onClose', async () => {
          await shutdown();
        });
        scope.setErrorHandler((error: FastifyError | HttpError | Int8DetectError, request, reply) => {
          let status = (error as { statusCode?: number }).statusCode ?? 500;
          if ((error as FastifyError).validation) status = 400;
          if (error instanceof Int8DetectError && (error.code === 'ERR_ARGUMENT' || error.code === 'ERR_FRAME')) status = (error as { statusCode?: number }).statusCode ?? 400;
          if (error instanceof HttpError) reply.headers(error.headers);
          // 5xx: the details go to the log, not to the client.
          const message = status >= 500 && !(error instanceof HttpError) ? 'Internal Server Error' : redactUrl(error.message);
          if (status >= 500 && !(error instanceof HttpError)) request.log.error({ err: error }, 'request failed');
          return reply.code(status).send({ statusCode: status, error: httpStatusName(status), message });
        });

        await scope.register(systemRoutes, { context, openapi: () => scope.swagger() });
        await scope.register(
          async (v1) => {
            v1.addHook('onRequest', requireToken(options.token));
            v1.setNotFoundHandler({ preHandler: requireToken(options.token) }, async (_request, reply) =>
              reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'No such route' }),
            );
            await v1.register(detectRoutes, { context });
            await v1.register(streamRoutes, { context });
            await v1.register(eventRoutes, { context });
          },
          { prefix: '/v1' },
        );
      },
      options.prefix ? { prefix: options.prefix } : {},
    );
  } catch (err) {
    await shutdown();
    if (ownApp) await app.close().catch(() => undefined);
    throw err;
  }

  const server: Int8DetectServer = {
    app,
    handler: (req, res) => app.routing(req, res),
    models,
    async ready() {
      await app.ready();
    },
    async listen() {
      if (!ownApp) throw new Int8DetectError('ERR_ARGUMENT', 'listen() is for a server with its own fastify instance; you passed options.app, so call app.listen() yourself');
      return app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8080 });
    },
    async close() {
      if (ownApp) await app.close();
      else await shutdown();
    },
    on(listener) {
      return bus.subscribe((event) => listener(event));
    },
    addStream(camera) {
      return streams.add(camera, 'camera', true).info();
    },
    removeStream: (id) => streams.remove(id),
    streams: () => streams.list(),
    decoderPids: () => streams.decoderPids(),
    whenStreamIdle(id) {
      const stream: CameraStream | undefined = streams.get(id);
      if (!stream) return Promise.reject(new Int8DetectError('ERR_ARGUMENT', `No stream with the id '${id}'`));
      return stream.whenIdle();
    },
  };
  return server;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function httpStatusName(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}
