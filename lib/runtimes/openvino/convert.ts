/**
 * convertToOpenVinoIr(): an ONNX model saved as OpenVINO IR (model.xml + model.bin) by OpenVINO
 * itself (ov::save_model), so it loads without the ONNX frontend. Both files are written to
 * temporary names and renamed, the .bin first: no reader sees an .xml without its weights.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Int8DetectError, invalidArgument } from '../../util/errors';
import { isOpenVinoIrPath } from './ir-model';
import { loadOpenVinoModule } from './module';

export interface ConvertToIrOptions {
  /** Store float weights as FP16 (halves the .bin; OpenVINO computes in its inference precision either way). Default false. */
  compressToFp16?: boolean;
}

export async function convertToOpenVinoIr(model: string | Uint8Array, xmlPath: string, options: ConvertToIrOptions = {}): Promise<void> {
  if (typeof model !== 'string' && !(model instanceof Uint8Array)) throw invalidArgument('an ONNX model path or its bytes', 'model', model);
  if (!isOpenVinoIrPath(xmlPath)) throw invalidArgument('a path ending in .xml', 'xmlPath', xmlPath);
  if (options.compressToFp16 !== undefined && typeof options.compressToFp16 !== 'boolean') {
    throw invalidArgument('a boolean', 'options.compressToFp16', options.compressToFp16);
  }
  const { addon } = await loadOpenVinoModule();
  await fs.mkdir(path.dirname(path.resolve(xmlPath)), { recursive: true });
  try {
    await addon.convertToIr({
      model: typeof model === 'string' ? null : model,
      modelPath: typeof model === 'string' ? model : '<in-memory model>',
      xmlPath,
      compressToFp16: options.compressToFp16 ?? false,
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code === 'ERR_MODEL' ? 'ERR_MODEL' : 'ERR_NATIVE';
    throw new Int8DetectError(code, (err as Error).message, { cause: err });
  }
}
