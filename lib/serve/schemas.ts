/**
 * JSON schemas of the API: fastify validates requests and serialises responses with them, and
 * @fastify/swagger turns them into the OpenAPI document at /openapi.json.
 */

export const errorSchema = {
  type: 'object',
  description: 'An error: the HTTP status, its name, and what went wrong',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
  required: ['statusCode', 'error', 'message'],
} as const;

const boxSchema = {
  type: 'object',
  description: 'Pixels of the frame: (x1, y1) top-left, (x2, y2) bottom-right',
  properties: { x1: { type: 'number' }, y1: { type: 'number' }, x2: { type: 'number' }, y2: { type: 'number' } },
  required: ['x1', 'y1', 'x2', 'y2'],
} as const;

export const detectionSchema = {
  type: 'object',
  properties: { label: { type: 'string' }, classId: { type: 'integer' }, score: { type: 'number' }, box: boxSchema },
  required: ['label', 'classId', 'score', 'box'],
} as const;

export const detectResponseSchema = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    backend: { type: 'string' },
    precision: { type: 'string' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    timeMs: { type: 'number', description: 'Decoding, preprocessing, inference and NMS, ms' },
    detections: { type: 'array', items: detectionSchema },
  },
  required: ['model', 'backend', 'precision', 'width', 'height', 'timeMs', 'detections'],
} as const;

export const detectQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    annotated: { type: 'string', enum: ['0', '1', 'true', 'false'], description: '1: answer with the image as JPEG, boxes and labels drawn' },
    model: { type: 'string', description: 'Which model (default: the first)' },
    scoreThreshold: { type: 'number', minimum: 0, maximum: 1 },
    iouThreshold: { type: 'number', minimum: 0, maximum: 1 },
    maxDetections: { type: 'integer', minimum: 1, maximum: 10000 },
    classes: { type: 'string', description: 'Classes to keep: ids or names, comma-separated (0,2 or person,car)' },
    token: { type: 'string', description: 'The API token, where a header cannot be set' },
  },
} as const;

const pointSchema = { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } as const;
const idSchema = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } as const;
const anchorSchema = { type: 'string', enum: ['bottom-center', 'center'] } as const;

export const zoneSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: idSchema,
    polygon: { type: 'array', items: pointSchema, minItems: 3, maxItems: 256 },
    anchor: anchorSchema,
    inertia: { type: 'integer', minimum: 1, maximum: 1000 },
  },
  required: ['id', 'polygon'],
} as const;

export const lineSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: idSchema,
    from: pointSchema,
    to: pointSchema,
    anchor: anchorSchema,
    minDistance: { type: 'number', minimum: 0 },
  },
  required: ['id', 'from', 'to'],
} as const;

const unit = { type: 'number', minimum: 0, maximum: 1 } as const;

export const cameraBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 4096, description: 'rtsp://, rtsps://, http:// or https:// (credentials in it are never shown again)' },
    id: idSchema,
    model: { type: 'string' },
    maxFps: { type: 'number', exclusiveMinimum: 0, maximum: 240 },
    classes: { type: 'array', items: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string' }] }, maxItems: 1000 },
    zones: { type: 'array', items: zoneSchema, maxItems: 64 },
    lines: { type: 'array', items: lineSchema, maxItems: 64 },
    coordinates: { type: 'string', enum: ['pixels', 'normalized'] },
    tracker: {
      type: 'object',
      additionalProperties: false,
      properties: {
        highThreshold: unit,
        lowThreshold: unit,
        newTrackThreshold: unit,
        matchThreshold: unit,
        lowMatchThreshold: unit,
        unconfirmedMatchThreshold: unit,
        maxAge: { type: 'integer', minimum: 0, maximum: 100000 },
        fuseScore: { type: 'boolean' },
      },
    },
    detect: {
      type: 'object',
      additionalProperties: false,
      properties: { scoreThreshold: unit, iouThreshold: unit, maxDetections: { type: 'integer', minimum: 1, maximum: 10000 } },
    },
    rtspTransport: { type: 'string', enum: ['tcp', 'udp'] },
  },
  required: ['url'],
} as const;

const classCounts = { type: 'object', additionalProperties: { type: 'integer' }, description: 'By class label' } as const;

export const countsSchema = {
  type: 'object',
  properties: {
    zones: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          inside: classCounts,
          entered: classCounts,
          exited: classCounts,
          occupants: {
            type: 'array',
            items: { type: 'object', properties: { trackId: { type: 'integer' }, label: { type: 'string' }, dwellMs: { type: 'number' } }, required: ['trackId', 'label', 'dwellMs'] },
          },
        },
        required: ['inside', 'entered', 'exited', 'occupants'],
      },
    },
    lines: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { in: classCounts, out: classCounts }, required: ['in', 'out'] },
    },
  },
  required: ['zones', 'lines'],
} as const;

const nullableNumber = { type: ['number', 'null'] } as const;

export const streamInfoSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    url: { type: 'string', description: 'With any user:password replaced by ***' },
    model: { type: 'string' },
    state: { type: 'string', enum: ['idle', 'connecting', 'connected', 'reconnecting', 'ended', 'failed'] },
    width: { type: 'integer' },
    height: { type: 'integer' },
    fpsIn: { type: 'number' },
    fpsProcessed: { type: 'number' },
    latencyP50Ms: nullableNumber,
    latencyP99Ms: nullableNumber,
    framesIn: { type: 'integer' },
    framesProcessed: { type: 'integer' },
    dropped: { type: 'integer' },
    reconnects: { type: 'integer' },
    maxFps: nullableNumber,
    classes: { type: ['array', 'null'], items: { type: 'integer' } },
    zones: { type: 'array', items: zoneSchema },
    lines: { type: 'array', items: lineSchema },
    coordinates: { type: 'string' },
    counts: countsSchema,
  },
  required: ['id', 'url', 'model', 'state', 'width', 'height', 'counts'],
} as const;

export const streamIdParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 256 } },
  required: ['id'],
} as const;

export const modelInfoSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    backend: { type: 'string' },
    device: { type: 'string' },
    precision: { type: 'string' },
    family: { type: 'string' },
    quantized: { type: 'boolean' },
    concurrency: { type: 'integer' },
    labels: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'backend', 'device', 'precision', 'family', 'labels'],
} as const;

/** Responses every /v1 route can give. */
export const commonErrors = {
  400: errorSchema,
  401: errorSchema,
  404: errorSchema,
  503: errorSchema,
} as const;
