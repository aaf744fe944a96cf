/**
 * Checks a camera's options (from the config file or POST /v1/streams) and fills the defaults.
 * Messages never repeat the URL: it may hold credentials.
 */
import { Int8DetectError, invalidArgument } from '../util/errors';
import { checkKnownKeys, optionKeys } from '../util/option-keys';
import type { TrackerOptions } from '../video/tracking/byte-tracker';
import { validateGeometry } from '../video/tracking/stream-analytics';
import type { CameraOptions } from './types';

export const STREAM_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const NETWORK_SCHEMES = ['rtsp:', 'rtsps:', 'http:', 'https:'];

export interface ResolvedCamera extends CameraOptions {
  id: string;
  model: string;
  classIds: number[] | undefined;
  coordinates: 'pixels' | 'normalized';
  tracker: TrackerOptions;
}

/** The scheme of a URL-like string ('rtsp:'), or undefined for a path. */
function schemeOf(url: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  // A Windows drive letter (C:\...) is a path, not a scheme.
  return m && m[1].length > 1 ? `${m[1].toLowerCase()}:` : undefined;
}

export function checkSourceUrl(url: unknown, name: string, allowFiles: boolean): string {
  if (typeof url !== 'string' || url.trim() === '') throw invalidArgument('a camera URL (rtsp://, rtsps://, http:// or https://)', name, url);
  const scheme = schemeOf(url);
  if (scheme !== undefined) {
    if (!NETWORK_SCHEMES.includes(scheme)) {
      throw new Int8DetectError('ERR_ARGUMENT', `Expected an rtsp://, rtsps://, http:// or https:// URL for ${name} but received a URL with the scheme ${scheme}`);
    }
    try {
      new URL(url);
    } catch {
      throw new Int8DetectError('ERR_ARGUMENT', `Expected a well-formed URL for ${name} but received one that does not parse`);
    }
    return url;
  }
  if (!allowFiles) {
    throw new Int8DetectError('ERR_ARGUMENT', `Expected an rtsp://, rtsps://, http:// or https:// URL for ${name} but received a file path (files and /dev/video devices need allowFileSources)`);
  }
  if (url.startsWith('-')) throw new Int8DetectError('ERR_ARGUMENT', `Expected a file path for ${name} but received one starting with '-'`);
  return url;
}

function positive(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw invalidArgument('a positive number', name, value);
  return value;
}

/** Class ids from ids or names, against the model's labels. */
export function resolveClasses(classes: unknown, labels: readonly string[], name: string): number[] | undefined {
  if (classes === undefined) return undefined;
  if (!Array.isArray(classes)) throw invalidArgument('an array of class ids or names', name, classes);
  return classes.map((c, i) => {
    if (typeof c === 'number' && Number.isInteger(c) && c >= 0 && c < labels.length) return c;
    if (typeof c === 'string') {
      const id = labels.indexOf(c);
      if (id >= 0) return id;
      if (/^\d+$/.test(c) && Number(c) < labels.length) return Number(c);
    }
    throw invalidArgument(`a class id (0-${labels.length - 1}) or one of the model's class names`, `${name}[${i}]`, c);
  });
}

export interface CameraContext {
  /** Where the camera came from, for messages: 'cameras[2]' or 'body'. */
  where: string;
  allowFiles: boolean;
  defaultId: string;
  models: ReadonlyMap<string, { labels: readonly string[] }>;
  defaultModel: string;
}

/** Every key of CameraOptions: a misspelt one ('zone' for 'zones') is refused, not ignored. */
const CAMERA_KEYS = optionKeys<CameraOptions>({
  url: true, id: true, model: true, maxFps: true, classes: true, zones: true, lines: true, coordinates: true, tracker: true, detect: true, rtspTransport: true, realtime: true,
});

export function resolveCamera(camera: CameraOptions, context: CameraContext): ResolvedCamera {
  const { where } = context;
  if (typeof camera !== 'object' || camera === null || Array.isArray(camera)) throw invalidArgument('a camera object { url, ... }', where, camera);
  checkKnownKeys(camera, CAMERA_KEYS, where, `${where}.`);
  const url = checkSourceUrl(camera.url, `${where}.url`, context.allowFiles);
  const id = camera.id ?? context.defaultId;
  if (typeof id !== 'string' || !STREAM_ID_PATTERN.test(id)) throw invalidArgument('an id of 1-64 letters, digits, _ . or -', `${where}.id`, id);
  const model = camera.model ?? context.defaultModel;
  const modelInfo = context.models.get(model);
  if (!modelInfo) throw invalidArgument(`one of the models (${[...context.models.keys()].join(', ')})`, `${where}.model`, model);
  positive(camera.maxFps, `${where}.maxFps`);
  if (camera.rtspTransport !== undefined && camera.rtspTransport !== 'tcp' && camera.rtspTransport !== 'udp') throw invalidArgument("'tcp' or 'udp'", `${where}.rtspTransport`, camera.rtspTransport);
  if (camera.realtime !== undefined && typeof camera.realtime !== 'boolean') throw invalidArgument('a boolean', `${where}.realtime`, camera.realtime);
  validateGeometry({ zones: camera.zones, lines: camera.lines, coordinates: camera.coordinates }, where);
  if (camera.tracker !== undefined && (typeof camera.tracker !== 'object' || camera.tracker === null)) throw invalidArgument('tracker settings', `${where}.tracker`, camera.tracker);
  if (camera.detect !== undefined && (typeof camera.detect !== 'object' || camera.detect === null)) throw invalidArgument('detection settings', `${where}.detect`, camera.detect);
  return {
    ...camera,
    url,
    id,
    model,
    classIds: resolveClasses(camera.classes, modelInfo.labels, `${where}.classes`),
    coordinates: camera.coordinates ?? 'pixels',
    tracker: camera.tracker ?? {},
    zones: camera.zones ?? [],
    lines: camera.lines ?? [],
  };
}
