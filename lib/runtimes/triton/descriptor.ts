/**
 * Triton Inference Server, or any KServe v2 server (OpenVINO Model Server), as a backend: models
 * live on the server and are opened by name (openServed); the network runs there, preprocessing,
 * decoding and NMS here. Never picked by backend 'auto'. `export --triton` writes the models.
 */
import { Int8DetectError } from '../../util/errors';
import { config } from '../../util/config';
import type { BackendDescriptor } from '../backend';
import { openTritonModel } from './open-model';
import { checkTritonOptions, tritonCliFlags, type TritonBackendOptions } from './options';
import { probeTritonServer } from './probe';

declare module '../backend' {
  interface BackendOptionsByName {
    triton: TritonBackendOptions;
  }
}

const NAME = 'triton';

export const tritonBackend: BackendDescriptor<'triton'> = {
  name: NAME,
  title: 'Triton Inference Server',
  // Lowest: it is only ever used by name.
  priority: 0,
  capabilities: { embedded: false, buildsFromFloat: false, measuresPrecision: false },
  probe: ({ settings }) => probeTritonServer(settings.triton?.url ?? config.serverUrl(NAME)),
  checkOptions: checkTritonOptions,
  async open() {
    throw new Int8DetectError('ERR_ARGUMENT', `The ${NAME} backend opens models by name on a server (createEngine({ backend: '${NAME}', model: NAME, ${NAME}: { url } })), not model files`);
  },
  openServed: ({ model, concurrency, settings }) => openTritonModel(NAME, model, concurrency, settings),
  cli: tritonCliFlags,
};
