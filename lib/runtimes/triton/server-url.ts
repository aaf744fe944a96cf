/**
 * The server URL decides the transport: http:// and https:// speak KServe v2 over HTTP (the binary
 * tensor extension), grpc:// and grpcs:// over gRPC. user:password in the URL becomes HTTP Basic
 * authentication (a header or gRPC metadata) and never appears in a message.
 */
import { Int8DetectError, invalidArgument } from '../../util/errors';
import { redactUrl } from '../../video/redact';
import type { TritonProtocol } from './types';

export interface ServerUrl {
  protocol: TritonProtocol;
  tls: boolean;
  host: string;
  port: number;
  /** A path prefix before /v2 (a server behind a reverse proxy); '' for none. HTTP only. */
  basePath: string;
  /** "Basic ..." from the URL's user info, when it has one. */
  authorization?: string;
  /** The URL with credentials removed, for every message. */
  display: string;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 8000, 'https:': 443, 'grpc:': 8001, 'grpcs:': 443 };

export function parseServerUrl(url: unknown, name = 'url'): ServerUrl {
  if (typeof url !== 'string' || url === '') throw invalidArgument('a Triton server URL (http://host:8000 or grpc://host:8001)', name, url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument('a Triton server URL (http://host:8000 or grpc://host:8001)', name, redactUrl(url));
  }
  const scheme = parsed.protocol;
  if (!(scheme in DEFAULT_PORTS)) {
    throw new Int8DetectError(
      'ERR_ARGUMENT',
      `Expected an http://, https://, grpc:// or grpcs:// URL for ${name} but received ${redactUrl(url)}: the scheme chooses KServe v2 over HTTP or over gRPC`,
    );
  }
  const protocol: TritonProtocol = scheme.startsWith('grpc') ? 'grpc' : 'http';
  const basePath = parsed.pathname.replace(/\/+$/, '');
  if (protocol === 'grpc' && basePath !== '') {
    throw new Int8DetectError('ERR_ARGUMENT', `A gRPC server URL has no path, but ${redactUrl(url)} has ${basePath}`);
  }
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const authorization = user || password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;
  return {
    protocol,
    tls: scheme === 'https:' || scheme === 'grpcs:',
    // URL keeps IPv6 literals in brackets; sockets want them bare.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[scheme],
    basePath,
    ...(authorization ? { authorization } : {}),
    display: redactUrl(url),
  };
}
