/** ONNX Runtime's own engine options (createEngine's `onnxruntime` group), checked before the session opens. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError, invalidArgument } from '../../util/errors';

export interface OnnxRuntimeBackendOptions {
  /** Write ONNX Runtime's per-operator profile (JSON) to files starting with this prefix; its folder must exist. */
  profileFilePrefix?: string;
}

export function checkOnnxRuntimeOptions(value: unknown): asserts value is OnnxRuntimeBackendOptions | undefined {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument('an object', 'options.onnxruntime', value);
  const { profileFilePrefix, ...rest } = value as OnnxRuntimeBackendOptions;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new Int8DetectError('ERR_ARGUMENT', `Unknown option options.onnxruntime.${unknown[0]}: the onnxruntime options are profileFilePrefix`);
  if (profileFilePrefix !== undefined && (typeof profileFilePrefix !== 'string' || profileFilePrefix === '')) {
    throw invalidArgument('a file name prefix', 'options.onnxruntime.profileFilePrefix', profileFilePrefix);
  }
}

/** ONNX Runtime writes the profile only when the session ends, into a folder it does not create: refuse a missing one now. */
export async function checkProfileFolder(prefix: string): Promise<void> {
  const folder = path.dirname(path.resolve(prefix));
  const stat = await fs.stat(folder).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new Int8DetectError('ERR_ARGUMENT', `options.onnxruntime.profileFilePrefix ${JSON.stringify(prefix)} is in ${folder}, which is not a folder that exists`);
  }
}
