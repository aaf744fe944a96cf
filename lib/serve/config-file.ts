/**
 * `int8-detect serve --config serve.yaml` (or .json): the file becomes ServerOptions. Strings may
 * name environment variables as ${NAME} (keep the token and camera passwords out of the file);
 * relative paths (models, labels, calibration folders, file cameras) are relative to the file.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Int8DetectError, invalidArgument } from '../util/errors';
import type { CameraOptions, LoggerOptions, ModelOptions, ServerOptions } from './types';

/** Top-level keys a config file may hold (the others of ServerOptions are for the library only). */
const KEYS = ['models', 'model', 'backend', 'cameras', 'host', 'port', 'token', 'protectMetrics', 'cors', 'allowFileSources', 'webhooks', 'limits', 'liveFps', 'logger', 'ffmpegPath', 'cacheDir'] as const;

export interface ServeConfig extends Omit<ServerOptions, 'app' | 'engine' | 'logger' | 'prefix'> {
  /** Where INT8 models and engines are cached (INT8_DETECT_CACHE_DIR). */
  cacheDir?: string;
  logger?: boolean | { level?: LoggerOptions['level'] };
}

function substituteEnv(value: unknown, where: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = process.env[name];
      if (v === undefined) throw new Int8DetectError('ERR_ARGUMENT', `The config refers to the environment variable ${name} (at ${where}), which is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, `${where}[${i}]`));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, where ? `${where}.${k}` : k)]));
  return value;
}

const isPath = (value: unknown): value is string => typeof value === 'string' && value !== '' && !/^[a-z][a-z0-9+.-]+:/i.test(value);

/** Read and check a config file; paths in it become absolute. */
export function loadServeConfig(file: string): ServeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Int8DetectError('ERR_ARGUMENT', `Cannot read the config file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Int8DetectError('ERR_ARGUMENT', `The config file ${file} does not parse: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidArgument('a mapping of settings', `the config file ${file}`, raw);
  for (const key of Object.keys(raw)) {
    if (!(KEYS as readonly string[]).includes(key)) throw invalidArgument(`one of ${KEYS.join(', ')}`, `a key of ${file}`, key);
  }
  const config = substituteEnv(raw, '') as ServeConfig;
  const base = path.dirname(path.resolve(file));
  const resolve = (p: string) => path.resolve(base, p);
  if (isPath(config.model)) config.model = resolve(config.model);
  if (config.cacheDir !== undefined) config.cacheDir = resolve(String(config.cacheDir));
  if (config.models !== undefined) {
    if (typeof config.models !== 'object' || config.models === null || Array.isArray(config.models)) throw invalidArgument('a mapping of models by id', `models in ${file}`, config.models);
    const models: Record<string, ModelOptions> = {};
    for (const [id, m] of Object.entries(config.models)) {
      if (typeof m !== 'object' || m === null || !('model' in m)) throw invalidArgument('{ model: path, backend?, precision?, ... }', `models.${id} in ${file}`, m);
      models[id] = {
        ...m,
        ...(isPath(m.model) ? { model: resolve(m.model) } : {}),
        ...(isPath(m.labels) ? { labels: resolve(m.labels) } : {}),
        ...(isPath(m.calibrator) ? { calibrator: resolve(m.calibrator) } : {}),
      };
    }
    config.models = models;
  }
  if (Array.isArray(config.cameras)) {
    config.cameras = config.cameras.map((c: CameraOptions) => (typeof c === 'object' && c !== null && isPath(c.url) && !c.url.startsWith('/dev/') ? { ...c, url: resolve(c.url) } : c));
  }
  return config;
}
