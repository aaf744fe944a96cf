/**
 * The detector's profile (family, preprocessing, class names) travels in the model configuration's
 * `parameters`, written by `export --triton` and read back by `backend: 'triton'`, so a client
 * needs no local model file to decode what the server returns. Values are strings (Triton's
 * ModelParameter holds one string_value): JSON where a value is structured.
 */
import type { DetectorFamily, PreprocessSpec } from '../../detect/types';
import { Int8DetectError } from '../../util/errors';

export const PARAMETER_PREFIX = 'int8_detect.';

export const PARAMETER_KEYS = {
  family: `${PARAMETER_PREFIX}family`,
  preprocess: `${PARAMETER_PREFIX}preprocess`,
  labels: `${PARAMETER_PREFIX}labels`,
  precision: `${PARAMETER_PREFIX}precision`,
  sourceModel: `${PARAMETER_PREFIX}source_model`,
  exporter: `${PARAMETER_PREFIX}exporter`,
  /** python flavour: which runtime model.py runs, which file, how many threads. */
  runtime: `${PARAMETER_PREFIX}runtime`,
  modelFile: `${PARAMETER_PREFIX}model_file`,
  threads: `${PARAMETER_PREFIX}threads`,
} as const;

export interface DetectorParameters {
  family: DetectorFamily;
  preprocess: PreprocessSpec;
  labels: readonly string[];
}

export function detectorParameters(profile: DetectorParameters): Record<string, string> {
  return {
    [PARAMETER_KEYS.family]: profile.family,
    [PARAMETER_KEYS.preprocess]: JSON.stringify(profile.preprocess),
    [PARAMETER_KEYS.labels]: JSON.stringify(profile.labels),
  };
}

/**
 * The profile a model configuration carries: each field undefined when the configuration does not
 * give it (a model not exported by int8-detect; the engine then recognises the head from the
 * output shapes and takes the rest from the options).
 */
export function readDetectorParameters(parameters: Readonly<Record<string, string>>, model: string): Partial<DetectorParameters> {
  const json = (key: string): unknown => {
    const text = parameters[key];
    if (text === undefined || text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new Int8DetectError('ERR_MODEL', `The configuration of Triton model '${model}' has parameter ${key} = ${JSON.stringify(text.slice(0, 60))}, which is not JSON`);
    }
  };
  const family = parameters[PARAMETER_KEYS.family];
  const preprocess = json(PARAMETER_KEYS.preprocess);
  const labels = json(PARAMETER_KEYS.labels);
  if (preprocess !== undefined && (preprocess === null || typeof preprocess !== 'object' || Array.isArray(preprocess))) {
    throw new Int8DetectError('ERR_MODEL', `The configuration of Triton model '${model}' has ${PARAMETER_KEYS.preprocess} that is not an object`);
  }
  if (labels !== undefined && !(Array.isArray(labels) && labels.every((l) => typeof l === 'string'))) {
    throw new Int8DetectError('ERR_MODEL', `The configuration of Triton model '${model}' has ${PARAMETER_KEYS.labels} that is not an array of names`);
  }
  return {
    ...(family ? { family: family as DetectorFamily } : {}),
    ...(preprocess !== undefined ? { preprocess: preprocess as PreprocessSpec } : {}),
    ...(labels !== undefined ? { labels: labels as string[] } : {}),
  };
}
