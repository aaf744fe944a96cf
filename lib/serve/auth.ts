/**
 * The API token: `Authorization: Bearer <token>`, or `?token=` where a browser cannot set a header
 * (EventSource, <img> for the live view). Compared in constant time: both sides are hashed to the
 * same length first, so neither the content nor the length of the token leaks through timing.
 * A missing and a wrong token get the same 401, which says nothing else.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function tokenMatches(expected: Buffer, given: string | undefined): boolean {
  // Hash even when nothing was given, so that a missing token costs the same time as a wrong one.
  return timingSafeEqual(expected, digest(given ?? '')) && given !== undefined;
}

function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (m) return m[1];
  }
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.token === 'string' ? query.token : undefined;
}

/** An onRequest hook that lets a request through only with the token (none configured: everyone). */
export function requireToken(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected === undefined || tokenMatches(expected, tokenOf(request))) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="int8-detect"')
      .send({ statusCode: 401, error: 'Unauthorized', message: 'A valid token is required (Authorization: Bearer <token>)' });
  };
}
