// The KL-divergence threshold search of TensorRT's entropy calibrator (v2), on a one-sided
// histogram (|x| for symmetric INT8, or one side of a signed distribution).
#pragma once

#include <cstddef>
#include <vector>

namespace int8detect {
namespace calibration {

struct EntropyChoice {
  // How many leading bins the chosen range keeps: the threshold is keptBins x bin width.
  size_t keptBins;
  // KL(P || Q) at that threshold (0 when the histogram is too short to search).
  double divergence;
};

// counts[i] is the mass in [i w, (i+1) w); bin 0's count is first replaced by bin 1's (see
// entropy.cc). For every candidate i from `levels` bins up to all bins: P = the first i bins
// with the mass beyond folded into bin i-1; Q = the first i bins (without that mass) merged
// into `levels` levels as evenly as integers allow and spread back evenly over the bins where P
// is not zero; both smoothed so no bin is zero; the candidate with the least KL(P || Q) wins
// (the first, i.e. the tightest, on a tie). A histogram of at most `levels` bins keeps them all.
EntropyChoice SearchEntropyThreshold(const std::vector<double>& counts, size_t levels);

// KL(P || Q) for one candidate, exposed for tests: `keptBins` in [levels, counts.size()].
double CandidateDivergence(const std::vector<double>& counts, size_t levels, size_t keptBins);

}  // namespace calibration
}  // namespace int8detect
