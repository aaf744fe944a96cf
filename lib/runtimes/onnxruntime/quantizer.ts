/**
 * The portable INT8 artefact: a Q/DQ ONNX model (QuantizeLinear/DequantizeLinear pairs, INT8
 * weights per output channel) that ONNX Runtime runs with its INT8 kernels, and that TensorRT
 * (explicit quantization) and OpenVINO read as they are. Statistics come from ONNX Runtime.
 */
import { raiseOpset } from '../../onnx/opset';
import type { QuantizerAdapter } from '../../quantize/adapter';
import { emitQdqModel, qdqGrid } from '../../quantize/emitters/qdq';
import { placeQuantization } from '../../quantize/placement';
import { addInt8Junctions } from '../../quantize/placement-junctions';
import { int8ComputeNodes, macCounts, type QuantizationPlan } from '../../quantize/plan';
import { onnxRuntimeStatisticsSession } from './statistics-session';
import { onnxRuntimeVersion } from './version';

/**
 * Multiply-accumulates per frame outside ONNX Runtime's fast INT8 kernel (QLinearConv and its
 * kin): float nodes, and INT8 nodes whose quantized output is kept float (they run ConvInteger
 * with a float rescale, and the SiLU after them in float: lib/onnx/lower-integer-conv.ts). On
 * yolox_nano (onnxruntime-node 1.30, AVX-512 VNNI) a search that kept 173 such outputs in float,
 * at 93 % INT8 MACs, ran at 2x FP32's time.
 */
function qlinearSlowMacs(plan: QuantizationPlan, keepFloat: ReadonlySet<string> = new Set()): number {
  const int8Nodes = int8ComputeNodes(plan, keepFloat);
  const planned = new Set(plan.activations.map((a) => a.name));
  let slow = 0;
  for (const c of plan.compute) {
    const fast = int8Nodes.has(c.node) && !(planned.has(c.output) && keepFloat.has(c.output));
    if (!fast) slow += c.macs ?? 0;
  }
  return slow;
}

export const qdqQuantizer: QuantizerAdapter = {
  format: 'Q/DQ ONNX model',
  artefact: { extension: '.onnx', companions: [], opensFromPath: false },
  // Bias correction: no mode gained on both fixture models for Q/DQ (docs/quantization.md).
  // A product read only by depthwise convs is equalized by its own channel ranges, as OpenVINO's
  // is: equalizing it by its conv's factors ('input-factors') spares ONNX Runtime's INT8 SiLU a
  // rescaling pass (lib/onnx/lower-equalized-silu.ts, about 7 % of yolox_nano's time) but cost
  // 1.2 points of mAP on coco/eval (0.2576 against 0.2694, FP32 0.2688), on AVX2 and VNNI alike.
  defaults: { biasCorrection: 'none', equalize: { depthwiseProduct: 'own-range' } },
  id: async () => `onnxruntime ${onnxRuntimeVersion()}`,
  // Q/DQ with a per-channel axis needs opset 13: refuse a model whose opset cannot be raised.
  checkModel: (model) => void raiseOpset(model, 13),
  // Junctions between quantized convs (Concat, Add, MaxPool, Resize, Slice, Split) in INT8 too.
  place: (model, options) => addInt8Junctions(model, placeQuantization(model, options)),
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
      slowMacs: (keepFloat) => qlinearSlowMacs(plan, keepFloat),
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
