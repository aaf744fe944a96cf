/**
 * POST /v1/detect: an image in the body (image/*, application/octet-stream) or as the file of a
 * multipart/form-data body; JSON detections back, or with ?annotated=1 the image as JPEG with the
 * boxes drawn. An image that does not decode is a 400 with sharp's reason, never a 500.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import sharp from 'sharp';
import type { Detection, DetectOptions } from '../../detect/types';
import { drawDetections } from '../../image/draw';
import { Int8DetectError } from '../../util/errors';
import type { RawFrame } from '../../image/frame';
import { decodeImage } from '../../image/decode';
import { resolveClasses } from '../camera-options';
import { HttpError, type ServeContext } from '../context';
import { commonErrors, detectQuerySchema, detectResponseSchema, errorSchema } from '../schemas';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'image/bmp', 'application/octet-stream'];

interface DetectQuery {
  annotated?: '0' | '1' | 'true' | 'false';
  model?: string;
  scoreThreshold?: number;
  iouThreshold?: number;
  maxDetections?: number;
  classes?: string;
}

async function imageBytes(request: FastifyRequest, maxBytes: number): Promise<Buffer> {
  if (request.isMultipart()) {
    const file = await request.file();
    if (!file) throw new HttpError(400, 'Expected a multipart/form-data body with an image file part but received none');
    const bytes = await file.toBuffer();
    // The plugin can miss a limit reached on the last chunk; the stream's own flag does not.
    if (file.file.truncated) throw new HttpError(413, `The image is larger than the limit of ${maxBytes} bytes`);
    return bytes;
  }
  if (Buffer.isBuffer(request.body)) return request.body;
  const type = request.headers['content-type'] ?? 'no content type';
  throw new HttpError(415, `Expected an image body (${IMAGE_TYPES.join(', ')}) or multipart/form-data with an image file but received ${type.split(';')[0]}`);
}

export async function detectRoutes(app: FastifyInstance, options: { context: ServeContext }): Promise<void> {
  const { context } = options;
  const { limits } = context;
  app.addContentTypeParser(IMAGE_TYPES, { parseAs: 'buffer', bodyLimit: limits.maxImageBytes }, (_request, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: limits.maxImageBytes, files: 1, fields: 8, parts: 9, fieldSize: 1024 }, throwFileSizeLimit: true });

  app.post<{ Querystring: DetectQuery }>(
    '/detect',
    {
      bodyLimit: limits.maxImageBytes,
      schema: {
        summary: 'Detect objects in an image',
        description:
          'The body is the image (image/jpeg, image/png, image/webp, ... or application/octet-stream), or multipart/form-data with the image as its file part. ' +
          'JSON detections in the image pixels, or with annotated=1 the image as JPEG with the boxes drawn.',
        tags: ['detect'],
        querystring: detectQuerySchema,
        response: {
          200: {
            description: 'Detections (JSON), or the annotated image (image/jpeg) with annotated=1',
            content: {
              'application/json': { schema: detectResponseSchema },
              'image/jpeg': { schema: { type: 'string', format: 'binary' } },
            },
          },
          ...commonErrors,
          413: errorSchema,
          415: errorSchema,
        },
      },
      config: {
        // The body is an image, not JSON: documented here for OpenAPI, never validated as a schema.
        swaggerTransform: ({ schema, url }) => ({
          schema: {
            ...schema,
            consumes: IMAGE_TYPES.filter((t) => t !== 'image/bmp').concat('multipart/form-data'),
            body: { type: 'string', format: 'binary', description: 'The encoded image' },
          },
          url,
        }),
      },
    },
    async (request, reply) => {
      const query = request.query;
      const modelId = query.model ?? context.defaultModel;
      const model = context.models.get(modelId);
      if (!model) throw new HttpError(400, `Expected one of the models (${[...context.models.keys()].join(', ')}) for model but received '${modelId.slice(0, 64)}'`);
      const detectOptions: DetectOptions = {
        ...(query.scoreThreshold !== undefined ? { scoreThreshold: query.scoreThreshold } : {}),
        ...(query.iouThreshold !== undefined ? { iouThreshold: query.iouThreshold } : {}),
        ...(query.maxDetections !== undefined ? { maxDetections: query.maxDetections } : {}),
      };
      if (query.classes !== undefined) {
        try {
          detectOptions.classes = resolveClasses(query.classes.split(',').map((c) => c.trim()), model.engine.info.labels, 'classes');
        } catch (err) {
          throw new HttpError(400, (err as Error).message);
        }
      }
      if (context.state.detectInFlight >= limits.maxConcurrentDetect) {
        throw new HttpError(503, `The server runs ${limits.maxConcurrentDetect} detections already; try again shortly`, { 'retry-after': '1' });
      }
      context.state.detectInFlight++;
      try {
        const bytes = await imageBytes(request, limits.maxImageBytes);
        if (bytes.byteLength === 0) throw new HttpError(400, 'Expected an image but received an empty body');
        // The header alone says how large the image is: refuse a huge one before decoding it.
        let size: { width?: number; height?: number };
        try {
          size = await sharp(bytes).metadata();
        } catch (err) {
          throw new HttpError(400, `Could not decode the image: ${(err as Error).message}`);
        }
        const pixels = (size.width ?? 0) * (size.height ?? 0);
        if (pixels > limits.maxImagePixels) throw new HttpError(413, `The image has ${size.width}x${size.height} pixels; the limit is ${limits.maxImagePixels}`);
        const started = process.hrtime.bigint();
        let frame: RawFrame;
        try {
          frame = await decodeImage(bytes);
        } catch (err) {
          if (err instanceof Int8DetectError) throw new HttpError(400, err.message);
          throw err;
        }
        const slot = await model.httpSlots.acquire();
        let detections: Detection[];
        try {
          detections = await model.forHttp.detect(frame, detectOptions);
        } finally {
          model.httpSlots.release(slot);
        }
        const timeMs = Number(process.hrtime.bigint() - started) / 1e6;
        if (query.annotated === '1' || query.annotated === 'true') {
          return reply.type('image/jpeg').send(await drawDetections(frame, detections, 'jpeg'));
        }
        const info = model.engine.info;
        return {
          model: model.id,
          backend: info.backend,
          precision: info.precision,
          width: frame.width,
          height: frame.height,
          timeMs: Math.round(timeMs * 100) / 100,
          detections: detections.map((d) => ({ label: d.label, classId: d.classId, score: Math.round(d.score * 10000) / 10000, box: d.box })),
        };
      } finally {
        context.state.detectInFlight--;
      }
    },
  );
}
