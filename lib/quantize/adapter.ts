/**
 * What the one post-training pipeline (pipeline.ts) needs of a target runtime, NNCF's split of
 * algorithms from backends: where quantization goes, which runtime computes the float
 * statistics, what grid an activation is put on, and how candidates and the final artefact are
 * made. Each runtime that can make an INT8 artefact implements this in its own folder (the Q/DQ
 * ONNX adapter for ONNX Runtime, the FakeQuantize IR adapter for OpenVINO); the pipeline, the
 * label-free check and the mixed-precision search are written once, here.
 */
import type { OnnxModel } from '../onnx/model';
import type { ActivationGrid, BiasCorrectionMode } from './bias-correction';
import type { CandidateModel } from './candidate';
import type { StatisticsSession } from './collect';
import type { EqualizeOptions } from './equalize';
import type { IgnoredScope, Placement } from './placement';
import type { ActivationPlan, QuantizationPlan } from './plan';

/** Opens the float model with `exposed` tensors as extra outputs, on some runtime, for statistics. */
export type StatisticsSessionOpener = (model: OnnxModel, exposed: readonly string[]) => Promise<StatisticsSession>;

/** An emitted artefact, in memory: the main file, the files it needs beside it, and what the emitter says of it. */
export interface EmittedArtefact {
  bytes: Uint8Array;
  /** Extension -> bytes of the files that go beside the main one, same stem (an IR's '.bin'). */
  companions: ReadonlyMap<string, Uint8Array>;
  /** Counts the emitter reports (FakeQuantize nodes, biases shifted, ...). */
  details: Readonly<Record<string, number>>;
  warnings: string[];
}

/** Candidates and the final artefact of one plan. */
export interface ArtefactEmitter {
  /** The float model candidates are compared against, as the runtime opens it. */
  readonly reference: CandidateModel;
  /** A candidate with `keepFloat` left in float, as the runtime opens it. */
  candidate(keepFloat: ReadonlySet<string>): Promise<CandidateModel>;
  /** Frees what candidate() made (a temporary file), once the candidate has run. */
  release?(candidate: CandidateModel): Promise<void>;
  /** Multiply-accumulates per frame that run in INT8 with `keepFloat` in float, and in all. */
  macs(keepFloat: ReadonlySet<string>): { int8: number; total: number };
  /**
   * Multiply-accumulates per frame that run without the runtime's fast INT8 kernels with
   * `keepFloat` in float: what the mixed-precision search prices a float tensor by. Absent: those
   * not in INT8 (`macs`). ONNX Runtime's differ: a conv whose output stays float runs INT8
   * arithmetic, but as ConvInteger with a float rescale and a float SiLU after it.
   */
  slowMacs?(keepFloat: ReadonlySet<string>): number;
  /** The artefact to serve or write. */
  emit(keepFloat: ReadonlySet<string>): Promise<EmittedArtefact>;
  /** Removes what the emitter kept on disk (temporary folders). */
  dispose(): Promise<void>;
}

export interface EmitterContext {
  /** The float model the plan refers to (the equalized rewrite, when equalization ran). */
  model: OnnxModel;
  /** `model`'s bytes (the input's own bytes when equalization changed nothing). */
  modelBytes: Uint8Array;
  /** The float model as given, before equalization. */
  inputBytes: Uint8Array;
  plan: QuantizationPlan;
}

export interface QuantizerAdapter {
  /** The artefact in words, for messages: 'Q/DQ ONNX model', 'OpenVINO FakeQuantize IR'. */
  readonly format: string;
  /** The artefact on disk: its extension, the companion files beside it, whether the backend opens it from its path. */
  readonly artefact: { extension: string; companions: readonly string[]; opensFromPath: boolean };
  /** What the pipeline does when the caller does not say. */
  readonly defaults: {
    biasCorrection: BiasCorrectionMode;
    /** Calibrate on at most this many frames (undefined: all the calibrator gives). */
    subsetSize?: number;
    /** Run the speed search after the accuracy search (lib/quantize/speed-search.ts) unless the caller says. */
    speedSearch?: boolean;
    /** Equalization thresholds and choices unless the caller gives its own (equalize.ts). */
    equalize?: EqualizeOptions;
  };
  /** The tool and version that make the artefact (e.g. 'onnxruntime 1.30.0'): part of the INT8 cache key. */
  id(): Promise<string>;
  /** Refuses, before any calibration, a model it cannot quantize. */
  checkModel?(model: OnnxModel): void;
  /**
   * Exact rewrites of the float model into the form its runtime runs fastest, before anything else
   * (equalization, statistics, placement and the artefact all see it): OpenVINO's Focus stem as one
   * SpaceToDepth. The model is returned as it is where nothing applies.
   */
  prepare?(model: OnnxModel): OnnxModel;
  /** Where quantization goes. */
  place(model: OnnxModel, options: { ignoredScope: IgnoredScope }): Placement;
  /** Float statistics for calibration and the activations' bias pass: on the runtime the artefact runs on. */
  statisticsSession(threads: number): StatisticsSessionOpener;
  /** Float statistics for the equalization pre-pass. */
  equalizationSession(threads: number): StatisticsSessionOpener;
  /** The grid an activation is put on, for the activations' bias correction. */
  grid(activation: ActivationPlan, plan: QuantizationPlan): ActivationGrid;
  /** Candidates and the final artefact of a plan. */
  emitter(context: EmitterContext): Promise<ArtefactEmitter>;
}
