/**
 * Raise a model's default-domain (ai.onnx) opset, e.g. 11 -> 13 so QuantizeLinear and
 * DequantizeLinear can take a per-channel `axis`. Raising only relabels the model, so every node
 * whose operator changed meaning between the two versions is rewritten to the new form, or the
 * raise is refused with an error naming the operator and the node.
 *
 * Changes handled (ONNX Changelog):
 * - opset 12: Dropout's `ratio` attribute became an input.
 * - opset 13: Split's `split`, Squeeze's and Unsqueeze's `axes`, and ReduceSum's `axes`
 *   attributes became inputs; Softmax, LogSoftmax and Hardmax went from "flatten to 2-D at
 *   `axis` and normalise the second dimension" to "normalise along `axis`" (and the default axis
 *   went from 1 to -1): written as Flatten -> op(axis=-1) -> Reshape back, which is the old
 *   meaning exactly; Resize dropped the 'tf_half_pixel_for_nn' mode (refused).
 * Every other ai.onnx operator either kept its meaning from 11 to 13 (most only gained bfloat16)
 * or is refused below. Models older than opset 11 are refused when they hold an operator whose
 * inputs moved between their opset and 11 (Clip, Pad, Slice, TopK, Resize, Upsample...).
 */
import { Int8DetectError } from '../util/errors';
import { attribute, cloneModel, defaultOpset, floatTensor, int64Tensor, type OnnxModel, type OnnxNode } from './model';
import { nameAllocator } from './graph-index';

/** Operators whose meaning changed before opset 11 in ways this module does not rewrite. */
const CHANGED_BEFORE_11 = new Set([
  'Clip',
  'Pad',
  'Slice',
  'TopK',
  'Resize',
  'Upsample',
  'BatchNormalization',
  'Dropout',
  'Scatter',
  'Split',
  'Squeeze',
  'Unsqueeze',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'Gemm',
  'Flatten',
  'Cast',
  'MaxPool',
  'AveragePool',
  'ConvTranspose',
  'Reshape',
]);

/** Operators that hold subgraphs: their bodies would need the same rewriting, which is not done. */
const SUBGRAPH_OPS = new Set(['If', 'Loop', 'Scan']);
/** Removed or deprecated operators that opset 13 no longer accepts. */
const REMOVED_OPS = new Set(['Upsample', 'Scatter']);
const NORMALISING_OPS = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);
/** The lowest IR version that may import opset 13. */
const IR_VERSION_FOR_OPSET_13 = 7;

function refuse(node: OnnxNode, index: number, from: number, to: number, why: string): Int8DetectError {
  const name = node.name ? `'${node.name}'` : `#${index}`;
  return new Int8DetectError('ERR_MODEL', `Cannot raise the model's opset from ${from} to ${to}: ${node.opType} node ${name} ${why}`);
}

/**
 * A copy of `model` whose default-domain opset is at least `target` (13 by default); the model
 * itself is returned unchanged when it already is. Throws Int8DetectError('ERR_MODEL') naming the
 * operator and node when a node cannot be carried over.
 */
export function raiseOpset(model: OnnxModel, target = 13): OnnxModel {
  const from = defaultOpset(model);
  if (from >= target) return model;
  if (target > 13) throw new Int8DetectError('ERR_ARGUMENT', `Raising a model's opset is supported up to 13, not ${target}`);
  if (from === 0) throw new Int8DetectError('ERR_MODEL', `Cannot raise the model's opset to ${target}: it imports no ai.onnx opset`);
  const out = cloneModel(model);
  const unique = nameAllocator(out.graph);
  const nodes: OnnxNode[] = [];
  out.graph.nodes.forEach((node, index) => {
    if (node.domain !== '') {
      nodes.push(node);
      return;
    }
    if (SUBGRAPH_OPS.has(node.opType)) throw refuse(node, index, from, target, 'holds subgraphs, which are not rewritten');
    if (REMOVED_OPS.has(node.opType)) throw refuse(node, index, from, target, `is not part of opset ${target}`);
    if (from < 11 && CHANGED_BEFORE_11.has(node.opType)) {
      throw refuse(node, index, from, target, `changed meaning between opset ${from} and 11, which is not rewritten`);
    }
    const moveIntsToInput = (attr: string, position: number) => {
      const a = attribute(node, attr);
      if (!a) return;
      const name = unique(`${node.name || node.opType}_${attr}`);
      out.graph.initializers.push(int64Tensor(name, [a.ints!.length], a.ints!));
      while (node.inputs.length < position) node.inputs.push('');
      node.inputs[position] = name;
      node.attributes = node.attributes.filter((x) => x !== a);
    };
    if (from < 12 && target >= 12 && node.opType === 'Dropout') {
      const ratio = attribute(node, 'ratio');
      if (ratio) {
        const name = unique(`${node.name || 'Dropout'}_ratio`);
        out.graph.initializers.push(floatTensor(name, [], [ratio.f ?? 0.5]));
        node.inputs[1] = name;
        node.attributes = node.attributes.filter((x) => x !== ratio);
      }
    }
    if (from < 13 && target >= 13) {
      switch (node.opType) {
        case 'Split':
          moveIntsToInput('split', 1);
          break;
        case 'Squeeze':
        case 'Unsqueeze':
        case 'ReduceSum':
          moveIntsToInput('axes', 1);
          break;
        case 'Resize': {
          const mode = attribute(node, 'coordinate_transformation_mode')?.s;
          if (mode === 'tf_half_pixel_for_nn') throw refuse(node, index, from, target, `uses coordinate_transformation_mode 'tf_half_pixel_for_nn', which opset 13 removed`);
          break;
        }
        default:
          if (NORMALISING_OPS.has(node.opType)) {
            nodes.push(...rewriteNormalising(node, unique));
            return;
          }
      }
    }
    nodes.push(node);
  });
  out.graph.nodes = nodes;
  out.opsetImports = out.opsetImports.map((o) => (o.domain === '' || o.domain === 'ai.onnx' ? { domain: o.domain, version: target } : o));
  out.irVersion = Math.max(out.irVersion, IR_VERSION_FOR_OPSET_13);
  return out;
}

/**
 * Softmax-like ops before opset 13 flatten the input to 2-D at `axis` and normalise the second
 * dimension. With axis -1 that is the new per-axis meaning already; otherwise write the old
 * meaning out: Flatten(axis) -> op(axis=-1) -> Reshape to the input's shape.
 */
function rewriteNormalising(node: OnnxNode, unique: (base: string) => string): OnnxNode[] {
  const axis = attribute(node, 'axis')?.i ?? 1;
  const others = node.attributes.filter((a) => a.name !== 'axis');
  const lastAxis = { name: 'axis', type: 2, i: -1, extra: [] };
  if (axis === -1) return [{ ...node, attributes: [...others, lastAxis] }];
  const base = node.name || node.opType;
  const flat = unique(`${base}_flat`);
  const normalised = unique(`${base}_2d`);
  const shape = unique(`${base}_shape`);
  return [
    { name: unique(`${base}_flatten`), opType: 'Flatten', domain: '', inputs: [node.inputs[0]], outputs: [flat], attributes: [{ name: 'axis', type: 2, i: axis, extra: [] }], extra: [] },
    { ...node, inputs: [flat], outputs: [normalised], attributes: [...others, lastAxis] },
    { name: unique(`${base}_input_shape`), opType: 'Shape', domain: '', inputs: [node.inputs[0]], outputs: [shape], attributes: [], extra: [] },
    { name: unique(`${base}_reshape`), opType: 'Reshape', domain: '', inputs: [normalised, shape], outputs: node.outputs.slice(), attributes: [], extra: [] },
  ];
}

/** ONNX Runtime's contrib operators (QLinearSigmoid, QLinearMul, QuickGelu...). */
export const MICROSOFT_DOMAIN = 'com.microsoft';

/** The model importing ONNX Runtime's contrib domain (version 1), for a lowering that adds its operators. */
export function withMicrosoftDomain(model: OnnxModel): OnnxModel {
  return model.opsetImports.some((o) => o.domain === MICROSOFT_DOMAIN) ? model : { ...model, opsetImports: [...model.opsetImports, { domain: MICROSOFT_DOMAIN, version: 1 }] };
}
