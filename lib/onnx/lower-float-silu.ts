/**
 * ONNX Runtime lowering of the SiLUs left in float in an INT8 model: x * Sigmoid(x) becomes
 * ONNX Runtime's QuickGelu(x, alpha 1), the node its own optimizer makes of a float SiLU.
 *
 * Why: in a Q/DQ model the optimizer does not get there. Where a DequantizeLinear feeds both the
 * Sigmoid and the Mul (the head's last SiLU before its float 1x1 conv), it first gives each reader
 * a DequantizeLinear of its own, and the two-reader pattern it fuses is gone: the profile of
 * yolov8n's INT8 model showed the duplicated DQs (0.2 ms), and the Sigmoid and the Mul as two
 * float passes where FP32 runs one QuickGelu. Written here as QuickGelu reading the one DQ.
 * QuickGelu computes x * sigmoid(alpha * x): with alpha 1 it is the same function, on the same
 * logistic kernel. Runs after the INT8 SiLU lowerings, so only the SiLUs they left are rewritten,
 * and only where x is known to be float32 (ONNX Runtime's CPU QuickGelu takes nothing else): a
 * DequantizeLinear with a float32 scale, or such a value times float32 constants (the equalization's
 * restoring Mul).
 */
import { indexGraph, nameAllocator, soleReader, type GraphIndex } from './graph-index';
import { DataType, type OnnxModel, type OnnxNode } from './model';
import { MICROSOFT_DOMAIN, withMicrosoftDomain } from './opset';

/** Whether `tensor` is a float32 dequantized value, or one times float32 constants. */
function dequantizedFloat(index: GraphIndex, tensor: string, depth = 0): boolean {
  const producer = index.producer.get(tensor);
  if (!producer || producer.domain !== '' || depth > 4) return false;
  if (producer.opType === 'DequantizeLinear') return index.initializers.get(producer.inputs[1])?.dataType === DataType.FLOAT;
  if (producer.opType !== 'Mul') return false;
  const constant = producer.inputs.find((i) => index.initializers.has(i));
  const other = producer.inputs.find((i) => i !== constant);
  return constant !== undefined && other !== undefined && index.initializers.get(constant)!.dataType === DataType.FLOAT && dequantizedFloat(index, other, depth + 1);
}

export function lowerFloatSilu(model: OnnxModel): { model: OnnxModel; lowered: number } {
  const graph = model.graph;
  const index = indexGraph(graph);
  const unique = nameAllocator(graph);
  const replaced = new Map<OnnxNode, OnnxNode>();
  const removed = new Set<OnnxNode>();
  for (const sigmoid of graph.nodes) {
    if (sigmoid.opType !== 'Sigmoid' || sigmoid.domain !== '' || index.graphOutputs.has(sigmoid.outputs[0])) continue;
    const x = sigmoid.inputs[0];
    const mul = soleReader(index, sigmoid.outputs[0]);
    if (!mul || mul.opType !== 'Mul' || mul.domain !== '' || mul.inputs.length !== 2) continue;
    const other = mul.inputs[0] === sigmoid.outputs[0] ? mul.inputs[1] : mul.inputs[0];
    if (other !== x || !dequantizedFloat(index, x)) continue;
    removed.add(sigmoid);
    replaced.set(mul, {
      name: unique(`${mul.name || mul.outputs[0]}_QuickGelu`),
      opType: 'QuickGelu',
      domain: MICROSOFT_DOMAIN,
      inputs: [x],
      outputs: [mul.outputs[0]],
      attributes: [{ name: 'alpha', type: 1, f: 1, extra: [] }],
      extra: [],
    });
  }
  if (replaced.size === 0) return { model, lowered: 0 };
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { model: withMicrosoftDomain({ ...model, graph: { ...graph, nodes } }), lowered: replaced.size };
}
