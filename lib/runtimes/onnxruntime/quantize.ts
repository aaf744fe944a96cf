/**
 * quantizeModel(): post-training INT8 of an ONNX model into a portable Q/DQ ONNX model, through
 * the one pipeline with the Q/DQ adapter (quantizer.ts) and, given held-back frames, the
 * label-free check and mixed-precision search on ONNX Runtime. Nothing is written: the caller
 * writes `bytes`.
 */
import { quantizeModelFor, type QuantizedModel, type QuantizeModelOptions } from '../quantize-model';
import { onnxRuntimeBackend } from './descriptor';

export function quantizeModel(options: QuantizeModelOptions): Promise<QuantizedModel> {
  return quantizeModelFor(onnxRuntimeBackend, options);
}
