/**
 * The Q/DQ ONNX emitter: QuantizeLinear -> DequantizeLinear pairs on the planned activations,
 * weights stored as INT8 initializers read through a per-channel DequantizeLinear (axis), and the
 * default-domain opset raised to 13 for that axis. Emitting is cheap and repeatable: the
 * mixed-precision search calls it once per candidate set of tensors kept in float.
 *
 * Biases stay float, shifted by the plan's fast bias corrections: ONNX Runtime (1.21 and later) quantizes a float Conv/Gemm bias itself when it
 * fuses DQ -> Conv -> Q, and TensorRT's explicit quantization wants float biases.
 */
import { Int8DetectError, invalidArgument } from '../../util/errors';
import { indexGraph, nameAllocator, nodesByKey } from '../../onnx/graph-index';
import { encodeModel, floatTensor, int8Tensor, tensorFloats, uint8Tensor, type OnnxModel, type OnnxNode, type OnnxTensor } from '../../onnx/model';
import { raiseOpset } from '../../onnx/opset';
import { activeBiasCorrections, type ActivationGrid } from '../bias-correction';
import type { ActivationPlan, QuantizationPlan, WeightPlan } from '../plan';
import type { ActivationMode } from '../qparams';
import { quantizePerChannel } from '../weights';

export interface EmitOptions {
  /** Activation or weight tensors to leave in float (no Q/DQ), e.g. from a sensitivity search. */
  keepFloat?: ReadonlySet<string>;
}

const INT = 2;

function makeNode(name: string, opType: string, inputs: string[], outputs: string[], axis?: number): OnnxNode {
  return {
    name,
    opType,
    domain: '',
    inputs,
    outputs,
    attributes: axis === undefined ? [] : [{ name: 'axis', type: INT, i: axis, extra: [] }],
    extra: [],
  };
}

/** The Q/DQ model as ONNX bytes. */
export function emitQdqModel(model: OnnxModel, plan: QuantizationPlan, options: EmitOptions = {}): Uint8Array {
  return encodeModel(emitQdqGraph(model, plan, options));
}

/** The Q/DQ model as an editable structure (emitQdqModel encodes it). */
export function emitQdqGraph(model: OnnxModel, plan: QuantizationPlan, options: EmitOptions = {}): OnnxModel {
  const keepFloat = options.keepFloat ?? new Set<string>();
  if (!(keepFloat instanceof Set)) throw invalidArgument('a Set of tensor names', 'options.keepFloat', keepFloat);
  const out = raiseOpset(model, 13);
  // raiseOpset returns the model itself when no raise is needed; never edit the caller's model.
  const graph = out === model ? { ...model.graph, nodes: model.graph.nodes.map((n) => ({ ...n, inputs: n.inputs.slice() })), initializers: model.graph.initializers.slice() } : out.graph;
  const result: OnnxModel = { ...out, graph };
  const index = indexGraph(graph);
  const unique = nameAllocator(graph);
  const byKey = nodesByKey(index);
  const rewire = (consumers: readonly string[], from: string, to: string) => {
    for (const key of consumers) {
      const node = byKey.get(key);
      if (!node) throw new Int8DetectError('ERR_ARGUMENT', `The plan names node '${key}', which the model does not have: was the plan built for another model?`);
      node.inputs = node.inputs.map((i) => (i === from ? to : i));
    }
  };

  // Fast bias correction (bias-correction.ts): each shifted bias replaces its initializer in the copy.
  const shifts = activeBiasCorrections(plan.biasCorrections, keepFloat);
  graph.initializers = graph.initializers.map((t) => {
    const delta = shifts.get(t.name);
    if (!delta) return t;
    const values = tensorFloats(t);
    if (values.length !== delta.length) throw new Int8DetectError('ERR_ARGUMENT', `The plan corrects bias '${t.name}' with ${delta.length} values; it holds ${values.length}`);
    return floatTensor(t.name, t.dims, values.map((v, i) => v + delta[i]));
  });

  const newInitializers: OnnxTensor[] = [];
  const leadingNodes: OnnxNode[] = [];
  const after = new Map<string, OnnxNode[]>();
  const replacedWeights = new Set<string>();

  for (const w of plan.weights) {
    if (keepFloat.has(w.name)) continue;
    const tensor = index.initializers.get(w.name);
    if (!tensor) throw new Int8DetectError('ERR_ARGUMENT', `The plan names weight '${w.name}', which the model does not have`);
    leadingNodes.push(...weightNodes(w, tensor, unique, newInitializers, rewire));
    replacedWeights.add(w.name);
  }

  for (const a of plan.activations) {
    if (keepFloat.has(a.name)) continue;
    const nodes = activationNodes(a, plan.activationMode, unique, newInitializers);
    rewire(a.consumers, a.name, nodes[1].outputs[0]);
    const producer = index.producer.get(a.name);
    if (producer) {
      const key = index.nodeKey.get(producer)!;
      after.set(key, [...(after.get(key) ?? []), ...nodes]);
    } else {
      leadingNodes.push(...nodes);
    }
  }

  // Keep the graph topologically sorted: DQ of weights and of graph inputs first, each
  // activation's Q/DQ right after the node that writes it.
  const nodes: OnnxNode[] = [...leadingNodes];
  for (const node of graph.nodes) {
    nodes.push(node);
    nodes.push(...(after.get(index.nodeKey.get(node)!) ?? []));
  }
  graph.nodes = nodes;
  const stillRead = new Set(nodes.flatMap((n) => n.inputs));
  for (const o of graph.outputs) stillRead.add(o.name);
  graph.initializers = [...graph.initializers.filter((t) => !replacedWeights.has(t.name) || stillRead.has(t.name)), ...newInitializers];
  // Initializers listed among the inputs (old exporters) must not outlive their data.
  const initializerNames = new Set(graph.initializers.map((t) => t.name));
  graph.inputs = graph.inputs.filter((i) => !replacedWeights.has(i.name) || initializerNames.has(i.name));
  return result;
}

function weightNodes(
  w: WeightPlan,
  tensor: OnnxTensor,
  unique: (base: string) => string,
  initializers: OnnxTensor[],
  rewire: (consumers: readonly string[], from: string, to: string) => void,
): OnnxNode[] {
  const scales = Float32Array.from(w.scales);
  const quantized = quantizePerChannel(tensorFloats(tensor), w.dims, w.axis, scales);
  const channels = w.dims[w.axis];
  const q = int8Tensor(unique(`${w.name}_quantized`), w.dims, quantized);
  const scale = floatTensor(unique(`${w.name}_scale`), [channels], scales);
  const zeroPoint = int8Tensor(unique(`${w.name}_zero_point`), [channels], new Int8Array(channels));
  initializers.push(q, scale, zeroPoint);
  const output = unique(`${w.name}_dequantized`);
  rewire(w.consumers, w.name, output);
  return [makeNode(unique(`${w.name}_DequantizeLinear`), 'DequantizeLinear', [q.name, scale.name, zeroPoint.name], [output], w.axis)];
}

function activationNodes(a: ActivationPlan, mode: QuantizationPlan['activationMode'], unique: (base: string) => string, initializers: OnnxTensor[]): OnnxNode[] {
  const scale = floatTensor(unique(`${a.name}_scale`), [], [a.scale]);
  const zeroPoint =
    mode === 'uint8-asymmetric'
      ? uint8Tensor(unique(`${a.name}_zero_point`), [], Uint8Array.of(a.zeroPoint))
      : int8Tensor(unique(`${a.name}_zero_point`), [], Int8Array.of(a.zeroPoint));
  initializers.push(scale, zeroPoint);
  const quantized = unique(`${a.name}_quantized`);
  const dequantized = unique(`${a.name}_dequantized`);
  return [
    makeNode(unique(`${a.name}_QuantizeLinear`), 'QuantizeLinear', [a.name, scale.name, zeroPoint.name], [quantized]),
    makeNode(unique(`${a.name}_DequantizeLinear`), 'DequantizeLinear', [quantized, scale.name, zeroPoint.name], [dequantized]),
  ];
}

/** The grid a Q/DQ pair puts an activation on (for the activations' bias correction). */
export function qdqGrid(a: Pick<ActivationPlan, 'scale' | 'zeroPoint'>, mode: ActivationMode): ActivationGrid {
  const [qmin, qmax] = mode === 'uint8-asymmetric' ? [0, 255] : [-128, 127];
  return { low: (qmin - a.zeroPoint) * a.scale, high: (qmax - a.zeroPoint) * a.scale, levels: qmax - qmin + 1 };
}
