/**
 * The calibration contract shared by every INT8 path (the portable Q/DQ quantizer, TensorRT's
 * implicit INT8 calibrators, OpenVINO's post-training quantization): batches of input tensors
 * made with the engine's own preprocessing.
 */

/** One batch of preprocessed model inputs, e.g. dims [N, 3, H, W] for an NCHW float model. */
export interface CalibrationBatch {
  /** The model input's name. */
  input: string;
  data: Float32Array | Uint8Array;
  dims: readonly number[];
}

/** An async iterable of batches; iterate it once per calibration pass. */
export interface Calibrator extends AsyncIterable<CalibrationBatch> {
  /** Frames per batch. */
  readonly batchSize: number;
  /** Total frames, when known in advance (for progress and the under-300-frames warning). */
  readonly size?: number;
  /**
   * What identifies the frames this calibrator gives (and how they are preprocessed), for cache
   * keys: equal fingerprints mean equal batches. Folder and array calibrators fill it from file
   * names, sizes and modification times or a content hash; without one (a live stream, an
   * arbitrary generator) a quantized model cannot be cached.
   */
  readonly fingerprint?: string;
}
