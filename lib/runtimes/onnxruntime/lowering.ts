/**
 * The graph ONNX Runtime's CPU provider runs fastest, made from a Q/DQ model when a session opens
 * (the portable file on disk keeps the standard Q/DQ form). Each rewrite is one the provider's own
 * profile asked for (docs/quantization.md, "What ONNX Runtime gets on top"):
 *
 * 1. INT8 convolutions with float outputs become ConvInteger (lib/onnx/lower-integer-conv.ts);
 * 2. channel-equalized SiLUs become a depthwise 1x1 QLinearConv + QLinearSigmoid + QLinearMul
 *    (lib/onnx/lower-equalized-silu.ts) instead of five float passes with two per-channel Muls;
 * 3. the other SiLUs between INT8 convolutions become QLinearSigmoid + QLinearMul
 *    (lib/onnx/lower-int8-silu.ts);
 * 4. a Focus stem becomes one SpaceToDepth (lib/onnx/lower-focus.ts, exact);
 * 5. a Split between a DequantizeLinear and QuantizeLinears on the same grid splits the 8-bit
 *    tensor (lib/onnx/lower-int8-split.ts; ONNX Runtime drops such pairs around MaxPool and Slice
 *    itself, not around Split);
 * 6. the SiLUs left in float (the head's last, before its float 1x1 conv) become QuickGelu, which
 *    ONNX Runtime's optimizer makes of a float SiLU but not in a Q/DQ graph
 *    (lib/onnx/lower-float-silu.ts, same function);
 * 7. nodes left without readers are removed (lib/onnx/prune-dead-nodes.ts): ONNX Runtime runs them.
 *
 * And for every model, float ones too: a YOLOv8/YOLO11 DFL head's softmax along a middle axis
 * becomes one along the last axis (lib/onnx/lower-dfl-softmax.ts, exact): the head stays float in
 * INT8 models, and ONNX Runtime's middle-axis softmax was a sixth of yolov8n's INT8 time.
 */
import { lowerDflSoftmax } from '../../onnx/lower-dfl-softmax';
import { lowerEqualizedSilu } from '../../onnx/lower-equalized-silu';
import { lowerFloatSilu } from '../../onnx/lower-float-silu';
import { lowerFocus } from '../../onnx/lower-focus';
import { lowerInt8Silu } from '../../onnx/lower-int8-silu';
import { lowerInt8Split } from '../../onnx/lower-int8-split';
import { lowerIntegerConvs } from '../../onnx/lower-integer-conv';
import { decodeModel, encodeModel } from '../../onnx/model';
import { pruneDeadNodes } from '../../onnx/prune-dead-nodes';

/** What each rewrite changed, for tests and the report. */
export interface OnnxRuntimeLowering {
  bytes: Uint8Array;
  integerConvs: number;
  equalizedSilus: number;
  int8Silus: number;
  floatSilus: number;
  focus: number;
  splits: number;
  dflSoftmaxes: number;
  pruned: number;
}

/** The lowering with its counts; a float model without a Softmax passes through untouched, without being decoded. */
export function lowerForOnnxRuntimeDetailed(bytes: Uint8Array): OnnxRuntimeLowering {
  const none = { bytes, integerConvs: 0, equalizedSilus: 0, int8Silus: 0, floatSilus: 0, focus: 0, splits: 0, dflSoftmaxes: 0, pruned: 0 };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (text.indexOf('DequantizeLinear') < 0) {
    // A float model is decoded only when it has a Softmax the DFL rewrite may apply to.
    if (text.indexOf('Softmax') < 0) return none;
    const dfl = lowerDflSoftmax(decodeModel(bytes));
    return dfl.lowered.length === 0 ? none : { ...none, bytes: encodeModel(dfl.model), dflSoftmaxes: dfl.lowered.length };
  }
  const convs = lowerIntegerConvs(decodeModel(bytes));
  const equalized = lowerEqualizedSilu(convs.model);
  const silus = lowerInt8Silu(equalized.model);
  const floatSilus = lowerFloatSilu(silus.model);
  const focus = lowerFocus(floatSilus.model);
  const splits = lowerInt8Split(focus.model);
  const dfl = lowerDflSoftmax(splits.model);
  const pruned = pruneDeadNodes(dfl.model);
  const counts = { integerConvs: convs.lowered.length, equalizedSilus: equalized.lowered.length, int8Silus: silus.lowered, floatSilus: floatSilus.lowered, focus: focus.lowered.length, splits: splits.lowered, dflSoftmaxes: dfl.lowered.length, pruned: pruned.removed };
  const changed = Object.values(counts).some((n) => n > 0);
  return { bytes: changed ? encodeModel(pruned.model) : bytes, ...counts };
}

/** The model ONNX Runtime should run; a float model without a Softmax passes through untouched, without being decoded. */
export function lowerForOnnxRuntime(bytes: Uint8Array): Uint8Array {
  return lowerForOnnxRuntimeDetailed(bytes).bytes;
}
