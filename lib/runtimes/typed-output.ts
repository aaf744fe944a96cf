/** A native runtime's output buffer as the typed array of its element type (OpenVINO, TensorRT). */
import { Int8DetectError } from '../util/errors';
import type { TensorData } from './session';

export function typedArrayOf(runtime: string, output: { name: string; type: string; data: ArrayBuffer }): TensorData {
  switch (output.type) {
    case 'float32':
      return new Float32Array(output.data);
    case 'float64':
      return new Float64Array(output.data);
    case 'int32':
      return new Int32Array(output.data);
    case 'int64':
      return new BigInt64Array(output.data);
    case 'int16':
      return new Int16Array(output.data);
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      // Half floats stay raw 16-bit words: JavaScript has no typed array for them.
      return new Uint16Array(output.data);
    case 'int8':
      return new Int8Array(output.data);
    case 'uint8':
    case 'bool':
      return new Uint8Array(output.data);
    default:
      throw new Int8DetectError('ERR_INFERENCE', `${runtime} output '${output.name}' has the type ${output.type}, which int8-detect cannot read`);
  }
}
