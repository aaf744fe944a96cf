/**
 * What ONNX Runtime's CPU provider does not fuse by itself in a Q/DQ model: INT8 convolutions with
 * float outputs become ConvInteger (lib/onnx/lower-integer-conv.ts), SiLUs between INT8
 * convolutions its INT8 QLinearSigmoid and QLinearMul (lib/onnx/lower-int8-silu.ts). Applied when
 * a session opens; the portable file on disk keeps the standard Q/DQ form.
 */
import { lowerInt8Silu } from '../../onnx/lower-int8-silu';
import { lowerIntegerConvs } from '../../onnx/lower-integer-conv';
import { decodeModel, encodeModel } from '../../onnx/model';

/** The model ONNX Runtime should run; other models pass through untouched, without being decoded. */
export function lowerForOnnxRuntime(bytes: Uint8Array): Uint8Array {
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf('DequantizeLinear') < 0) return bytes;
  const convs = lowerIntegerConvs(decodeModel(bytes));
  const silus = lowerInt8Silu(convs.model);
  return convs.lowered.length > 0 || silus.lowered > 0 ? encodeModel(silus.model) : bytes;
}
