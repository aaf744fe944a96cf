/**
 * Per-channel reductions over NCHW-like batches (channels on axis 1): the loop over frames and
 * channels that the channel maxima (equalization), channel sums and rounding biases (bias
 * correction) share. The callback gets one contiguous run of a channel's values at a time, so the
 * inner loop over elements stays in the caller, where the JIT can specialise it. Returns the
 * elements per channel visited.
 */
export function forEachChannelSpan(data: Float32Array, dims: readonly number[], span: (channel: number, start: number, end: number) => void): number {
  const channels = dims.length >= 2 ? dims[1] : 1;
  const batch = dims.length >= 1 ? dims[0] : 1;
  const inner = data.length / Math.max(1, batch * channels);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const start = (n * channels + c) * inner;
      span(c, start, start + inner);
    }
  }
  return batch * inner;
}

/** Channels (axis 1) of a tensor of these dims. */
export function channelCount(dims: readonly number[]): number {
  return dims.length >= 2 ? dims[1] : 1;
}
