// Quantization parameters with ONNX QuantizeLinear / DequantizeLinear semantics (float32 scale,
// round half to even, saturation), and the error a range gives on a collected histogram.
// lib/quantize/qparams.ts computes the same numbers in TypeScript; tests hold them equal.
#pragma once

#include <cstdint>

#include "core/calibration/histogram.h"
#include "core/calibration/ranges.h"

namespace int8detect {
namespace calibration {

enum class ActivationMode { kInt8Symmetric, kUint8Asymmetric };

struct QuantParams {
  float scale;
  int32_t zeroPoint;
  // QuantizeLinear's saturation bounds for the mode's type: [-128, 127] or [0, 255].
  int32_t qmin;
  int32_t qmax;
};

// The smallest scale ever produced: the smallest normal float32, so a degenerate range (all
// zeros) still gives a positive scale that no runtime flushes to 0.
constexpr float kMinimumScale = 1.17549435e-38f;

// Symmetric: scale = max(|lo|, |hi|) / 127, zero point 0. Asymmetric: the range is widened to
// include 0, scale = (hi - lo) / 255, zero point = round(-lo / scale), so 0.0 is exact.
QuantParams ScaleAndZeroPoint(const Range& range, ActivationMode mode);

// DequantizeLinear(QuantizeLinear(x)).
float FakeQuantize(float x, const QuantParams& params);

// Mean squared error of fake-quantizing the histogram's mass (each bin at its centre) with
// `range`: rounding inside the range and clipping outside it. 0 for an empty histogram.
double QuantizationError(const Histogram& histogram, const Range& range, ActivationMode mode);

}  // namespace calibration
}  // namespace int8detect
