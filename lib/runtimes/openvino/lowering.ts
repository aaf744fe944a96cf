/**
 * The graph OpenVINO's CPU plugin runs fastest, made from an ONNX model before OpenVINO reads it,
 * float or INT8 alike (an IR made by the quantizer has had the same rewrite: quantizer.ts). Each
 * rewrite is exact and was asked for by the plugin's per-layer counters:
 *
 * - a Focus stem (YOLOX, YOLOv5 <= 5.0) becomes one SpaceToDepth (lib/onnx/lower-focus.ts): its four
 *   strided Slices ran in OpenVINO's reference kernels and its Concat in the INT8 reference kernel
 *   (yolox_nano's INT8 IR, AVX-512 VNNI: 0.16 ms for that Concat, 0.22 ms for the Slices, of 3.2 ms);
 *   the float model measured 0.92x its time with the rewrite (BF16, 11 interleaved rounds).
 */
import { lowerFocus } from '../../onnx/lower-focus';
import { decodeModel, encodeModel, type OnnxModel } from '../../onnx/model';

export function lowerModelForOpenVino(model: OnnxModel): OnnxModel {
  return lowerFocus(model).model;
}

/** The ONNX bytes OpenVINO should read; a model without a Slice is passed through without being decoded. */
export function lowerForOpenVino(bytes: Uint8Array): Uint8Array {
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf('Slice') < 0) return bytes;
  const model = decodeModel(bytes);
  const lowered = lowerModelForOpenVino(model);
  return lowered === model ? bytes : encodeModel(lowered);
}
