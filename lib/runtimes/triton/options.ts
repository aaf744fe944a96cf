/**
 * The triton backend's option group, createEngine({ backend: 'triton', model: NAME, triton: {...} }),
 * checked strictly, and the same as command-line flags (--url, --model-version, --timeout-ms).
 */
import { invalidArgument } from '../../util/errors';
import { checkKnownKeys } from '../../util/option-keys';
import type { BackendCliFlags } from '../backend';
import { parseServerUrl } from './server-url';

export interface TritonBackendOptions {
  /** The server: http(s)://host:8000 (KServe v2 over HTTP) or grpc(s)://host:8001 (gRPC); default INT8_DETECT_TRITON_URL. */
  url?: string;
  /** A model version ('1'); the server's latest ready one when absent. */
  version?: string;
  /** Per-call deadline in milliseconds (default 30000). */
  timeoutMs?: number;
  /** Retries of idempotent calls after a transport failure (default 3). */
  retries?: number;
  /** Largest response accepted, in bytes (default 256 MiB). */
  maxResponseBytes?: number;
  /** Extra HTTP headers or gRPC metadata sent with every call (an API key). */
  headers?: Record<string, string>;
}

const KEYS = ['url', 'version', 'timeoutMs', 'retries', 'maxResponseBytes', 'headers'];

function positiveInteger(value: unknown, name: string, min: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < min)) throw invalidArgument(`an integer >= ${min}`, name, value);
}

export function checkTritonOptions(value: unknown): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgument('an object', 'options.triton', value);
  checkKnownKeys(value, KEYS, 'options.triton');
  const o = value as TritonBackendOptions;
  if (o.url !== undefined) parseServerUrl(o.url, 'options.triton.url');
  if (o.version !== undefined && (typeof o.version !== 'string' || !/^\d+$/.test(o.version))) throw invalidArgument("a version number as a string ('1')", 'options.triton.version', o.version);
  positiveInteger(o.timeoutMs, 'options.triton.timeoutMs', 1);
  positiveInteger(o.retries, 'options.triton.retries', 0);
  positiveInteger(o.maxResponseBytes, 'options.triton.maxResponseBytes', 1);
  if (o.headers !== undefined && (o.headers === null || typeof o.headers !== 'object' || Object.values(o.headers).some((v) => typeof v !== 'string'))) {
    throw invalidArgument('an object of header names and string values', 'options.triton.headers', o.headers);
  }
}

export const tritonCliFlags: BackendCliFlags<TritonBackendOptions> = {
  flags: { url: { type: 'string' }, 'model-version': { type: 'string' }, 'timeout-ms': { type: 'string' } },
  help: `      --url URL          triton: the server, http://host:8000 or grpc://host:8001 (default INT8_DETECT_TRITON_URL); --model is then the model's name there
      --model-version N  triton: a model version (default: the server's latest)
      --timeout-ms MS    triton: per-call deadline (default 30000)`,
  options(values) {
    const timeout = values['timeout-ms'];
    const options: TritonBackendOptions = {
      ...(typeof values.url === 'string' ? { url: values.url } : {}),
      ...(typeof values['model-version'] === 'string' ? { version: values['model-version'] } : {}),
      ...(typeof timeout === 'string' ? { timeoutMs: Number(timeout) } : {}),
    };
    if (Object.keys(options).length === 0) return undefined;
    checkTritonOptions(options);
    return options;
  },
};
