/**
 * The routes outside /v1: health and readiness, Prometheus metrics, the OpenAPI document, and the
 * live view page with its two static files (served from the package: no build step, no CDN).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireToken } from '../auth';
import type { ServeContext } from '../context';

/** The page's files live beside the sources (lib/serve/page), which the package ships; compiled code runs from dist/lib/serve/routes. */
function pageDir(): string {
  return path.resolve(__dirname, '..', '..', '..', '..', 'lib', 'serve', 'page');
}

interface Asset {
  type: string;
  body: Buffer;
}

function loadAssets(): Record<string, Asset> {
  const dir = pageDir();
  const read = (file: string, type: string): Asset => ({ type, body: readFileSync(path.join(dir, file)) });
  return {
    'index.html': read('index.html', 'text/html; charset=utf-8'),
    'live.js': read('live.js', 'text/javascript; charset=utf-8'),
    'live.css': read('live.css', 'text/css; charset=utf-8'),
  };
}

/**
 * The page runs only its own script and talks only to this server. Referrer-Policy keeps a
 * `?token=` in the page's address from travelling in Referer headers.
 */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

export async function systemRoutes(app: FastifyInstance, options: { context: ServeContext; openapi: () => unknown }): Promise<void> {
  const { context } = options;
  const assets = loadAssets();
  const hidden = { hide: true };

  app.get('/healthz', { schema: { summary: 'The process is up', tags: ['system'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Ready to serve: models loaded and not shutting down (503 otherwise)',
        tags: ['system'],
        response: {
          200: { type: 'object', properties: { ready: { type: 'boolean' }, models: { type: 'integer' }, streams: { type: 'integer' }, connected: { type: 'integer' } } },
          503: { type: 'object', properties: { ready: { type: 'boolean' }, models: { type: 'integer' }, streams: { type: 'integer' }, connected: { type: 'integer' } } },
        },
      },
    },
    async (_request, reply) => {
      const streams = context.streams.list();
      const ready = !context.state.closing && context.models.size > 0;
      return reply.code(ready ? 200 : 503).send({ ready, models: context.models.size, streams: streams.length, connected: streams.filter((s) => s.state === 'connected').length });
    },
  );

  const metricsGuard = context.protectMetrics ? requireToken(context.token) : undefined;
  app.get(
    '/metrics',
    { ...(metricsGuard ? { onRequest: metricsGuard } : {}), schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['system'], response: { 200: { description: 'text/plain; version=0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    async (_request, reply) => reply.type(context.metrics.contentType).send(await context.metrics.text()),
  );

  app.get('/openapi.json', { schema: { ...hidden } }, async () => options.openapi());

  const sendAsset = (name: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (name === 'index.html' && !request.url.split('?')[0].endsWith('/')) {
      // The page's links are relative, so it must be addressed as a folder when the server is mounted under a prefix.
      const [pathname, query] = request.url.split('?');
      return reply.redirect(`${pathname}/${query !== undefined ? `?${query}` : ''}`);
    }
    const asset = assets[name];
    return reply.headers(PAGE_HEADERS).type(asset.type).send(asset.body);
  };
  app.get('/', { schema: hidden }, sendAsset('index.html'));
  app.get('/assets/live.js', { schema: hidden }, sendAsset('live.js'));
  app.get('/assets/live.css', { schema: hidden }, sendAsset('live.css'));
}
