/**
 * TensorRT's calibration cache, the text IInt8EntropyCalibrator2 writes and reads: a header line
 * `TRT-<version>-EntropyCalibration2`, then one `tensor_name: <8 hex digits>` line per tensor, the
 * hex being the big-endian bit pattern of the float32 scale (threshold / 127). The portable
 * quantizer (lib/quantize/trt-cache.ts) writes the same format, so an implicit INT8 engine can be
 * built from its statistics without calibrating on the device.
 */
import { promises as fs } from 'node:fs';
import { Int8DetectError } from '../../util/errors';
import { writeFileAtomic } from '../../util/files';

export const CALIBRATION_ALGORITHMS = ['EntropyCalibration2', 'EntropyCalibration', 'MinMaxCalibration', 'LegacyCalibration'] as const;
export type CalibrationAlgorithmName = (typeof CALIBRATION_ALGORITHMS)[number];

export interface CalibrationCache {
  /** The number in the header: NV_TENSORRT_VERSION of the TensorRT it is meant for (8601, 100300). */
  version: number;
  algorithm: CalibrationAlgorithmName;
  /** Per-tensor scale, in file order. */
  scales: Map<string, number>;
}

function cacheError(source: string, message: string): Int8DetectError {
  return new Int8DetectError('ERR_ARGUMENT', `${source} is not a usable TensorRT calibration cache: ${message}`);
}

export function scaleFromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, Number.parseInt(hex, 16), false);
  return view.getFloat32(0, false);
}

export function scaleToHex(scale: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, scale, false);
  return view.getUint32(0, false).toString(16).padStart(8, '0');
}

function quote(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 77)}...` : line);
}

/** Parse a cache; every malformed, truncated or inconsistent line is an error naming the line. */
export function parseCalibrationCache(input: string | Uint8Array, source = 'the calibration cache'): CalibrationCache {
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  if (text.length === 0) throw cacheError(source, 'it is empty');
  if (text.includes('\0')) throw cacheError(source, 'it holds NUL bytes (a binary file, not the text cache)');
  const endsWithNewline = text.endsWith('\n');
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (endsWithNewline) lines.pop();
  const header = /^TRT-(\d+)-([A-Za-z0-9]+)$/.exec(lines[0]);
  if (!header) throw cacheError(source, `line 1 should be a header like "TRT-100300-EntropyCalibration2" but is ${quote(lines[0])}`);
  const algorithm = header[2] as CalibrationAlgorithmName;
  if (!CALIBRATION_ALGORITHMS.includes(algorithm)) {
    throw cacheError(source, `line 1 names the algorithm ${algorithm}; expected one of ${CALIBRATION_ALGORITHMS.join(', ')}`);
  }
  const scales = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const lineNumber = i + 1;
    if (line === '' && i === lines.length - 1) continue;
    const separator = line.lastIndexOf(': ');
    const name = separator > 0 ? line.slice(0, separator) : '';
    const hex = separator > 0 ? line.slice(separator + 2) : '';
    if (name === '' || !/^[0-9a-fA-F]{8}$/.test(hex)) {
      const truncated = i === lines.length - 1 && !endsWithNewline;
      throw cacheError(
        source,
        `line ${lineNumber} should be "tensor_name: <8 hex digits>" but is ${quote(line)}${truncated ? ' (the file looks truncated)' : ''}`,
      );
    }
    const scale = scaleFromHex(hex);
    if (!Number.isFinite(scale) || scale <= 0) {
      throw cacheError(source, `line ${lineNumber} gives tensor '${name}' the scale ${scale} (0x${hex}); a scale must be a positive finite number`);
    }
    if (scales.has(name)) throw cacheError(source, `line ${lineNumber} repeats tensor '${name}'`);
    scales.set(name, scale);
  }
  if (scales.size === 0) throw cacheError(source, 'it has a header but no tensor scales');
  return { version: Number(header[1]), algorithm, scales };
}

export function formatCalibrationCache(cache: CalibrationCache): string {
  if (!Number.isInteger(cache.version) || cache.version <= 0) {
    throw new Int8DetectError('ERR_ARGUMENT', `A calibration cache header needs a positive integer version, not ${cache.version}`);
  }
  const lines = [`TRT-${cache.version}-${cache.algorithm}`];
  for (const [name, scale] of cache.scales) {
    if (name === '' || name.includes('\n')) throw new Int8DetectError('ERR_ARGUMENT', `Tensor name ${JSON.stringify(name)} cannot be written to a calibration cache`);
    if (!Number.isFinite(scale) || scale <= 0) throw new Int8DetectError('ERR_ARGUMENT', `Tensor '${name}' has the scale ${scale}; a scale must be a positive finite number`);
    lines.push(`${name}: ${scaleToHex(scale)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The same scales under the header of the TensorRT that will read them: TensorRT ignores a cache
 * whose header names another version and would calibrate again, which without a calibrator fails.
 */
export function retargetCalibrationCache(cache: CalibrationCache, version: number): CalibrationCache {
  return { version, algorithm: cache.algorithm, scales: new Map(cache.scales) };
}

export async function readCalibrationCacheFile(file: string): Promise<CalibrationCache> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new Int8DetectError('ERR_ARGUMENT', `Cannot read the calibration cache ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseCalibrationCache(bytes, file);
}

export async function writeCalibrationCacheFile(file: string, cache: CalibrationCache): Promise<void> {
  await writeFileAtomic(file, formatCalibrationCache(cache));
}
