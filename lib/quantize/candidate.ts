/**
 * Run a candidate model (FP32, or a Q/DQ emission of it) on the held-back frames: raw outputs for
 * the sensitivity ranking, detections for the agreement check. One engine per candidate, closed
 * before the next, so memory stays flat however many candidates a search tries.
 */
import type { BackendName, RawTensor } from '../runtimes/backend';
import { preprocessFrame, tensorSize } from '../detect/preprocess';
import type { Detection, DetectOptions, PreprocessSpec } from '../detect/types';
import { createEngine, type EngineOptions } from '../engine';
import { validateRawFrame, type RawFrame } from '../image/frame';

export interface HeldBackSet {
  frames: readonly RawFrame[];
  /** The frames preprocessed for the model (computed once, reused by every candidate). */
  tensors: readonly (Float32Array | Uint8Array)[];
}

export async function prepareHeldBack(frames: readonly RawFrame[], spec: PreprocessSpec): Promise<HeldBackSet> {
  const tensors = await Promise.all(
    frames.map(async (frame) => {
      const buffer = spec.dtype === 'uint8' ? new Uint8Array(tensorSize(spec)) : new Float32Array(tensorSize(spec));
      await preprocessFrame(validateRawFrame(frame), spec, buffer);
      return buffer;
    }),
  );
  return { frames, tensors };
}

/** What a candidate engine shares with the float one: family, labels, preprocessing, threads. */
export type CandidateEngineOptions = Omit<EngineOptions, 'model' | 'backend' | 'precision' | 'detect'>;

/** A candidate model as its backend's engine opens it: bytes, or a file path (e.g. an OpenVINO IR's .xml). */
export type CandidateModel = string | Uint8Array;

/**
 * How a search makes and runs candidates on one runtime, so the search itself is written once:
 * Q/DQ ONNX models on ONNX Runtime (the default), FakeQuantize IRs on OpenVINO, ...
 */
export interface CandidateFactory {
  backend: BackendName;
  /** The float model, as that backend's engine opens it. */
  fp32Model: CandidateModel;
  /** The quantized model with the `keepFloat` activations left in float. */
  emit(keepFloat: ReadonlySet<string>): Promise<CandidateModel>;
  /** Multiply-accumulates per frame that run in INT8 with `keepFloat` in float, and in all. */
  macs(keepFloat: ReadonlySet<string>): { int8: number; total: number };
  /** Frees what emit made (temporary files), once the candidate has run. */
  release?(candidate: CandidateModel): Promise<void>;
}

export async function candidateOutputs(
  model: CandidateModel,
  heldBack: HeldBackSet,
  engineOptions: CandidateEngineOptions,
  backend: BackendName = 'onnxruntime',
): Promise<RawTensor[][]> {
  const engine = await createEngine({ ...engineOptions, model, backend });
  try {
    const outputs: RawTensor[][] = [];
    for (const tensor of heldBack.tensors) outputs.push(Object.values(await engine.infer(tensor)));
    return outputs;
  } finally {
    await engine.dispose();
  }
}

export async function candidateDetections(
  model: CandidateModel,
  heldBack: HeldBackSet,
  engineOptions: CandidateEngineOptions,
  detectOptions: DetectOptions,
  backend: BackendName = 'onnxruntime',
): Promise<Detection[][]> {
  const engine = await createEngine({ ...engineOptions, model, backend });
  try {
    // Two in flight: preprocessing of one frame overlaps inference of the other.
    return await Promise.all(heldBack.frames.map((frame) => engine.detect(frame, detectOptions)));
  } finally {
    await engine.dispose();
  }
}

/**
 * How far a candidate's raw outputs are from the float model's: squared error relative to the
 * float values' energy, per attribute (a box coordinate in pixels and a probability are measured
 * each on its own scale), averaged over attributes and frames.
 */
export function relativeOutputError(reference: readonly RawTensor[][], candidate: readonly RawTensor[][]): number {
  let total = 0;
  let terms = 0;
  for (let f = 0; f < reference.length; f++) {
    for (let o = 0; o < reference[f].length; o++) {
      const ref = reference[f][o];
      const cand = candidate[f][o];
      if (!(ref.data instanceof Float32Array) || !(cand.data instanceof Float32Array)) continue;
      const dims = ref.dims;
      // Attributes lie along the shorter of the last two axes ([1, N, 85] or [1, 84, N]).
      const rows = dims.length >= 2 ? dims[dims.length - 2] : 1;
      const cols = dims[dims.length - 1];
      const attributesAlongRows = rows < cols;
      const attributes = attributesAlongRows ? rows : cols;
      const err = new Float64Array(attributes);
      const energy = new Float64Array(attributes);
      const plane = rows * cols;
      for (let i = 0; i < ref.data.length; i++) {
        const within = i % plane;
        const a = attributesAlongRows ? Math.floor(within / cols) : within % cols;
        const d = cand.data[i] - ref.data[i];
        err[a] += d * d;
        energy[a] += ref.data[i] * ref.data[i];
      }
      for (let a = 0; a < attributes; a++) {
        total += err[a] / (energy[a] + 1e-12);
        terms++;
      }
    }
  }
  return terms === 0 ? 0 : total / terms;
}
