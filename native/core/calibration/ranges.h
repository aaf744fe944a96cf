// Clipping ranges chosen from a collected histogram: min-max, percentile and entropy (KL).
// Every range lies within the observed values: symmetric ranges are [-t, t] with
// t <= max |x|, asymmetric ones [lo, hi] within [min, max] (the zero point's need to represent
// 0 is the quantization parameters' business, not the range's).
#pragma once

#include "core/calibration/histogram.h"

namespace int8detect {
namespace calibration {

struct Range {
  double lo;
  double hi;
};

// Levels of one side of an 8-bit grid: the entropy search's merge target.
constexpr size_t kEntropyLevels = 128;
// Steps of the UINT8 grid, shared by the two sides of an asymmetric range.
constexpr size_t kUint8Steps = 255;

Range MinMaxRange(const Histogram& histogram, bool symmetric);
// percentile in (0, 100]. Symmetric: the |x| below which that share of the mass lies.
// Asymmetric: hi leaves (100 - percentile) % of the mass above it, lo the same share below it.
Range PercentileRange(const Histogram& histogram, double percentile, bool symmetric);
// Symmetric: TensorRT's entropy calibration on the |x| histogram with 128 levels.
// Asymmetric: the same search on each side of 0 separately (x >= 0, and -x for x < 0), each
// side merging into its share of the 255 UINT8 steps, in proportion to its observed extent.
Range EntropyRange(const Histogram& histogram, bool symmetric);

}  // namespace calibration
}  // namespace int8detect
