/**
 * Loads the core addon (the platform package, prebuilds/, then a local build) and states, as types, everything
 * it exports, so the TypeScript side never calls `any` (node-llama-cpp's AddonTypes habit).
 */
import { Int8DetectError } from '../util/errors';
import { describeBinarySource, findNativeModule, isDevelopmentCheckout, isPlatformPublished, type BinaryCandidate, type BinaryLookup } from './binaries';

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

export interface CoreAddon {
  /** Letterbox, convert colour and layout, normalise: synchronous, for small frames. */
  preprocessSync(job: NativePreprocessJob): void;
  /** The same on a worker thread; `job.src` and `job.dst` are held alive until it settles. */
  preprocess(job: NativePreprocessJob): Promise<void>;
  /** Load the CUDA driver at run time (no build dependency on CUDA) and list its devices. */
  cudaProbe(): NativeCudaProbe;
  /**
   * glibc's mallopt(M_ARENA_MAX, count): caps malloc arenas for threads that start later (what
   * MALLOC_ARENA_MAX does at process start). False without glibc. Absent from an older core.
   */
  limitMallocArenas?(count: number): boolean;
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
let cachedSource: BinaryCandidate | undefined;

/** No core addon anywhere: why, and the one thing to do about it. */
function missingCoreMessage(lookup: BinaryLookup): string {
  const where = `${process.platform}-${process.arch} (Node ${process.versions.node})`;
  const tried = lookup.tried.map((candidate) => candidate.file).join(', ');
  if (isDevelopmentCheckout()) return `The int8-detect core addon is not built for ${where} (tried ${tried}): run 'npm run build:native'`;
  const name = lookup.platformPackage.name;
  const advice = isPlatformPublished()
    ? `npm did not install ${name} (a lockfile made on another platform, or optional dependencies omitted): ` +
      `reinstall with 'npm install --os=${process.platform} --cpu=${process.arch} int8-detect', or add '${name}' at int8-detect's version (see the README's install section)`
    : `int8-detect has no prebuilt binaries for ${process.platform}-${process.arch}: build the core with 'npx int8-detect build-native --module core' (CMake and a C++17 compiler)`;
  return `No int8-detect core addon for ${where}: ${lookup.platformPackage.reason ?? 'not found'}; nor in ${tried}. ${advice}`;
}

/**
 * The core addon, by explicit path from the first place that has it (lib/native/binaries.ts:
 * the platform package, prebuilds/, the local build; a checkout's own build first).
 */
export function loadCoreAddon(): CoreAddon {
  if (cached) return cached;
  const lookup = findNativeModule('core');
  if (!lookup.found) throw new Int8DetectError('ERR_NATIVE', missingCoreMessage(lookup));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require(lookup.found.file) as CoreAddon;
    cachedSource = lookup.found;
    return cached;
  } catch (err) {
    throw new Int8DetectError(
      'ERR_NATIVE',
      `The int8-detect core addon from ${describeBinarySource(lookup.found, lookup.platformPackage)} (${lookup.found.file}) could not be loaded ` +
        `for ${process.platform}-${process.arch} (Node ${process.versions.node}): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/** Where the loaded core addon came from (undefined before loadCoreAddon() succeeded). */
export function coreAddonSource(): BinaryCandidate | undefined {
  return cachedSource;
}
