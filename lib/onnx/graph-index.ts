/** Who produces and who consumes each tensor of a graph: the lookups every graph analysis needs. */
import { DataType, tensorFloats, type OnnxGraph, type OnnxNode, type OnnxTensor } from './model';

export interface GraphIndex {
  /** The node that writes each tensor (graph inputs and initializers have none). */
  producer: Map<string, OnnxNode>;
  /** The nodes that read each tensor, in graph order (a node reading a tensor twice appears once). */
  consumers: Map<string, OnnxNode[]>;
  initializers: Map<string, OnnxTensor>;
  graphInputs: Set<string>;
  graphOutputs: Set<string>;
  /** A unique, stable key per node: its name, or `#<index>` when it has none. */
  nodeKey: Map<OnnxNode, string>;
}

export function indexGraph(graph: OnnxGraph): GraphIndex {
  const producer = new Map<string, OnnxNode>();
  const consumers = new Map<string, OnnxNode[]>();
  const nodeKey = new Map<OnnxNode, string>();
  const seenKeys = new Set<string>();
  graph.nodes.forEach((node, index) => {
    let key = node.name || `#${index}`;
    if (seenKeys.has(key)) key = `${key}#${index}`;
    seenKeys.add(key);
    nodeKey.set(node, key);
    for (const output of node.outputs) if (output) producer.set(output, node);
    for (const input of new Set(node.inputs)) {
      if (!input) continue;
      const list = consumers.get(input);
      if (list) list.push(node);
      else consumers.set(input, [node]);
    }
  });
  return {
    producer,
    consumers,
    initializers: new Map(graph.initializers.map((t) => [t.name, t])),
    // Old exporters list initializers among the inputs too; those are weights, not fed at run time.
    graphInputs: new Set(graph.inputs.map((i) => i.name).filter((name) => !graph.initializers.some((t) => t.name === name))),
    graphOutputs: new Set(graph.outputs.map((o) => o.name)),
    nodeKey,
  };
}

/** The nodes by their key (the reverse of `nodeKey`): how plans, which name nodes by key, find them. */
export function nodesByKey(index: GraphIndex): Map<string, OnnxNode> {
  const result = new Map<string, OnnxNode>();
  for (const [node, key] of index.nodeKey) result.set(key, node);
  return result;
}

/** The one node that reads `tensor`, when exactly one does and it is no graph output (so a rewrite may change it freely). */
export function soleReader(index: GraphIndex, tensor: string): OnnxNode | undefined {
  const readers = index.consumers.get(tensor) ?? [];
  return readers.length === 1 && !index.graphOutputs.has(tensor) ? readers[0] : undefined;
}

/**
 * A QuantizeLinear or DequantizeLinear with one float scale and one UINT8 zero point, both
 * initializers: the per-tensor u8 activation grid ONNX Runtime's QLinear kernels take.
 */
export function hasPerTensorUint8Grid(index: GraphIndex, node: OnnxNode): boolean {
  const scale = index.initializers.get(node.inputs[1]);
  const zero = node.inputs[2] ? index.initializers.get(node.inputs[2]) : undefined;
  return !!scale && scale.dataType === DataType.FLOAT && tensorFloats(scale).length === 1 && !!zero && zero.dataType === DataType.UINT8 && zero.raw?.length === 1;
}

/** A tensor whose value is fixed in the file: an initializer, or the output of a Constant node. */
export function isConstant(index: GraphIndex, tensor: string): boolean {
  if (index.initializers.has(tensor)) return true;
  const node = index.producer.get(tensor);
  return node !== undefined && node.opType === 'Constant' && node.domain === '';
}

/**
 * Names for tensors and nodes a rewrite adds: `base` when no initializer, node output or node of
 * the graph has it yet, else `base_1`, `base_2`... Each name handed out is taken from then on.
 */
export function nameAllocator(graph: OnnxGraph): (base: string) => string {
  const taken = new Set<string>([...graph.initializers.map((t) => t.name), ...graph.nodes.flatMap((n) => [...n.outputs, n.name])]);
  return (base) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
}
