/**
 * The triton backend's probe: a configured server (INT8_DETECT_TRITON_URL, or a URL given to
 * probe()) is asked whether it is live and which models it serves; no server configured is a
 * reason, never an error. The devices listed are the server's ready models.
 */
import { createTritonClient } from './client';
import type { RepositoryModel } from './types';

export interface TritonProbe {
  available: boolean;
  reason?: string;
  /** The server's name and version ('triton 2.51.0'). */
  version?: string;
  /** "URL: model (version 1)" for each ready model. */
  devices: string[];
  /** Every model the repository index lists, ready or not (absent where the server has no index). */
  models?: RepositoryModel[];
}

/** Short: a probe must not hang on a server that does not answer. */
const PROBE_TIMEOUT_MS = 3000;

export async function probeTritonServer(url: string | undefined): Promise<TritonProbe> {
  if (url === undefined || url === '') {
    return { available: false, reason: 'no Triton server is configured (set INT8_DETECT_TRITON_URL, or give probe({ triton: { url } }))', devices: [] };
  }
  let client;
  try {
    client = createTritonClient(url, { timeoutMs: PROBE_TIMEOUT_MS, retries: 0 });
  } catch (err) {
    return { available: false, reason: (err as Error).message, devices: [] };
  }
  try {
    const server = await client.serverMetadata();
    const version = `${server.name}${server.version ? ` ${server.version}` : ''}`;
    const index = await client.repositoryIndex();
    const ready = index?.filter((m) => m.state === undefined || m.state === 'READY');
    const devices = (ready ?? []).map((m) => `${client.displayUrl}: ${m.name}${m.version ? ` (version ${m.version})` : ''}`);
    if (index === undefined) {
      // OpenVINO Model Server has no repository index: the server answers, its models are named by the caller.
      return { available: true, version, devices: [`${client.displayUrl}: models not listed (no repository index)`] };
    }
    if (devices.length === 0) {
      const states = index.map((m) => `${m.name} ${m.state ?? ''}${m.reason ? ` (${m.reason})` : ''}`).join('; ');
      return { available: false, version, reason: `the Triton server at ${client.displayUrl} has no ready model${states ? `: ${states}` : ''}`, devices: [], models: index };
    }
    return { available: true, version, devices, models: index };
  } catch (err) {
    return { available: false, reason: (err as Error).message, devices: [] };
  } finally {
    client.close();
  }
}
