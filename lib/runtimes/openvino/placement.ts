/**
 * Where FakeQuantize goes for OpenVINO: the portable placement (lib/quantize/placement.ts: compute
 * nodes, weights, the detection head and the ignored scope kept in float), less the quantized
 * outputs that ONNX Runtime needs and OpenVINO does not. That is NNCF's default placement
 * (FakeQuantize on the activation inputs and the weights of Conv- and MatMul-like ops) and it
 * fixes the SiLU case by construction: the FakeQuantize sits on the SiLU product x*sigmoid(x)
 * where the next convolution reads it, so OpenVINO's CPU plugin fuses Conv + Swish + FakeQuantize
 * into one INT8 convolution with a quantized output, and never sees a FakeQuantize between the
 * Sigmoid and the Mul. The measurements behind the rule are in docs/openvino.md.
 */
import type { OnnxModel } from '../../onnx/model';
import { placeQuantization, type IgnoredScope, type Placement } from '../../quantize/placement';

export function placeOpenVinoQuantization(model: OnnxModel, options: { ignoredScope?: IgnoredScope } = {}): Placement {
  const placement = placeQuantization(model, options);
  const inputOf = new Map<string, string[]>();
  for (const c of placement.compute) {
    if (!c.quantized) continue;
    inputOf.set(c.input, [...(inputOf.get(c.input) ?? []), c.node]);
  }
  const activations = placement.activations
    .filter((a) => inputOf.has(a.tensor))
    .map((a) => ({ ...a, consumers: inputOf.get(a.tensor)!, reason: `input of ${inputOf.get(a.tensor)!.join(', ')}` }));
  return { ...placement, activations };
}
