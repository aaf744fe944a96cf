/**
 * Cameras at run time: list, add, show, remove; their counts, a snapshot and the live MJPEG view.
 * A camera's URL is shown only with its credentials replaced by ***.
 */
import type { FastifyInstance } from 'fastify';
import { Int8DetectError } from '../../util/errors';
import { STREAM_ID_PATTERN } from '../camera-options';
import type { CameraStream } from '../camera-stream';
import { HttpError, type ServeContext } from '../context';
import { streamMjpeg } from '../long-responses';
import { cameraBodySchema, commonErrors, countsSchema, errorSchema, streamIdParams, streamInfoSchema } from '../schemas';
import type { CameraOptions } from '../types';

interface IdParams {
  id: string;
}

export async function streamRoutes(app: FastifyInstance, options: { context: ServeContext }): Promise<void> {
  const { context } = options;
  const find = (id: string): CameraStream => {
    const stream = context.streams.get(id);
    // Only an id of the allowed form is repeated back.
    if (!stream) throw new HttpError(404, STREAM_ID_PATTERN.test(id) ? `No stream with the id '${id}'` : 'No stream with that id');
    return stream;
  };
  const tags = ['streams'];

  app.get('/streams', { schema: { summary: 'List the streams', tags, response: { 200: { type: 'object', properties: { streams: { type: 'array', items: streamInfoSchema } }, required: ['streams'] }, ...commonErrors } } }, async () => ({
    streams: context.streams.list(),
  }));

  app.post<{ Body: CameraOptions }>(
    '/streams',
    {
      schema: {
        summary: 'Add a stream (a camera)',
        description: 'Starts decoding and detecting at once; the live page shows it without a reload. Network URLs only unless the server allows file sources.',
        tags,
        body: cameraBodySchema,
        response: { 201: streamInfoSchema, ...commonErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      let stream: CameraStream;
      try {
        stream = context.streams.add(request.body, 'body', context.allowFileSources);
      } catch (err) {
        if (err instanceof Int8DetectError && err.code === 'ERR_ARGUMENT') {
          throw new HttpError((err as Error & { statusCode?: number }).statusCode ?? 400, err.message);
        }
        throw err;
      }
      return reply.code(201).header('location', `streams/${stream.id}`).send(stream.info());
    },
  );

  app.get<{ Params: IdParams }>('/streams/:id', { schema: { summary: 'One stream: state, rates, latency, zones, lines, counts', tags, params: streamIdParams, response: { 200: streamInfoSchema, ...commonErrors } } }, async (request) =>
    find(request.params.id).info(),
  );

  app.delete<{ Params: IdParams }>(
    '/streams/:id',
    { schema: { summary: 'Remove a stream (its decoder has exited when this answers)', tags, params: streamIdParams, response: { 204: { type: 'null', description: 'Removed' }, ...commonErrors } } },
    async (request, reply) => {
      find(request.params.id);
      await context.streams.remove(request.params.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: IdParams }>('/streams/:id/counts', { schema: { summary: 'Zone and line counts by class', tags, params: streamIdParams, response: { 200: countsSchema, ...commonErrors } } }, async (request) =>
    find(request.params.id).counts(),
  );

  app.get<{ Params: IdParams; Querystring: { annotated?: string } }>(
    '/streams/:id/snapshot.jpg',
    {
      schema: {
        summary: 'The newest frame as JPEG, with tracks, zones and lines drawn (annotated=0: as decoded)',
        tags,
        params: streamIdParams,
        querystring: { type: 'object', properties: { annotated: { type: 'string', enum: ['0', '1', 'true', 'false'] }, token: { type: 'string' } } },
        response: { 200: { description: 'JPEG', content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } }, ...commonErrors },
      },
    },
    async (request, reply) => {
      const stream = find(request.params.id);
      const annotated = request.query.annotated !== '0' && request.query.annotated !== 'false';
      const jpeg = stream.snapshot(annotated);
      if (!jpeg) throw new HttpError(503, `No frame from stream '${stream.id}' yet (state: ${stream.state})`, { 'retry-after': '1' });
      return reply.type('image/jpeg').header('cache-control', 'no-store').send(await jpeg);
    },
  );

  app.get<{ Params: IdParams; Querystring: { fps?: number } }>(
    '/streams/:id/live.mjpeg',
    {
      schema: {
        summary: 'The live view: annotated frames as multipart/x-mixed-replace JPEG (an <img> shows it)',
        tags,
        params: streamIdParams,
        querystring: { type: 'object', properties: { fps: { type: 'number', exclusiveMinimum: 0, maximum: 60 }, token: { type: 'string' } } },
        response: { 200: { description: 'MJPEG', content: { 'multipart/x-mixed-replace': { schema: { type: 'string', format: 'binary' } } } }, ...commonErrors },
      },
    },
    async (request, reply) => {
      const stream = find(request.params.id);
      if (context.responses.count('mjpeg') >= context.limits.maxLiveViewers) throw new HttpError(503, `The server serves its limit of ${context.limits.maxLiveViewers} live views already`);
      const fps = Math.min(request.query.fps ?? context.liveFps, context.liveFps);
      streamMjpeg(reply, stream, fps, context.responses, () => context.metrics.liveViewers.set(context.responses.count('mjpeg')));
    },
  );
}
