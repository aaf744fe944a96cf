/**
 * Loads the core addon (prebuilds first, then a local build) and states, as types, everything
 * it exports, so the TypeScript side never calls `any` (node-llama-cpp's AddonTypes habit).
 */
import * as path from 'node:path';
import { Int8DetectError } from '../util/errors';
import { packageRoot } from '../util/package';

export type NativePixelFormat = 'rgb' | 'bgr' | 'rgba' | 'bgra' | 'gray' | 'nv12' | 'i420';

/** One complete preprocessing job: TypeScript fills every field, C++ only executes it. */
export interface NativePreprocessJob {
  /** Source frame bytes. */
  src: Uint8Array;
  width: number;
  height: number;
  format: NativePixelFormat;
  /** Bytes per row of the first plane (the luma plane for NV12 and I420). */
  stride: number;
  /** Byte offset and row stride of the chroma plane(s), for NV12 (interleaved UV) and I420 (U then V). */
  uvOffset: number;
  uvStride: number;
  /** For I420 only: byte offset of the V plane. */
  vOffset: number;
  /** YUV to RGB conversion. */
  colorMatrix: 'bt601' | 'bt709';
  colorRange: 'limited' | 'full';
  /** Destination tensor, dstWidth x dstHeight x channels, reused between calls. */
  dst: Float32Array | Uint8Array;
  dstWidth: number;
  dstHeight: number;
  layout: 'nchw' | 'nhwc';
  /** Output channels in order: 'rgb', 'bgr' or 'gray' (one channel). */
  channelOrder: 'rgb' | 'bgr' | 'gray';
  /** The resized image's size and top-left position inside the destination (the letterbox). */
  resizedWidth: number;
  resizedHeight: number;
  offsetX: number;
  offsetY: number;
  /** Pad colour, in source pixel units (0..255), before normalisation. */
  padValue: number;
  /** out = (pixel * scale - mean[c]) / std[c], per output channel; ignored for uint8 output. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

export interface NativeCudaDevice {
  index: number;
  name: string;
  computeCapability: string;
  totalMemoryBytes: number;
  multiprocessors: number;
}

export interface NativeCudaProbe {
  /** Whether the CUDA driver library could be loaded and initialised. */
  available: boolean;
  /** Why not, when it is not. */
  reason?: string;
  /** The driver library that was loaded, e.g. libcuda.so.1. */
  library?: string;
  /** Driver API version as CUDA encodes it (e.g. 12040 for 12.4). */
  driverVersion?: number;
  devices: NativeCudaDevice[];
}

/** A clipping range as the native calibration code returns it. */
export interface NativeRange {
  min: number;
  max: number;
}

/**
 * One streaming histogram of a tensor's values (native/core/calibration/histogram.h): power-of-two
 * bin widths on a lattice through 0, widened as batches exceed it; the values are never kept.
 */
export interface NativeHistogram {
  /** Counts a batch in; returns how many values are NaN or infinite (then nothing was counted). */
  add(values: Float32Array): number;
  /** Adds the counts of another histogram with as many bins. */
  merge(other: NativeHistogram): void;
  rangeMinMax(symmetric: boolean): NativeRange;
  /** percentile in (0, 100]. */
  rangePercentile(percentile: number, symmetric: boolean): NativeRange;
  rangeEntropy(symmetric: boolean): NativeRange;
  /** Mean squared error of fake-quantizing the histogram with [min, max] in 8 bits. */
  quantizationError(min: number, max: number, symmetric: boolean): number;
  histogram(): { start: number; binWidth: number; counts: Float64Array };
  readonly count: number;
  /** NaN until the first value. */
  readonly min: number;
  readonly max: number;
}

export interface NativeCalibrationBridgeTest {
  /** Resolves (or returns) a Float32Array of exactly elementsPerBatch values, or null at the end. */
  pull: () => Float32Array | null | Promise<Float32Array | null>;
  elementsPerBatch: number;
  timeoutMs: number;
  maxBatches: number;
}

export interface NativeCalibrationBridgeResult {
  batches: number;
  /** Per batch, as the worker thread received it: the sum of its values and its first value. */
  sums: number[];
  firsts: number[];
  ended: 'end' | 'limit';
}

export interface CoreAddon {
  /** Letterbox, convert colour and layout, normalise: synchronous, for small frames. */
  preprocessSync(job: NativePreprocessJob): void;
  /** The same on a worker thread; `job.src` and `job.dst` are held alive until it settles. */
  preprocess(job: NativePreprocessJob): Promise<void>;
  /** Load the CUDA driver at run time (no build dependency on CUDA) and list its devices. */
  cudaProbe(): NativeCudaProbe;
  /**
   * Test entry point of the calibrator bridge TensorRT's getBatch uses: a worker thread pulls batches
   * from `pull` until null, `maxBatches`, a timeout, an abort or a failure (rejects with code
   * 'ERR_CALIBRATION' and reason 'timeout' | 'aborted' | 'failed').
   */
  testCalibrationBridge(options: NativeCalibrationBridgeTest): { promise: Promise<NativeCalibrationBridgeResult>; abort(reason?: string): void };
  /** A histogram collector with `bins` bins (2..2^24). */
  Histogram: new (bins: number) => NativeHistogram;
  /** Symmetric per-channel INT8 scales along `axis`; throws (code ERR_ARGUMENT) on NaN/Inf weights. */
  perChannelScales(weights: Float32Array, dims: readonly number[], axis: number): Float32Array;
  /** round-half-even(w / scale[c]) saturated to [-127, 127]. */
  quantizePerChannel(weights: Float32Array, dims: readonly number[], axis: number, scales: Float32Array): Int8Array;
  compiled: { core: true };
  napiVersion: number;
}

let cached: CoreAddon | undefined;

export function loadCoreAddon(): CoreAddon {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('node-gyp-build') as (dir: string) => unknown;
    cached = load(packageRoot) as CoreAddon;
    return cached;
  } catch (err) {
    throw new Int8DetectError(
      'ERR_NATIVE',
      `The int8-detect core addon could not be loaded for ${process.platform}-${process.arch} (Node ${process.versions.node}): ` +
        `${err instanceof Error ? err.message : String(err)}. Install a release with prebuilds, or build it with 'npm run build:native'.`,
      { cause: err },
    );
  }
}
