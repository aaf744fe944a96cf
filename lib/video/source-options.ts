/** Validation of one source's options: known keys only, values of the right kind and within bounds. */
import { invalidArgument } from '../util/errors';
import { checkBounded, checkKnownKeys, optionKeys } from '../util/option-keys';
import type { SourceOptions } from './types';

const SOURCE_KEYS = optionKeys<SourceOptions>({
  url: true,
  id: true,
  decoder: true,
  ffmpegPath: true,
  gstLaunchPath: true,
  gstDecoder: true,
  rtspTransport: true,
  format: true,
  hwaccel: true,
  realtime: true,
  inputArgs: true,
  connectTimeoutMs: true,
  stallTimeoutMs: true,
  maxRetries: true,
  backoffInitialMs: true,
  backoffMaxMs: true,
});

/** A day: longer timeouts and delays than this are a unit mistake (seconds given as ms x 1000...). */
const MAX_MS = 86_400_000;

function oneOf(value: unknown, allowed: readonly string[], name: string): void {
  if (value !== undefined && !allowed.includes(value as string)) throw invalidArgument(allowed.map((v) => `'${v}'`).join(allowed.length === 2 ? ' or ' : ', '), name, value);
}

function optionalString(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) throw invalidArgument('a non-empty string', name, value);
}

/** Throws an ERR_ARGUMENT naming `sources[index].<key>` for anything wrong in a source's options. */
export function checkSourceOptions(options: SourceOptions, index: number): void {
  const at = (key: string) => `sources[${index}].${key}`;
  checkKnownKeys(options, SOURCE_KEYS, 'source options', `sources[${index}].`);
  optionalString(options.id, at('id'));
  oneOf(options.decoder, ['ffmpeg', 'gstreamer'], at('decoder'));
  optionalString(options.ffmpegPath, at('ffmpegPath'));
  optionalString(options.gstLaunchPath, at('gstLaunchPath'));
  optionalString(options.gstDecoder, at('gstDecoder'));
  oneOf(options.rtspTransport, ['tcp', 'udp'], at('rtspTransport'));
  oneOf(options.format, ['nv12', 'bgr'], at('format'));
  oneOf(options.hwaccel, ['none', 'auto', 'cuda', 'vaapi', 'qsv'], at('hwaccel'));
  if (options.realtime !== undefined && typeof options.realtime !== 'boolean') throw invalidArgument('a boolean', at('realtime'), options.realtime);
  if (options.inputArgs !== undefined && !(Array.isArray(options.inputArgs) && options.inputArgs.every((a) => typeof a === 'string'))) {
    throw invalidArgument('an array of strings', at('inputArgs'), options.inputArgs);
  }
  const ms = { min: 1, max: MAX_MS, maxWhy: 'a day' };
  checkBounded(options.connectTimeoutMs, at('connectTimeoutMs'), ms);
  checkBounded(options.stallTimeoutMs, at('stallTimeoutMs'), ms);
  checkBounded(options.backoffInitialMs, at('backoffInitialMs'), ms);
  checkBounded(options.backoffMaxMs, at('backoffMaxMs'), ms);
  if (options.backoffInitialMs !== undefined && options.backoffMaxMs !== undefined && options.backoffMaxMs < options.backoffInitialMs) {
    throw invalidArgument(`a number >= backoffInitialMs (${options.backoffInitialMs})`, at('backoffMaxMs'), options.backoffMaxMs);
  }
  // Infinity is the documented "never give up" of live sources.
  if (options.maxRetries !== undefined && options.maxRetries !== Infinity) checkBounded(options.maxRetries, at('maxRetries'), { integer: true, min: 0 });
}
