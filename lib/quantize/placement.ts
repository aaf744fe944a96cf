/**
 * Where Q/DQ goes: which activations and weights are quantized, which nodes stay in float, and
 * why. The rules and their reasons are in docs/quantization.md; in short:
 *
 * - Conv, ConvTranspose, MatMul and Gemm are the compute nodes. Each one's activation input, its
 *   weight (per output channel) and its output are quantized, which is the DQ -> op -> Q pattern
 *   ONNX Runtime fuses into an INT8 kernel (QLinearConv, QLinearMatMul, QGemm). Without the Q on
 *   the output the runtime runs the op in float on dequantized data: all the error, no speed.
 * - Everything else (SiLU's Sigmoid and Mul, residual Add, Concat, MaxPool, Resize, Split...) runs
 *   in float between the DQ of its inputs and the Q of the next compute node's input. A tensor is
 *   quantized only on the edges to the compute nodes that read it: the SiLU product x*sigmoid(x)
 *   is quantized once, where a Conv consumes it, and a residual Add reads the exact float value.
 *   Scales therefore never need to line up across an Add or a Concat.
 * - The detection head stays in float: every node after which no Conv follows (the last 1x1
 *   prediction convs, the sigmoids, the box decode arithmetic, the final concat of box pixels
 *   with 0..1 probabilities), plus, for YOLOv8/11, the DFL: a Conv fed by a Softmax is a fixed
 *   expectation filter (weights 0..15), decode arithmetic rather than a feature layer.
 * - An ignored scope (node names, op types, regular expressions over node names) keeps
 *   compute nodes in float.
 */
import { invalidArgument } from '../util/errors';
import { indexGraph, isConstant, type GraphIndex } from '../onnx/graph-index';
import { intAttribute, type OnnxModel, type OnnxNode } from '../onnx/model';

export const COMPUTE_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);
/** Ops that only move or reshape data: a Softmax reached through them still feeds the DFL conv. */
const SHAPE_OPS = new Set(['Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity']);

export interface IgnoredScope {
  /** Exact node names. */
  names?: readonly string[];
  /** Operator types ('Conv', 'MatMul'...). */
  types?: readonly string[];
  /** Regular expressions (or their source text) tested against node names. */
  patterns?: readonly (RegExp | string)[];
}

export interface ActivationSite {
  tensor: string;
  /** The nodes that read the quantized (Q -> DQ) value; other readers keep the float one. */
  consumers: string[];
  /** The node that writes the tensor ('' for a graph input). */
  producer: string;
  reason: string;
  /**
   * Take this other tensor's scale and zero point rather than a range of one's own (an op that
   * only moves values, MaxPool or Resize, with the same grid in and out: placement-junctions.ts).
   */
  alignWith?: string;
}

export interface WeightSite {
  tensor: string;
  consumers: string[];
  /** The output-channel axis the per-channel scales run along. */
  axis: number;
  dims: number[];
}

export interface ComputeSite {
  node: string;
  opType: string;
  input: string;
  /** The weight's tensor name; '' when the op's second operand is itself an activation. */
  weight: string;
  output: string;
  /** Whether this node was placed for INT8 (false: head or ignored scope). */
  quantized: boolean;
  reason: string;
}

export interface FloatNode {
  node: string;
  opType: string;
  reason: string;
}

export interface Placement {
  activations: ActivationSite[];
  weights: WeightSite[];
  compute: ComputeSite[];
  /** Nodes kept in float on purpose (the head, the ignored scope). */
  floatNodes: FloatNode[];
  /** Node keys of the detection head. */
  head: Set<string>;
  /**
   * Tensors that run faster on one grid, each list led by the tensor the others join (a Concat's
   * output, then its inputs: shared-grids.ts). Absent: every tensor keeps its own range.
   */
  sharedGrids?: string[][];
}

export interface PlacementOptions {
  ignoredScope?: IgnoredScope;
}

function checkIgnoredScope(scope: IgnoredScope): { names: Set<string>; types: Set<string>; patterns: RegExp[] } {
  if (typeof scope !== 'object' || scope === null) throw invalidArgument('an object { names, types, patterns }', 'ignoredScope', scope);
  const strings = (value: unknown, name: string): string[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalidArgument('an array of strings', name, value);
    return value as string[];
  };
  const patterns = (scope.patterns ?? []).map((p, i) => {
    if (p instanceof RegExp) return p;
    if (typeof p !== 'string') throw invalidArgument('a RegExp or a string', `ignoredScope.patterns[${i}]`, p);
    try {
      return new RegExp(p);
    } catch {
      throw invalidArgument('a valid regular expression', `ignoredScope.patterns[${i}]`, p);
    }
  });
  return { names: new Set(strings(scope.names, 'ignoredScope.names')), types: new Set(strings(scope.types, 'ignoredScope.types')), patterns };
}

function isCompute(node: OnnxNode): boolean {
  return node.domain === '' && COMPUTE_OPS.has(node.opType);
}

/** YOLOv8/11's DFL: a Conv whose input comes, through shape-only ops, from a Softmax. */
function isDistributionDecode(node: OnnxNode, index: GraphIndex): boolean {
  if (node.opType !== 'Conv') return false;
  let producer = index.producer.get(node.inputs[0]);
  for (let hops = 0; producer && hops < 4; hops++) {
    if (producer.opType === 'Softmax') return true;
    if (!SHAPE_OPS.has(producer.opType)) return false;
    producer = index.producer.get(producer.inputs[0]);
  }
  return false;
}

/**
 * The detection head: nodes after which no feature Conv follows (a DFL conv does not count).
 * Walks the graph backwards from the outputs in reverse topological order.
 */
export function findHead(model: OnnxModel, index: GraphIndex = indexGraph(model.graph)): Set<string> {
  const nodes = model.graph.nodes;
  const feedsConv = new Map<OnnxNode, boolean>();
  const featureConv = (n: OnnxNode) => isCompute(n) && !isDistributionDecode(n, index);
  // ONNX nodes are topologically sorted, so consumers come later: one backward pass suffices.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    let result = false;
    for (const output of node.outputs) {
      for (const consumer of index.consumers.get(output) ?? []) {
        if (featureConv(consumer) || feedsConv.get(consumer)) {
          result = true;
          break;
        }
      }
      if (result) break;
    }
    feedsConv.set(node, result);
  }
  const head = new Set<string>();
  for (const node of nodes) if (!feedsConv.get(node)) head.add(index.nodeKey.get(node)!);
  return head;
}

/** The axis of a compute node's weight that indexes output channels. */
function weightAxis(node: OnnxNode, rank: number): number {
  switch (node.opType) {
    case 'ConvTranspose':
      return 1;
    case 'Gemm':
      return intAttribute(node, 'transB', 0) ? 0 : 1;
    case 'MatMul':
      return rank - 1;
    default:
      return 0;
  }
}

export function placeQuantization(model: OnnxModel, options: PlacementOptions = {}): Placement {
  const scope = checkIgnoredScope(options.ignoredScope ?? {});
  const index = indexGraph(model.graph);
  const head = findHead(model, index);
  const key = (n: OnnxNode) => index.nodeKey.get(n)!;
  const activations = new Map<string, ActivationSite>();
  const weights = new Map<string, WeightSite>();
  const compute: ComputeSite[] = [];
  const floatNodes: FloatNode[] = [];
  const producerKey = (tensor: string) => {
    const p = index.producer.get(tensor);
    return p ? key(p) : '';
  };
  const addActivation = (tensor: string, consumers: OnnxNode[], reason: string) => {
    const site = activations.get(tensor) ?? { tensor, consumers: [], producer: producerKey(tensor), reason };
    for (const c of consumers) if (!site.consumers.includes(key(c))) site.consumers.push(key(c));
    if (!activations.has(tensor)) activations.set(tensor, site);
    else if (!site.reason.includes(reason)) site.reason = `${site.reason}; ${reason}`;
  };

  for (const node of model.graph.nodes) {
    const name = key(node);
    const ignored = scope.names.has(node.name) || scope.types.has(node.opType) || scope.patterns.some((p) => p.test(node.name));
    if (!isCompute(node)) {
      if (head.has(name)) floatNodes.push({ node: name, opType: node.opType, reason: 'detection head: no Conv follows it' });
      continue;
    }
    const [input, second] = node.inputs;
    const output = node.outputs[0];
    const weightTensor = second && isConstant(index, second) ? index.initializers.get(second) : undefined;
    const site: ComputeSite = { node: name, opType: node.opType, input, weight: weightTensor ? second : '', output, quantized: false, reason: '' };
    compute.push(site);
    if (isDistributionDecode(node, index)) site.reason = 'detection head: DFL decode (a Conv fed by a Softmax)';
    else if (head.has(name)) site.reason = 'detection head: no Conv follows it';
    else if (ignored) site.reason = 'ignored scope';
    else if (second && isConstant(index, second) && !weightTensor) site.reason = 'its weight is a Constant node, not an initializer';
    else if (weightTensor && weightTensor.dataType !== 1) site.reason = `its weight is not float (data type ${weightTensor.dataType})`;
    if (site.reason) {
      floatNodes.push({ node: name, opType: node.opType, reason: site.reason });
      continue;
    }
    site.quantized = true;
    site.reason = 'DQ -> op -> Q fuses into an INT8 kernel';
    addActivation(input, [node], `input of ${node.opType} ${name}`);
    if (weightTensor) {
      const w = weights.get(second) ?? { tensor: second, consumers: [], axis: weightAxis(node, weightTensor.dims.length), dims: weightTensor.dims.slice() };
      w.consumers.push(name);
      weights.set(second, w);
    } else if (second) {
      addActivation(second, [node], `second operand of ${node.opType} ${name}`);
    }
    // Every reader of the output gets the dequantized value: the runtime fuses the Q into the
    // op only when the Q is the output's sole consumer.
    addActivation(output, index.consumers.get(output) ?? [], `output of ${node.opType} ${name}`);
  }
  return { activations: [...activations.values()], weights: [...weights.values()], compute, floatNodes, head };
}
