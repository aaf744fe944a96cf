#include "core/calibration/weights.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <stdexcept>

#include "core/calibration/qparams.h"

namespace int8detect {
namespace calibration {

ChannelLayout LayoutFor(const std::vector<int64_t>& dims, size_t axis, size_t count) {
  if (axis >= dims.size()) throw std::invalid_argument("the channel axis is not one of the tensor's dimensions");
  ChannelLayout layout{1, 0, 1};
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) throw std::invalid_argument("a dimension is negative");
    const size_t d = static_cast<size_t>(dims[i]);
    if (i < axis) layout.outer *= d;
    if (i > axis) layout.inner *= d;
  }
  layout.channels = static_cast<size_t>(dims[axis]);
  if (layout.outer * layout.channels * layout.inner != count) {
    throw std::invalid_argument("the product of the dimensions is not the number of weights");
  }
  return layout;
}

size_t PerChannelScales(const float* weights, const ChannelLayout& layout, float* scales) {
  std::vector<float> absMax(layout.channels, 0.0f);
  size_t nonFinite = 0;
  for (size_t o = 0; o < layout.outer; ++o) {
    for (size_t c = 0; c < layout.channels; ++c) {
      const float* row = weights + (o * layout.channels + c) * layout.inner;
      float m = absMax[c];
      for (size_t i = 0; i < layout.inner; ++i) {
        const float a = std::fabs(row[i]);
        nonFinite += !(a <= FLT_MAX);
        m = a > m ? a : m;
      }
      absMax[c] = m;
    }
  }
  if (nonFinite != 0) return nonFinite;
  for (size_t c = 0; c < layout.channels; ++c) {
    scales[c] = std::max(static_cast<float>(static_cast<double>(absMax[c]) / 127.0), kMinimumScale);
  }
  return 0;
}

size_t QuantizePerChannel(const float* weights, const ChannelLayout& layout, const float* scales, int8_t* out) {
  const size_t count = layout.outer * layout.channels * layout.inner;
  size_t nonFinite = 0;
  for (size_t i = 0; i < count; ++i) nonFinite += !(std::fabs(weights[i]) <= FLT_MAX);
  if (nonFinite != 0) return nonFinite;
  for (size_t o = 0; o < layout.outer; ++o) {
    for (size_t c = 0; c < layout.channels; ++c) {
      const size_t offset = (o * layout.channels + c) * layout.inner;
      const float scale = scales[c];
      for (size_t i = 0; i < layout.inner; ++i) {
        const float q = std::nearbyint(std::min(std::max(weights[offset + i] / scale, -127.0f), 127.0f));
        out[offset + i] = static_cast<int8_t>(q);
      }
    }
  }
  return 0;
}

}  // namespace calibration
}  // namespace int8detect
