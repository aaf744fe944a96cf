/**
 * The portable INT8 artefact: a Q/DQ ONNX model (QuantizeLinear/DequantizeLinear pairs, INT8
 * weights per output channel) that ONNX Runtime runs with its INT8 kernels, and that TensorRT
 * (explicit quantization) and OpenVINO read as they are. Statistics come from ONNX Runtime.
 */
import { raiseOpset } from '../../onnx/opset';
import type { QuantizerAdapter } from '../../quantize/adapter';
import { emitQdqModel, qdqGrid } from '../../quantize/emitters/qdq';
import { placeQuantization } from '../../quantize/placement';
import { macCounts } from '../../quantize/plan';
import { onnxRuntimeStatisticsSession } from './statistics-session';
import { onnxRuntimeVersion } from './version';

export const qdqQuantizer: QuantizerAdapter = {
  format: 'Q/DQ ONNX model',
  artefact: { extension: '.onnx', companions: [], opensFromPath: false },
  // Bias correction: no mode gained on both fixture models for Q/DQ (docs/quantization.md).
  defaults: { biasCorrection: 'none' },
  id: async () => `onnxruntime ${onnxRuntimeVersion()}`,
  // Q/DQ with a per-channel axis needs opset 13: refuse a model whose opset cannot be raised.
  checkModel: (model) => void raiseOpset(model, 13),
  place: (model, options) => placeQuantization(model, options),
  statisticsSession: onnxRuntimeStatisticsSession,
  equalizationSession: onnxRuntimeStatisticsSession,
  grid: (activation, plan) => qdqGrid(activation, plan.activationMode),
  async emitter({ model, inputBytes, plan }) {
    const nothing = plan.activations.length === 0 && plan.weights.length === 0;
    return {
      // Candidates are compared against the float model as it was given.
      reference: inputBytes,
      candidate: async (keepFloat) => emitQdqModel(model, plan, { keepFloat }),
      macs: (keepFloat) => macCounts(plan, keepFloat),
      emit: async (keepFloat) => ({
        // Nothing to quantize: the float model's own bytes.
        bytes: nothing ? inputBytes : emitQdqModel(model, plan, { keepFloat }),
        companions: new Map(),
        details: {},
        warnings: [],
      }),
      dispose: async () => {},
    };
  },
};
