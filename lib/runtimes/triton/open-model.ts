/**
 * What the Engine needs to open a model served by Triton: the session (readiness checked, metadata
 * read) and, in place of a model file, the ModelInfo and profile overrides the profile resolver
 * reads. The configuration's parameters (written by export --triton) give the detector's family,
 * preprocessing and class names; the caller's options win over them, field by field.
 */
import type { ModelOverrides } from '../../detect/profile';
import type { DetectorFamily, PreprocessSpec } from '../../detect/types';
import { Int8DetectError } from '../../util/errors';
import type { ModelInfo } from '../../onnx/model-info';
import { TritonSession } from './session';
import type { TritonClientOptions } from './types';

export interface TritonEngineOptions {
  /** The server: http(s)://host:8000 or grpc(s)://host:8001; default INT8_DETECT_TRITON_URL. */
  url?: string;
  /** The model's name on the server. */
  model: string;
  version?: string;
  concurrency: number;
  triton?: TritonClientOptions;
  family?: DetectorFamily;
  labels?: string | readonly string[];
  preprocess?: Partial<PreprocessSpec>;
}

export interface OpenedTritonModel {
  session: TritonSession;
  info: ModelInfo;
  overrides: ModelOverrides;
  /** The model as messages name it: URL (credentials removed), model and version. */
  displayName: string;
  /** Why the profile is what it is (the configuration's parameters, or recognition). */
  profileSource: string;
}

export async function openTritonModel(options: TritonEngineOptions, defaultUrl: string | undefined): Promise<OpenedTritonModel> {
  const url = options.url ?? defaultUrl;
  if (url === undefined || url === '') {
    throw new Int8DetectError('ERR_ARGUMENT', "Expected a Triton server URL for options.url (http://host:8000 or grpc://host:8001) but received none, and INT8_DETECT_TRITON_URL is not set");
  }
  const session = await TritonSession.open({
    url,
    model: options.model,
    ...(options.version !== undefined ? { version: options.version } : {}),
    concurrency: options.concurrency,
    ...(options.triton !== undefined ? { client: options.triton } : {}),
  });
  const fromServer = session.detector;
  const overrides: ModelOverrides = {
    family: options.family ?? fromServer.family,
    labels: options.labels ?? fromServer.labels,
    preprocess: fromServer.preprocess || options.preprocess ? { ...fromServer.preprocess, ...options.preprocess } : undefined,
  };
  const given = Object.keys(fromServer);
  const profileSource =
    given.length > 0
      ? `the detector profile (${given.join(', ')}) from the model's configuration parameters on the server`
      : `no detector profile in the model's configuration (${session.details.config ? 'not exported by int8-detect' : 'the server has no configuration endpoint'}): recognised from the output shapes`;
  const version = options.version ? ` version ${options.version}` : '';
  return { session, info: session.modelInfo, overrides, displayName: `${session.url}/v2/models/${options.model}${version}`, profileSource };
}
