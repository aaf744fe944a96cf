#include "core/calibration/ranges.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/calibration/entropy.h"

namespace int8detect {
namespace calibration {
namespace {

double AbsMax(const Histogram& h) { return std::max(std::fabs(h.min()), std::fabs(h.max())); }

// The point below which `share` of the mass of `counts` lies, with the mass spread evenly
// inside each bin; bin i starts at origin + i * width.
double Quantile(const std::vector<double>& counts, double total, double share, double origin, double width) {
  const double target = share * total;
  double below = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] > 0 && below + counts[i] >= target) {
      const double inside = std::min(std::max((target - below) / counts[i], 0.0), 1.0);
      return origin + (static_cast<double>(i) + inside) * width;
    }
    below += counts[i];
  }
  return origin + static_cast<double>(counts.size()) * width;
}

// The threshold the entropy search picks on one side, never beyond that side's extreme.
double SideThreshold(const std::vector<double>& counts, size_t levels, double width, double extreme) {
  if (counts.empty()) return 0;
  const EntropyChoice choice = SearchEntropyThreshold(counts, levels);
  return std::min(static_cast<double>(choice.keptBins) * width, extreme);
}

}  // namespace

Range MinMaxRange(const Histogram& h, bool symmetric) {
  if (symmetric) {
    const double t = AbsMax(h);
    return {-t, t};
  }
  return {h.min(), h.max()};
}

Range PercentileRange(const Histogram& h, double percentile, bool symmetric) {
  const double share = percentile / 100.0;
  const double total = static_cast<double>(h.count());
  if (symmetric) {
    std::vector<double> folded;
    const double width = h.AbsCounts(h.bins(), &folded);
    const double t = std::min(Quantile(folded, total, share, 0.0, width), AbsMax(h));
    return {-t, t};
  }
  const std::vector<uint64_t>& counts = h.counts();
  std::vector<double> signedCounts(counts.begin(), counts.end());
  const double hi = Quantile(signedCounts, total, share, h.start(), h.width());
  const double lo = Quantile(signedCounts, total, 1.0 - share, h.start(), h.width());
  const auto clamp = [&](double v) { return std::min(std::max(v, h.min()), h.max()); };
  return {clamp(lo), clamp(hi)};
}

Range EntropyRange(const Histogram& h, bool symmetric) {
  if (symmetric) {
    std::vector<double> folded;
    const double width = h.AbsCounts(h.bins(), &folded);
    const double t = SideThreshold(folded, kEntropyLevels, width, AbsMax(h));
    return {-t, t};
  }
  std::vector<double> positive;
  std::vector<double> negative;
  const double width = h.SideCounts(h.bins(), &positive, &negative);
  // The UINT8 grid spans both sides, so each side's search merges into its share of the 255
  // steps, in proportion to the side's observed extent (a ReLU output gets all of them, the
  // negative side of a SiLU output about 7 when its maximum is 10).
  const double up = std::max(h.max(), 0.0);
  const double down = std::max(-h.min(), 0.0);
  const size_t upLevels = static_cast<size_t>(std::lround(kUint8Steps * up / (up + down)));
  const size_t downLevels = kUint8Steps - upLevels;
  // A side with no values keeps the observed extreme (a tensor entirely above 0 keeps its min).
  const double hi = positive.empty() || upLevels == 0 ? h.max() : SideThreshold(positive, upLevels, width, h.max());
  const double lo = negative.empty() || downLevels == 0 ? h.min() : -SideThreshold(negative, downLevels, width, -h.min());
  return {std::max(lo, h.min()), std::min(hi, h.max())};
}

}  // namespace calibration
}  // namespace int8detect
