#include "core/calibration/qparams.h"

#include <algorithm>
#include <cmath>

namespace int8detect {
namespace calibration {

QuantParams ScaleAndZeroPoint(const Range& range, ActivationMode mode) {
  if (mode == ActivationMode::kInt8Symmetric) {
    const double t = std::max(std::fabs(range.lo), std::fabs(range.hi));
    const float scale = std::max(static_cast<float>(t / 127.0), kMinimumScale);
    return {scale, 0, -128, 127};
  }
  const double lo = std::min(range.lo, 0.0);
  const double hi = std::max(range.hi, 0.0);
  const float scale = std::max(static_cast<float>((hi - lo) / 255.0), kMinimumScale);
  // nearbyint rounds half to even in the default rounding mode, as numpy.round does.
  const double zeroPoint = std::nearbyint(-lo / static_cast<double>(scale));
  return {scale, static_cast<int32_t>(std::min(std::max(zeroPoint, 0.0), 255.0)), 0, 255};
}

float FakeQuantize(float x, const QuantParams& params) {
  // Clamping before rounding equals saturating after it (the bounds are integers) and keeps a
  // huge quotient from overflowing the conversion.
  const float low = static_cast<float>(params.qmin - params.zeroPoint);
  const float high = static_cast<float>(params.qmax - params.zeroPoint);
  const float q = std::nearbyint(std::min(std::max(x / params.scale, low), high));
  return q * params.scale;
}

double QuantizationError(const Histogram& histogram, const Range& range, ActivationMode mode) {
  if (histogram.count() == 0) return 0;
  const QuantParams params = ScaleAndZeroPoint(range, mode);
  const std::vector<uint64_t>& counts = histogram.counts();
  double sum = 0;
  for (size_t j = 0; j < counts.size(); ++j) {
    if (counts[j] == 0) continue;
    const double x = histogram.Centre(j);
    const double error = x - static_cast<double>(FakeQuantize(static_cast<float>(x), params));
    sum += static_cast<double>(counts[j]) * error * error;
  }
  return sum / static_cast<double>(histogram.count());
}

}  // namespace calibration
}  // namespace int8detect
