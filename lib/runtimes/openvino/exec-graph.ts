import type { NativeOpenVinoExecNode } from './native-types';

/** Layers whose multiply-accumulates are the model's cost: the ones worth running in INT8. */
const COMPUTE_LAYERS = new Set(['Convolution', 'GroupConvolution', 'Deconvolution', 'FullyConnected', 'MatMul']);

/** "38 of 64 convolution/matmul layers run in INT8 kernels", from the compiled graph. */
export function describeExecGraph(nodes: readonly NativeOpenVinoExecNode[]): { computeLayers: number; int8Layers: number; text: string } {
  const compute = nodes.filter((node) => COMPUTE_LAYERS.has(node.layerType));
  const int8 = compute.filter((node) => /^(I8|U8)$/i.test(node.runtimePrecision) || /_I8$|_U8$/i.test(node.primitiveType));
  return {
    computeLayers: compute.length,
    int8Layers: int8.length,
    text: `${int8.length} of ${compute.length} convolution/matmul layers run in INT8 kernels`,
  };
}
