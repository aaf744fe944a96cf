/**
 * A model on a Triton server opened for the engine: the session (readiness checked, metadata
 * read) and, in place of a model file, the ModelInfo and the detector profile the configuration's
 * parameters carry (export --triton writes them).
 */
import { config } from '../../util/config';
import { Int8DetectError } from '../../util/errors';
import type { ServedModel } from '../backend';
import type { TritonBackendOptions } from './options';
import { TritonSession } from './session';

export async function openTritonModel(name: string, model: string, concurrency: number, settings: TritonBackendOptions = {}): Promise<ServedModel> {
  const { url: configured, version, ...client } = settings;
  const url = configured ?? config.serverUrl(name);
  if (url === undefined) {
    throw new Int8DetectError('ERR_ARGUMENT', `Expected a Triton server URL for options.${name}.url (http://host:8000 or grpc://host:8001, or --url) but received none, and INT8_DETECT_${name.toUpperCase()}_URL is not set`);
  }
  const session = await TritonSession.open({ url, model, ...(version !== undefined ? { version } : {}), concurrency, client });
  const given = Object.keys(session.detector);
  const server = session.details.server;
  return {
    session,
    info: session.modelInfo,
    path: `${session.url}/v2/models/${model}${version ? `/versions/${version}` : ''}`,
    quantized: session.precision === 'int8',
    overrides: session.detector,
    reason: `Using ${server.name}${server.version ? ` ${server.version}` : ''} at ${session.url} over ${session.protocol === 'grpc' ? 'gRPC' : 'HTTP'} (KServe v2; model ${model}${version ? ` version ${version}` : ''}, platform ${session.details.platform || 'not given'}), as requested.`,
    profileSource:
      given.length > 0
        ? `the detector profile (${given.join(', ')}) from the model's configuration on the server`
        : `no detector profile on the server (${session.details.config ? 'a model not exported by int8-detect' : 'the server has no configuration endpoint'}): recognised from the outputs`,
  };
}
