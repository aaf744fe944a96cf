/**
 * Statistics collection: the FP32 model, with every tensor to quantize added to its outputs, runs
 * on a runtime's session (the caller's `openSession`: ONNX Runtime or OpenVINO, in a worker) over
 * the calibrator's batches, and each exposed tensor is streamed into its ActivationStatistics
 * (running range and histogram, native). Nothing is kept between batches but the statistics, so
 * memory does not grow with the calibration set.
 */
import type { BackendSession, InputTensor, RawTensor } from '../runtimes/session';
import { Int8DetectError, invalidArgument } from '../util/errors';
import { cloneModel, DataType, tensorTypeBytes, type OnnxModel } from '../onnx/model';
import { abortError } from './calibrator';
import { foldChannelRoundingBias, foldChannelSums, type ActivationGrid } from './bias-correction';
import { channelCount } from './channel-spans';
import { foldChannelMaxima } from './equalize';
import { ActivationStatistics } from './statistics';
import type { CalibrationBatch, Calibrator } from './types';

export interface CollectOptions {
  /** Tensors to gather statistics for (activations: node outputs or graph inputs). */
  tensors: readonly string[];
  /**
   * Further tensors to gather statistics for where they turn out to be float32 (others are
   * dropped): e.g. every tensor of the network, for a TensorRT calibration cache.
   */
  optionalTensors?: readonly string[];
  /** Further tensors whose shapes are wanted (for counting multiply-accumulates), without statistics. */
  shapeTensors?: readonly string[];
  /** Histogram bins and percentile for the statistics (the statistics module's defaults otherwise). */
  bins?: number;
  percentile?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { frames: number; total?: number; batches: number }) => void;
  /**
   * The runtime that computes the float model with `exposed` as extra outputs (ONNX Runtime,
   * OpenVINO: the statistics describe what that runtime computes).
   */
  openSession: (model: OnnxModel, exposed: readonly string[]) => Promise<StatisticsSession>;
  /** Tensors whose per-channel (axis 1) largest |value| is wanted, e.g. for channel equalization. */
  channelMaxima?: readonly string[];
  /** Tensors whose per-channel (axis 1) mean is wanted, e.g. for bias correction. */
  channelMeans?: readonly string[];
  /**
   * Tensors whose per-channel (axis 1) mean rounding error on a quantization grid is wanted,
   * E[fq(x) - clip(x)] (rounding, not clipping), e.g. for the activations' bias correction.
   */
  channelRoundingBias?: ReadonlyMap<string, ActivationGrid>;
  /** Stop after this many frames (a pre-pass over a subset); all the calibrator gives when absent. */
  maxFrames?: number;
}

/** What collection needs of a runtime session. */
export type StatisticsSession = Pick<BackendSession, 'inputs' | 'run' | 'dispose'>;

export interface CollectedStatistics {
  statistics: Map<string, ActivationStatistics>;
  /** Each exposed tensor's shape for one frame (batch dimension 1). */
  shapes: Map<string, number[]>;
  /** Per-channel largest |value| of each `channelMaxima` tensor. */
  channelMaxima: Map<string, Float32Array>;
  /** Per-channel mean of each `channelMeans` tensor. */
  channelMeans: Map<string, Float64Array>;
  /** Per-channel mean of fq(x) - clip(x) of each `channelRoundingBias` tensor. */
  channelRoundingBias: Map<string, Float64Array>;
  frames: number;
  batches: number;
  seconds: number;
}

/** The model with `tensors` added to its graph outputs (those that are not already outputs or inputs). */
export function exposeTensors(model: OnnxModel, tensors: Iterable<string>): OnnxModel {
  const out = cloneModel(model);
  const present = new Set([...out.graph.outputs.map((o) => o.name), ...out.graph.inputs.map((i) => i.name)]);
  const produced = new Set(out.graph.nodes.flatMap((n) => n.outputs));
  for (const tensor of tensors) {
    if (present.has(tensor)) continue;
    if (!produced.has(tensor)) throw new Int8DetectError('ERR_MODEL', `Tensor '${tensor}' is not produced by any node of the model`);
    present.add(tensor);
    out.graph.outputs.push({ name: tensor, type: tensorTypeBytes(DataType.FLOAT), extra: [] });
  }
  return out;
}

/** Each batch, as the model accepts it: split into single frames for a model of fixed batch 1. */
function* fitBatch(batch: CalibrationBatch, expected: readonly (number | string)[], inputName: string): Generator<InputTensor> {
  const dims = batch.dims;
  const describe = (d: readonly (number | string)[]) => `[${d.join(', ')}]`;
  const elements = dims.reduce((a, b) => a * b, 1);
  const wrong = (why: string) =>
    new Int8DetectError('ERR_ARGUMENT', `Calibration batch of shape ${describe(dims)} does not fit the model input '${inputName}' of shape ${describe(expected)}: ${why}`);
  if (!Array.isArray(dims) || dims.some((d) => !Number.isInteger(d) || d < 1)) throw invalidArgument('positive integer dims', 'batch.dims', dims);
  if (elements !== batch.data.length) throw wrong(`the data holds ${batch.data.length} elements, the dims say ${elements}`);
  if (dims.length !== expected.length) throw wrong(`rank ${dims.length}, expected ${expected.length}`);
  for (let i = 1; i < dims.length; i++) {
    if (typeof expected[i] === 'number' && expected[i] !== dims[i]) throw wrong(`dimension ${i} is ${dims[i]}, expected ${expected[i]}`);
  }
  const fixedBatch = typeof expected[0] === 'number' ? expected[0] : undefined;
  if (fixedBatch === undefined || fixedBatch === dims[0]) {
    yield { data: batch.data, dims };
    return;
  }
  if (fixedBatch !== 1) throw wrong(`the model takes exactly ${fixedBatch} frames a run`);
  const frame = elements / dims[0];
  for (let n = 0; n < dims[0]; n++) yield { data: batch.data.subarray(n * frame, (n + 1) * frame), dims: [1, ...dims.slice(1)] };
}

/** Running per-channel sums of one tensor and the elements per channel they hold. */
interface ChannelSums {
  sums: Float64Array;
  count: number;
}

/** Folds one batch into `name`'s running sums (made on first sight), `fold` returning the elements per channel it added. */
function foldMean(into: Map<string, ChannelSums>, name: string, dims: readonly number[], fold: (sums: Float64Array) => number): void {
  let entry = into.get(name);
  if (!entry) into.set(name, (entry = { sums: new Float64Array(channelCount(dims)), count: 0 }));
  entry.count += fold(entry.sums);
}

export async function collectStatistics(model: OnnxModel, calibrator: Calibrator, options: CollectOptions): Promise<CollectedStatistics> {
  if (!calibrator || typeof calibrator[Symbol.asyncIterator] !== 'function') throw invalidArgument('a Calibrator (an async iterable of batches)', 'calibrator', calibrator);
  if (!Array.isArray(options.tensors)) throw invalidArgument('an array of tensor names', 'options.tensors', options.tensors);
  const started = Date.now();
  const initializerNames = new Set(model.graph.initializers.map((t) => t.name));
  const inputNames = new Set(model.graph.inputs.map((i) => i.name).filter((name) => !initializerNames.has(name)));
  const produced = new Set(model.graph.nodes.flatMap((n) => n.outputs));
  const statistics = new Map<string, ActivationStatistics>();
  const statsOptions = { ...(options.bins !== undefined ? { bins: options.bins } : {}), ...(options.percentile !== undefined ? { percentile: options.percentile } : {}) };
  for (const tensor of options.tensors) statistics.set(tensor, new ActivationStatistics(tensor, statsOptions));
  const optional = new Set((options.optionalTensors ?? []).filter((t) => !statistics.has(t) && (inputNames.has(t) || produced.has(t))));
  for (const tensor of optional) statistics.set(tensor, new ActivationStatistics(tensor, statsOptions));
  const channelMaxima = new Map<string, Float32Array>();
  const wantChannels = new Set(options.channelMaxima ?? []);
  const channelSums = new Map<string, ChannelSums>();
  const wantMeans = new Set(options.channelMeans ?? []);
  const grids = options.channelRoundingBias ?? new Map<string, ActivationGrid>();
  const roundingSums = new Map<string, ChannelSums>();
  const exposed = [...new Set([...statistics.keys(), ...(options.shapeTensors ?? []), ...wantChannels, ...wantMeans, ...grids.keys()])].filter((t) => !inputNames.has(t));
  if (typeof options.openSession !== 'function') throw invalidArgument('a function opening a statistics session', 'options.openSession', options.openSession);
  const session: StatisticsSession = await options.openSession(model, exposed);
  const shapes = new Map<string, number[]>();
  let frames = 0;
  let batches = 0;
  try {
    const input = session.inputs[0];
    for await (const batch of calibrator) {
      if (options.signal?.aborted) throw abortError(options.signal);
      if (batch.input !== input.name && session.inputs.length === 1) {
        throw new Int8DetectError('ERR_ARGUMENT', `Calibration batch is for input '${batch.input}', but the model's input is '${input.name}'`);
      }
      for (const feed of fitBatch(batch, input.dims, input.name)) {
        const { outputs } = await session.run({ [input.name]: feed });
        if (options.signal?.aborted) throw abortError(options.signal);
        const range: [number, number] = [frames, frames + feed.dims[0] - 1];
        const perFrame = (dims: readonly number[]) => [1, ...dims.slice(1)];
        // Graph inputs cannot be graph outputs: their statistics come from the batch itself.
        const tensors: Record<string, Pick<RawTensor, 'data' | 'dims'>> = { ...outputs };
        for (const name of inputNames) if (statistics.has(name) || wantMeans.has(name) || grids.has(name)) tensors[name] = feed;
        for (const [name, tensor] of Object.entries(tensors)) {
          if (!shapes.has(name)) shapes.set(name, perFrame(tensor.dims));
          if (wantChannels.has(name) && tensor.data instanceof Float32Array) channelMaxima.set(name, foldChannelMaxima(tensor.data, tensor.dims, channelMaxima.get(name)));
          const grid = grids.get(name);
          if (tensor.data instanceof Float32Array) {
            const data = tensor.data;
            if (wantMeans.has(name)) foldMean(channelSums, name, tensor.dims, (sums) => foldChannelSums(data, tensor.dims, sums));
            if (grid) foldMean(roundingSums, name, tensor.dims, (sums) => foldChannelRoundingBias(data, tensor.dims, grid, sums));
          }
          const stats = statistics.get(name);
          if (!stats) continue;
          if (!(tensor.data instanceof Float32Array)) {
            if (optional.has(name)) {
              statistics.delete(name);
              continue;
            }
            throw new Int8DetectError('ERR_MODEL', `Tensor '${name}' is not float32, so it cannot be calibrated as an activation`);
          }
          try {
            stats.add(tensor.data);
          } catch (err) {
            // The native collector counts NaN/Inf as it bins; say which frames held them.
            if (err instanceof Int8DetectError) throw new Int8DetectError('ERR_INFERENCE', `${err.message}, in calibration frames ${range[0]}..${range[1]}`, { cause: err });
            throw err;
          }
        }
        frames += feed.dims[0];
      }
      batches++;
      options.onProgress?.({ frames, batches, ...(calibrator.size !== undefined ? { total: calibrator.size } : {}) });
      if (options.maxFrames !== undefined && frames >= options.maxFrames) break;
    }
  } finally {
    await session.dispose();
  }
  if (frames === 0) throw new Int8DetectError('ERR_ARGUMENT', 'The calibration set is empty: the calibrator gave no frames');
  const meansOf = (folded: Map<string, ChannelSums>) => new Map([...folded].map(([name, { sums, count }]) => [name, sums.map((s) => s / count)]));
  return { statistics, shapes, channelMaxima, channelMeans: meansOf(channelSums), channelRoundingBias: meansOf(roundingSums), frames, batches, seconds: (Date.now() - started) / 1000 };
}
