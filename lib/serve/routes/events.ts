/** GET /v1/events (Server-Sent Events) and GET /v1/models. */
import type { FastifyInstance } from 'fastify';
import { HttpError, type ServeContext } from '../context';
import { streamEvents } from '../long-responses';
import { commonErrors, modelInfoSchema } from '../schemas';
import { SERVER_EVENT_TYPES, type ServerEventType } from '../types';

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export async function eventRoutes(app: FastifyInstance, options: { context: ServeContext }): Promise<void> {
  const { context } = options;

  app.get<{ Querystring: { types?: string; streams?: string } }>(
    '/events',
    {
      schema: {
        summary: 'Server-Sent Events: detections (tracks per frame), zone enter/exit, line crossings, streams added/removed, state changes, stats',
        description: `Each message has "event: <type>" and a JSON "data:" line with a "type" field. Types: ${SERVER_EVENT_TYPES.join(', ')}. A slow client skips detections and stats messages rather than fall behind.`,
        tags: ['events'],
        querystring: {
          type: 'object',
          properties: {
            types: { type: 'string', description: 'Comma-separated event types (default: all)' },
            streams: { type: 'string', description: 'Comma-separated stream ids (default: all)' },
            token: { type: 'string' },
          },
        },
        response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...commonErrors },
      },
    },
    async (request, reply) => {
      const types = list(request.query.types) ?? [...SERVER_EVENT_TYPES];
      const unknown = types.filter((t) => !SERVER_EVENT_TYPES.includes(t as ServerEventType));
      if (unknown.length > 0) throw new HttpError(400, `Expected event types among ${SERVER_EVENT_TYPES.join(', ')} for types but received ${unknown.map((t) => `'${t.slice(0, 32)}'`).join(', ')}`);
      if (context.responses.count('sse') >= context.limits.maxEventClients) throw new HttpError(503, `The server serves its limit of ${context.limits.maxEventClients} event clients already`);
      const streams = list(request.query.streams);
      streamEvents(
        reply,
        context.bus,
        { types: new Set(types as ServerEventType[]), streams: streams ? new Set(streams) : undefined },
        context.responses,
        () => context.metrics.eventClients.set(context.responses.count('sse')),
      );
    },
  );

  app.get(
    '/models',
    { schema: { summary: 'The models this server runs', tags: ['detect'], response: { 200: { type: 'object', properties: { models: { type: 'array', items: modelInfoSchema } } }, ...commonErrors } } },
    async () => ({
      models: [...context.models.values()].map((m) => ({
        id: m.id,
        backend: m.engine.info.backend,
        device: m.engine.info.device,
        precision: m.engine.info.precision,
        family: m.engine.info.model.family,
        quantized: m.engine.info.model.quantized,
        concurrency: m.engine.info.concurrency,
        labels: [...m.engine.info.labels],
      })),
    }),
  );
}
