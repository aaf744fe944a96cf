// Symmetric per-output-channel INT8 weights: scale[c] = max |w| over channel c / 127, codes
// rounded half to even and saturated to [-127, 127] (the narrow range: the grid stays symmetric,
// so negating a weight negates its code, as TensorRT and pytorch-quantization expect).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace int8detect {
namespace calibration {

// A tensor of `dims` seen as [outer, channels, inner] around `axis`.
struct ChannelLayout {
  size_t outer;
  size_t channels;
  size_t inner;
};

// Throws std::invalid_argument when axis is out of range or the product of dims is not `count`.
ChannelLayout LayoutFor(const std::vector<int64_t>& dims, size_t axis, size_t count);

// Writes layout.channels scales. Returns how many weights are NaN or infinite (then the scales
// are not written).
size_t PerChannelScales(const float* weights, const ChannelLayout& layout, float* scales);

// Scales must be positive and finite. Returns how many weights are NaN or infinite (then `out`
// is not written).
size_t QuantizePerChannel(const float* weights, const ChannelLayout& layout, const float* scales, int8_t* out);

}  // namespace calibration
}  // namespace int8detect
