/** What every decoder is: the interface the decoders implement and the registry (index.ts) hands out. */
import type { CandidateBuffer, Candidates } from '../nms';
import type { DetectorFamily, OutputTensor } from '../types';

export interface DecodeOptions {
  /** Keep every class above the threshold for each anchor, not only the best (COCO-style evaluation). */
  multiLabel?: boolean;
  /** Reuse this buffer for the candidates instead of allocating one. */
  into?: CandidateBuffer;
}

/**
 * Turns a raw output into thresholded candidates in model-input pixels. A candidate is kept when
 * its score is strictly greater than scoreThreshold (as Ultralytics compares). With a class
 * filter, the best class is chosen among all classes first and the box dropped when that class is
 * not wanted (Ultralytics' order), so filtering never relabels a box as a weaker class.
 */
export interface Decoder {
  readonly family: DetectorFamily;
  decode(
    output: OutputTensor,
    inputWidth: number,
    inputHeight: number,
    scoreThreshold: number,
    classFilter?: readonly number[] | null,
    options?: DecodeOptions,
  ): Candidates;
}
