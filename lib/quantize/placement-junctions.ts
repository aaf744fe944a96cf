/**
 * INT8 junctions: the Concat, Add, MaxPool, Resize, Slice and Split nodes between quantized
 * convolutions, quantized on every edge so they run on 8-bit data instead of as float islands.
 *
 * The portable placement (placement.ts) quantizes a tensor only where a compute node reads it:
 * a residual Add or a Concat reads float, so in ONNX Runtime every junction costs a
 * DequantizeLinear per input, the float op, and a QuantizeLinear where the next conv reads it,
 * plus Transposes around the float ops in its NHWC INT8 layout. With Q/DQ on every input and
 * output of a junction, ONNX Runtime fuses them (QLinearConcat, QLinearAdd) or drops the Q/DQ
 * pairs around the data-movement ops (MaxPool, Slice, Split) and runs those on uint8; measured on
 * yolox_nano (AVX2, 1 thread, CPU time): 1.26x FP32's time to 1.17x, mAP on coco/eval unchanged
 * (0.2629 to 0.2628); yolov8n 0.3849 to 0.3867.
 *
 * Ops that only move values (MaxPool, Slice, Split) keep their input's scale and zero point
 * on their outputs (`alignWith`): the same grid in and out is what lets the runtime drop the pair
 * and run the op on integers; an Add gets its own range (QLinearAdd rescales each input), and a
 * Concat's inputs join its output's grid where that costs their other readers nothing
 * (`sharedGrids`, shared-grids.ts: QLinearConcat then copies instead of requantizing). The
 * detection head, where no quantized conv follows, stays float.
 */
import { indexGraph, isConstant } from '../onnx/graph-index';
import type { OnnxModel, OnnxNode } from '../onnx/model';
import type { ActivationSite, Placement } from './placement';

/** Junction ops quantized on every edge. */
const JUNCTIONS = new Set(['Concat', 'Add', 'MaxPool', 'Resize', 'Slice', 'Split']);
/**
 * Of those, the ops whose outputs take their input's grid, so ONNX Runtime drops the Q/DQ pair and
 * runs them on uint8. Not Resize: its uint8 kernel took 0.68-0.97 ms for yolov8n's two nearest 2x
 * upsamplings where DQ -> float Resize -> Q took 0.55-0.58 (onnxruntime 1.32 and 1.30, VNNI CPU);
 * its output gets a grid of its own, which its Concat's shared grid then takes over.
 */
const VALUE_MOVING = new Set(['MaxPool', 'Slice', 'Split']);
/** Ops with one data input, the first; the rest (Resize's roi, scales and sizes, Slice's bounds) are not activations. */
const ONE_DATA_INPUT = new Set([...VALUE_MOVING, 'Resize']);

/** The data input of a one-data-input op. */
function dataInput(node: OnnxNode): string {
  return node.inputs[0];
}

export function addInt8Junctions(model: OnnxModel, placement: Placement): Placement {
  const index = indexGraph(model.graph);
  const key = (n: OnnxNode) => index.nodeKey.get(n)!;
  const quantizedCompute = new Set(placement.compute.filter((c) => c.quantized).map((c) => c.node));
  if (quantizedCompute.size === 0) return placement;
  // Nodes from which a quantized compute node is reachable: the junctions between quantized convs.
  const feeds = new Map<OnnxNode, boolean>();
  const nodes = model.graph.nodes;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    feeds.set(
      node,
      node.outputs.some((o) => (index.consumers.get(o) ?? []).some((c) => quantizedCompute.has(key(c)) || feeds.get(c))),
    );
  }
  const sites = new Map(placement.activations.map((a) => [a.tensor, { ...a, consumers: a.consumers.slice() }]));
  const producerKey = (tensor: string) => {
    const p = index.producer.get(tensor);
    return p ? key(p) : '';
  };
  /** Quantize `tensor` for every reader (all of them read the one DequantizeLinear). */
  const quantizeAll = (tensor: string, reason: string, alignWith?: string) => {
    if (isConstant(index, tensor) || index.graphOutputs.has(tensor)) return;
    const readers = (index.consumers.get(tensor) ?? []).map(key);
    const site: ActivationSite = sites.get(tensor) ?? { tensor, consumers: [], producer: producerKey(tensor), reason };
    for (const r of readers) if (!site.consumers.includes(r)) site.consumers.push(r);
    if (!sites.has(tensor)) sites.set(tensor, site);
    else if (!site.reason.includes(reason)) site.reason = `${site.reason}; ${reason}`;
    if (alignWith !== undefined && site.alignWith === undefined) site.alignWith = alignWith;
  };
  /** The tensor whose grid `tensor` ends up on, following alignments. */
  const root = (tensor: string): string => {
    let t = tensor;
    for (let hops = 0; hops < 64; hops++) {
      const next = sites.get(t)?.alignWith;
      if (next === undefined) return t;
      t = next;
    }
    return t;
  };
  const sharedGrids: string[][] = [];
  for (const node of nodes) {
    if (node.domain !== '' || !JUNCTIONS.has(node.opType) || !feeds.get(node) || placement.head.has(key(node))) continue;
    const name = key(node);
    const inputs = ONE_DATA_INPUT.has(node.opType) ? [dataInput(node)] : node.inputs.filter((i) => i !== '');
    for (const input of inputs) quantizeAll(input, `input of ${node.opType} ${name}`);
    // A Concat of tensors that all share one grid (YOLOX's Focus: four phases of the image) keeps
    // it: QLinearConcat then copies, and the Focus lowering can run SpaceToDepth on the 8-bit image.
    const roots = node.opType === 'Concat' ? new Set(inputs.map(root)) : undefined;
    const concatGrid = roots && roots.size === 1 && inputs.every((i) => sites.get(i)?.alignWith !== undefined) ? [...roots][0] : undefined;
    for (const output of node.outputs) {
      if (output === '') continue;
      quantizeAll(output, `output of ${node.opType} ${name}`, VALUE_MOVING.has(node.opType) ? dataInput(node) : concatGrid);
    }
    if (node.opType === 'Concat' && concatGrid === undefined && sites.has(node.outputs[0])) sharedGrids.push([node.outputs[0], ...inputs.filter((i) => sites.has(i))]);
  }
  // The portable sites keep their order (the search's ranking breaks ties by it); new ones follow.
  return { ...placement, activations: [...sites.values()], sharedGrids: [...(placement.sharedGrids ?? []), ...sharedGrids] };
}
