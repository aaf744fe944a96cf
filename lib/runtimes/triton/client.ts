/** A KServe v2 client for a server URL: HTTP for http(s)://, gRPC for grpc(s)://. */
import { TritonGrpcClient } from './grpc-client';
import { TritonHttpClient } from './http-client';
import { parseServerUrl } from './server-url';
import type { TritonClient, TritonClientOptions } from './types';

export function createTritonClient(url: string, options: TritonClientOptions = {}): TritonClient {
  const parsed = parseServerUrl(url);
  return parsed.protocol === 'grpc' ? new TritonGrpcClient(parsed, options) : new TritonHttpClient(parsed, options);
}
