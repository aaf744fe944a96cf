/**
 * The responses that stay open: Server-Sent Events (/v1/events) and the live MJPEG view. Both
 * write to the raw socket after fastify hands the reply over (reply.hijack()), drop frames or
 * events for a client whose socket is backed up rather than buffer them, and are ended by the
 * server's shutdown before it waits for the other requests to finish.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { CameraStream } from './camera-stream';
import type { EventBus } from './event-bus';
import type { ServerEvent, ServerEventType } from './types';

/** The headers hooks set on the reply before it was hijacked (security headers, CORS). */
function headersOf(reply: FastifyReply): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) out[name] = value;
  return out;
}

const SSE_KEEPALIVE_MS = 15_000;
const MJPEG_BOUNDARY = 'int8detectframe';

/** Every open long response, so that shutdown can end them. */
export class LongResponses {
  private readonly open = new Map<ServerResponse, 'sse' | 'mjpeg'>();

  count(kind: 'sse' | 'mjpeg'): number {
    let n = 0;
    for (const k of this.open.values()) if (k === kind) n++;
    return n;
  }

  track(res: ServerResponse, kind: 'sse' | 'mjpeg', onClose: () => void): void {
    this.open.set(res, kind);
    res.on('close', () => {
      this.open.delete(res);
      onClose();
    });
  }

  endAll(): void {
    for (const res of this.open.keys()) res.end();
  }
}

export interface EventFilter {
  types: ReadonlySet<ServerEventType>;
  streams: ReadonlySet<string> | undefined;
}

/** Start an SSE response on a hijacked reply and feed it the bus's events that pass the filter. */
export function streamEvents(reply: FastifyReply, bus: EventBus, filter: EventFilter, responses: LongResponses, onCount: () => void): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...headersOf(reply), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'close', 'x-accel-buffering': 'no' });
  res.write('retry: 3000\n\n');
  let congested = false;
  res.on('drain', () => (congested = false));
  const send = (event: ServerEvent, sequence: number) => {
    if (!filter.types.has(event.type)) return;
    if (filter.streams && !filter.streams.has(event.stream)) return;
    // A slow client loses the frequent per-frame events first; the rarer ones still queue.
    if (congested && (event.type === 'detections' || event.type === 'stream.stats')) return;
    if (!res.write(`id: ${sequence}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)) congested = true;
  };
  const unsubscribe = bus.subscribe(send);
  const keepalive = setInterval(() => res.write(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
  keepalive.unref();
  responses.track(res, 'sse', () => {
    clearInterval(keepalive);
    unsubscribe();
    onCount();
  });
  onCount();
}

/** Start a multipart/x-mixed-replace JPEG stream of a camera's annotated frames, at most `fps` a second. */
export function streamMjpeg(reply: FastifyReply, stream: CameraStream, fps: number, responses: LongResponses, onCount: () => void): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...headersOf(reply), 'content-type': `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`, 'cache-control': 'no-store', connection: 'close' });
  const interval = 1000 / fps;
  let lastSent = 0;
  let sentSequence = 0;
  let busy = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const sendLatest = async () => {
    timer = undefined;
    if (busy || closed || stream.frameSequence === sentSequence) return;
    const wait = lastSent + interval - Date.now();
    if (wait > 0) {
      timer = setTimeout(() => void sendLatest(), wait);
      return;
    }
    const sequence = stream.frameSequence;
    const jpeg = stream.snapshot(true);
    if (!jpeg) return;
    busy = true;
    try {
      const bytes = await jpeg;
      if (closed) return;
      lastSent = Date.now();
      sentSequence = sequence;
      const head = `--${MJPEG_BOUNDARY}\r\ncontent-type: image/jpeg\r\ncontent-length: ${bytes.byteLength}\r\n\r\n`;
      res.write(head);
      const flushed = res.write(bytes);
      res.write('\r\n');
      // Backed up: wait for the socket before the next frame rather than queue frames in memory.
      if (!flushed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done).off('close', done);
            resolve();
          };
          res.on('drain', done).on('close', done);
        });
      }
    } catch {
      // A frame that failed to encode is skipped; the next one comes soon.
    } finally {
      busy = false;
    }
    if (stream.frameSequence !== sentSequence && !closed) void sendLatest();
  };
  const unsubscribe = stream.onFrame(() => {
    if (!timer) void sendLatest();
  });
  responses.track(res, 'mjpeg', () => {
    closed = true;
    if (timer) clearTimeout(timer);
    unsubscribe();
    onCount();
  });
  onCount();
  void sendLatest();
}
