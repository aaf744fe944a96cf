/**
 * Per-layer FP32-against-INT8 error for the report: the float model and the written Q/DQ model
 * run on a few held-back frames, on the embedded runtime, with each quantized activation exposed
 * as an output (as calibration does). In the Q/DQ model the value compared is the
 * DequantizeLinear output, what the next layer reads: it carries the tensor's own rounding and
 * clipping and every error accumulated before it. Exposing a tensor can keep ONNX Runtime from
 * fusing that node into an INT8 kernel; the float kernel then computes the same products on the
 * same dequantized values, so the figures differ from the fused model's only by float rounding.
 */
import type { PreprocessSpec } from '../detect/types';
import { decodeModel, type OnnxModel } from '../onnx/model';
import '../runtimes/builtin';
import { embeddedBackend } from '../runtimes/registry';
import type { InputTensor, RawTensor } from '../runtimes/session';

export interface LayerError {
  /** The activation's name in the float model. */
  name: string;
  /** Signal-to-quantization-noise ratio, 10 log10(sum x^2 / sum (x - q)^2), over the frames; Infinity when equal. */
  sqnrDb: number;
  /** Cosine similarity of the FP32 and INT8 values. */
  cosine: number;
  /** The tensor has Q/DQ in the written model (false: kept in float, its error is only what it inherits). */
  quantized: boolean;
}

/** Each activation's name in the Q/DQ model: the output of its DequantizeLinear, or its own name when it has none. */
export function dequantizedNames(qdq: OnnxModel, tensors: readonly string[]): Map<string, { name: string; quantized: boolean }> {
  const quantizeOutput = new Map<string, string>();
  const dequantizeOutput = new Map<string, string>();
  for (const node of qdq.graph.nodes) {
    if (node.opType === 'QuantizeLinear') quantizeOutput.set(node.inputs[0], node.outputs[0]);
    if (node.opType === 'DequantizeLinear') dequantizeOutput.set(node.inputs[0], node.outputs[0]);
  }
  const result = new Map<string, { name: string; quantized: boolean }>();
  for (const tensor of tensors) {
    const q = quantizeOutput.get(tensor);
    const dq = q === undefined ? undefined : dequantizeOutput.get(q);
    result.set(tensor, dq === undefined ? { name: tensor, quantized: false } : { name: dq, quantized: true });
  }
  return result;
}

function inputDims(spec: PreprocessSpec): number[] {
  const channels = spec.channelOrder === 'gray' ? 1 : 3;
  return spec.layout === 'nchw' ? [1, channels, spec.height, spec.width] : [1, spec.height, spec.width, channels];
}

async function runExposed(model: OnnxModel, tensors: readonly string[], feeds: readonly InputTensor['data'][], spec: PreprocessSpec, threads: number | undefined, each: (frame: number, values: (name: string) => Float32Array | undefined) => void): Promise<void> {
  const inputs = new Set(model.graph.inputs.map((i) => i.name));
  // The embedded runtime runs both models with the tensors exposed, as calibration does.
  const session = await embeddedBackend().statisticsSession!(threads ?? 0)(model, tensors.filter((t) => !inputs.has(t)));
  try {
    const input = session.inputs[0].name;
    for (const [f, data] of feeds.entries()) {
      const { outputs } = await session.run({ [input]: { data, dims: inputDims(spec) } });
      each(f, (name) => {
        if (inputs.has(name)) return data instanceof Float32Array ? data : undefined;
        const tensor: RawTensor | undefined = outputs[name];
        return tensor && tensor.data instanceof Float32Array ? tensor.data : undefined;
      });
    }
  } finally {
    await session.dispose();
  }
}

/** SQNR and cosine of every `tensors` entry, INT8 model against FP32, over `feeds` (preprocessed frames). */
export async function layerErrors(options: {
  fp32: OnnxModel;
  int8: Uint8Array;
  tensors: readonly string[];
  feeds: readonly InputTensor['data'][];
  preprocess: PreprocessSpec;
  threads?: number;
}): Promise<LayerError[]> {
  const qdq = decodeModel(options.int8);
  const names = dequantizedNames(qdq, options.tensors);
  // One pass of the float model keeps its values (a few frames of one small detector's activations),
  // then the INT8 pass compares against them as it goes.
  const reference = options.feeds.map(() => new Map<string, Float32Array>());
  await runExposed(options.fp32, options.tensors, options.feeds, options.preprocess, options.threads, (f, values) => {
    for (const t of options.tensors) {
      const v = values(t);
      if (v) reference[f].set(t, v);
    }
  });
  const sums = new Map(options.tensors.map((t) => [t, { ref: 0, noise: 0, dot: 0, q: 0 }]));
  await runExposed(qdq, [...names.values()].map((n) => n.name), options.feeds, options.preprocess, options.threads, (f, values) => {
    for (const t of options.tensors) {
      const ref = reference[f].get(t);
      const q = values(names.get(t)!.name);
      if (!ref || !q || q.length !== ref.length) continue;
      const s = sums.get(t)!;
      for (let i = 0; i < ref.length; i++) {
        const d = q[i] - ref[i];
        s.ref += ref[i] * ref[i];
        s.noise += d * d;
        s.dot += ref[i] * q[i];
        s.q += q[i] * q[i];
      }
    }
    reference[f].clear();
  });
  return options.tensors.map((t) => {
    const s = sums.get(t)!;
    const sqnrDb = s.noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(s.ref / s.noise);
    const cosine = s.ref === 0 || s.q === 0 ? (s.ref === s.q ? 1 : 0) : s.dot / Math.sqrt(s.ref * s.q);
    return { name: t, sqnrDb, cosine, quantized: names.get(t)!.quantized };
  });
}
