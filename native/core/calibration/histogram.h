// A streaming histogram of one tensor's values that never holds the values themselves.
//
// Bin widths are powers of two and bin edges are multiples of the width, so 0 is always an
// edge and any two such lattices nest. The lattice is a pure function of the observed
// [min, max]: the narrowest power-of-two width whose `bins` bins, starting at the bin that holds
// min, reach max. When a batch widens [min, max], the old bins are merged 2^k at a time into the
// new ones (no count is split), so streaming batches, one big batch and merged collectors all
// give bit-identical counts. Folding the signed bins at 0 gives the |x| histogram exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace int8detect {
namespace calibration {

class Histogram {
 public:
  // bins >= 2 (throws std::invalid_argument otherwise).
  explicit Histogram(size_t bins);

  // Counts the values in. Returns how many are NaN or infinite; when that is not 0 nothing is
  // counted, so a bad batch leaves the collector as it was.
  size_t Add(const float* values, size_t n);

  // Adds another collector's counts (same bin count; throws std::invalid_argument otherwise).
  void Merge(const Histogram& other);

  size_t bins() const { return bins_; }
  uint64_t count() const { return count_; }
  // Observed extremes; meaningless while count() == 0.
  double min() const { return min_; }
  double max() const { return max_; }
  double width() const { return width_; }
  // Left edge of bin 0 (start index x width).
  double start() const { return static_cast<double>(startIndex_) * width_; }
  const std::vector<uint64_t>& counts() const { return counts_; }

  // Signed value of bin j's centre, clamped into [min, max] (so a constant tensor's only bin
  // reports the constant itself).
  double Centre(size_t j) const;

  // The |x| histogram: bin i counts values with |x| in [i v, (i+1) v), up to the bin holding
  // max |x|, where v is the returned width: w, or w times the power of two that keeps it within
  // `maxBins` bins (values far from 0 with a narrow spread would otherwise need |x| / w bins).
  // Written into `out` (resized; no allocation once it is large enough).
  double AbsCounts(size_t maxBins, std::vector<double>* out) const;
  // The same for each side: x >= 0 (bin i: x in [i v, (i+1) v)) and x < 0 (bin i: -x in
  // (i v, (i+1) v]), with one width for both.
  double SideCounts(size_t maxBins, std::vector<double>* positive, std::vector<double>* negative) const;

 private:
  // Moves counts onto the lattice that [lo, hi] (the new extremes) calls for.
  void Cover(double lo, double hi);
  // Counts n <= kBlock values, all inside the current lattice, into the lanes.
  void Tally(const float* values, size_t n);
  // Adds the lanes into counts_.
  void Commit();
  // The power of two by which folded bin indices are divided to fit maxBins.
  uint64_t FoldFactor(size_t maxBins) const;

  size_t bins_;
  std::vector<uint64_t> counts_;
  // Interleaved sub-histograms: consecutive equal values (ReLU zeros) would otherwise serialise
  // on one counter's load-store chain. Reserved once, summed into counts_ after each batch.
  std::vector<uint32_t> lanes_;
  std::vector<uint64_t> scratch_;
  // Bin indices of one block, computed in a loop the compiler vectorises before the scatter.
  std::vector<int32_t> index_;
  double width_ = 0;
  int64_t startIndex_ = 0;
  uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
};

// The lattice for extremes [lo, hi]: the smallest power-of-two width w for which
// floor(hi/w) - floor(lo/w) < bins, and the start index floor(lo/w). A single value (lo == hi)
// gets a width of about |lo| / bins (1 / bins for 0) with the value in the middle bin.
struct Lattice {
  double width;
  int64_t startIndex;
};
Lattice LatticeFor(double lo, double hi, size_t bins);

}  // namespace calibration
}  // namespace int8detect
