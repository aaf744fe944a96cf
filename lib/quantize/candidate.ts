/**
 * Run a candidate model (FP32, or a quantized emission of it) on the held-back frames: raw outputs
 * for the sensitivity ranking, detections for the agreement check. One detector per candidate,
 * closed before the next, so memory stays flat however many candidates a search tries. The
 * detector is opened by the caller (the runtime's open() plus the model's detector, never the
 * public createEngine), so this file depends on no runtime.
 */
import type { RawTensor } from '../runtimes/session';
import { preprocessFrame, tensorSize } from '../detect/preprocess';
import type { Detection, DetectOptions, PreprocessSpec } from '../detect/types';
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

/** A candidate model as its runtime opens it: bytes, or a file path (e.g. an OpenVINO IR's .xml). */
export type CandidateModel = string | Uint8Array;

/** A candidate opened with the float model's detector (family, preprocessing, labels). */
export interface CandidateDetector {
  readonly labels: readonly string[];
  /** Raw outputs for one preprocessed input. */
  infer(input: Float32Array | Uint8Array): Promise<Record<string, RawTensor>>;
  detect(frame: RawFrame, options: DetectOptions): Promise<Detection[]>;
  dispose(): Promise<void>;
}

/** Opens a candidate on the runtime the artefact targets. */
export type OpenCandidate = (model: CandidateModel) => Promise<CandidateDetector>;

async function withDetector<T>(open: OpenCandidate, model: CandidateModel, use: (detector: CandidateDetector) => Promise<T>): Promise<T> {
  const detector = await open(model);
  try {
    return await use(detector);
  } finally {
    await detector.dispose();
  }
}

export function candidateOutputs(open: OpenCandidate, model: CandidateModel, heldBack: HeldBackSet): Promise<RawTensor[][]> {
  return withDetector(open, model, async (detector) => {
    const outputs: RawTensor[][] = [];
    for (const tensor of heldBack.tensors) outputs.push(Object.values(await detector.infer(tensor)));
    return outputs;
  });
}

export function candidateDetections(open: OpenCandidate, model: CandidateModel, heldBack: Pick<HeldBackSet, 'frames'>, detectOptions: DetectOptions): Promise<Detection[][]> {
  // Two in flight: preprocessing of one frame overlaps inference of the other.
  return withDetector(open, model, (detector) => Promise.all(heldBack.frames.map((frame) => detector.detect(frame, detectOptions))));
}

/** How many classes the candidate's detector reads (the float model's). */
export function candidateClassCount(open: OpenCandidate, model: CandidateModel): Promise<number> {
  return withDetector(open, model, async (detector) => detector.labels.length);
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
