#include "core/calibration/histogram.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <stdexcept>

namespace int8detect {
namespace calibration {
namespace {

constexpr size_t kLanes = 4;
// Values per pass over the lanes, so that no 32-bit lane counter can overflow.
constexpr size_t kChunk = size_t{1} << 30;
// Values per block of the steady-state pass: 16 KB, which stays in L1 between finding the
// block's extremes and counting it, so the batch is read from memory once.
constexpr size_t kBlock = 4096;

double PowerOfTwoAtMost(double x) { return std::ldexp(1.0, std::ilogb(x)); }

int64_t FloorIndex(double value, double width) { return static_cast<int64_t>(std::floor(value / width)); }

}  // namespace

Lattice LatticeFor(double lo, double hi, size_t bins) {
  const double n = static_cast<double>(bins);
  if (!(hi > lo)) {
    const double magnitude = lo == 0 ? 1.0 : std::fabs(lo);
    const double width = PowerOfTwoAtMost(magnitude / n);
    return {width, FloorIndex(lo, width) - static_cast<int64_t>(bins / 2)};
  }
  // Widths below span / bins can never reach; the first power of two at or below it is the
  // place to start, and each doubling only merges cells, so the first fit is the narrowest.
  double width = PowerOfTwoAtMost((hi - lo) / n);
  while (FloorIndex(hi, width) - FloorIndex(lo, width) >= static_cast<int64_t>(bins)) width *= 2;
  return {width, FloorIndex(lo, width)};
}

Histogram::Histogram(size_t bins) : bins_(bins) {
  if (bins < 2) throw std::invalid_argument("a histogram needs at least 2 bins");
  counts_.assign(bins, 0);
  scratch_.assign(bins, 0);
  lanes_.assign(bins * kLanes, 0);
  index_.assign(kBlock, 0);
}

double Histogram::Centre(size_t j) const {
  const double centre = (static_cast<double>(startIndex_ + static_cast<int64_t>(j)) + 0.5) * width_;
  return std::min(std::max(centre, min_), max_);
}

void Histogram::Cover(double lo, double hi) {
  const Lattice next = LatticeFor(lo, hi, bins_);
  if (count_ == 0) {
    width_ = next.width;
    startIndex_ = next.startIndex;
    return;
  }
  if (next.width == width_ && next.startIndex == startIndex_) return;
  std::fill(scratch_.begin(), scratch_.end(), 0);
  const auto place = [&](double value, uint64_t count) {
    int64_t j = FloorIndex(value, next.width) - next.startIndex;
    j = std::min<int64_t>(std::max<int64_t>(j, 0), static_cast<int64_t>(bins_) - 1);
    scratch_[static_cast<size_t>(j)] += count;
  };
  if (min_ == max_) {
    // Every value so far was this one value: it goes exactly where a fresh collector puts it.
    place(min_, count_);
  } else {
    // The new width is a power-of-two multiple of the old and both lattices contain 0, so each
    // old bin lies inside one new bin: its centre finds it without splitting any count.
    for (size_t j = 0; j < bins_; ++j) {
      if (counts_[j] != 0) place((static_cast<double>(startIndex_ + static_cast<int64_t>(j)) + 0.5) * width_, counts_[j]);
    }
  }
  counts_.swap(scratch_);
  width_ = next.width;
  startIndex_ = next.startIndex;
}

namespace {

// min, max and a NaN/Inf flag of some values, kept in independent lanes so the compiler holds
// them in vector registers (each lane's `x < lo ? x : lo` is one minps).
class Extremes {
 public:
  explicit Extremes(float first) {
    for (size_t k = 0; k < kWidth; ++k) {
      lo_[k] = first;
      hi_[k] = first;
      poison_[k] = 0.0f;
    }
  }

  void Scan(const float* values, size_t n) {
    size_t i = 0;
    for (; i + kWidth <= n; i += kWidth) {
      for (size_t k = 0; k < kWidth; ++k) Take(k, values[i + k]);
    }
    for (; i < n; ++i) Take(0, values[i]);
  }

  void Merge(const Extremes& other) {
    for (size_t k = 0; k < kWidth; ++k) {
      lo_[k] = other.lo_[k] < lo_[k] ? other.lo_[k] : lo_[k];
      hi_[k] = other.hi_[k] > hi_[k] ? other.hi_[k] : hi_[k];
    }
  }

  float Lo() const { return *std::min_element(lo_, lo_ + kWidth); }
  float Hi() const { return *std::max_element(hi_, hi_ + kWidth); }
  // x * 0 is NaN for NaN and for both infinities, and NaN survives every addition. (NaN never
  // becomes an extreme but an infinity does, so this flag decides, not the extremes.)
  bool Poisoned() const {
    float sum = 0.0f;
    for (size_t k = 0; k < kWidth; ++k) sum += poison_[k];
    return sum != sum;
  }

 private:
  static constexpr size_t kWidth = 16;
  void Take(size_t k, float x) {
    lo_[k] = x < lo_[k] ? x : lo_[k];
    hi_[k] = x > hi_[k] ? x : hi_[k];
    poison_[k] += x * 0.0f;
  }
  float lo_[kWidth];
  float hi_[kWidth];
  float poison_[kWidth];
};

size_t CountNonFinite(const float* values, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += !(std::fabs(values[i]) <= FLT_MAX);
  return count;
}

}  // namespace

size_t Histogram::Add(const float* values, size_t n) {
  if (n == 0) return 0;
  Extremes batch(values[0]);
  if (count_ != 0 && min_ != max_ && n <= kChunk) {
    // Steady state: count each block with the current lattice as soon as its extremes show it
    // lies inside; the counts are kept if the whole batch did and left the lattice as it was.
    std::fill(lanes_.begin(), lanes_.end(), 0);
    const double lowEdge = static_cast<double>(startIndex_) * width_;
    const double highEdge = static_cast<double>(startIndex_ + static_cast<int64_t>(bins_)) * width_;
    bool inside = true;
    for (size_t b = 0; b < n; b += kBlock) {
      const size_t m = std::min(kBlock, n - b);
      Extremes block(values[b]);
      block.Scan(values + b, m);
      if (block.Poisoned()) return CountNonFinite(values, n);
      if (!(block.Lo() >= lowEdge && block.Hi() < highEdge)) {
        inside = false;
        break;
      }
      batch.Merge(block);
      Tally(values + b, m);
    }
    if (inside) {
      const double newMin = std::min<double>(min_, batch.Lo());
      const double newMax = std::max<double>(max_, batch.Hi());
      const Lattice next = LatticeFor(newMin, newMax, bins_);
      if (next.width == width_ && next.startIndex == startIndex_) {
        Commit();
        min_ = newMin;
        max_ = newMax;
        count_ += n;
        return 0;
      }
    }
  }
  // The first batch, or one that widens or moves the lattice: extremes first, then count.
  Extremes all(values[0]);
  all.Scan(values, n);
  if (all.Poisoned()) return CountNonFinite(values, n);
  const double newMin = count_ == 0 ? all.Lo() : std::min<double>(min_, all.Lo());
  const double newMax = count_ == 0 ? all.Hi() : std::max<double>(max_, all.Hi());
  Cover(newMin, newMax);
  min_ = newMin;
  max_ = newMax;
  count_ += n;
  for (size_t offset = 0; offset < n; offset += kChunk) {
    std::fill(lanes_.begin(), lanes_.end(), 0);
    const size_t m = std::min(kChunk, n - offset);
    for (size_t b = 0; b < m; b += kBlock) Tally(values + offset + b, std::min(kBlock, m - b));
    Commit();
  }
  return 0;
}

void Histogram::Commit() {
  const uint32_t* lane = lanes_.data();
  for (size_t j = 0; j < bins_; ++j) {
    counts_[j] += uint64_t{lane[j]} + lane[j + bins_] + lane[j + 2 * bins_] + lane[j + 3 * bins_];
  }
}

void Histogram::Tally(const float* values, size_t n) {
  // Every value here lies inside the lattice. width_ is a power of two, so value * inverse is
  // exact and so is its floor: a value on an edge lands in the bin that starts there. The floor
  // is taken before the start index is subtracted, so no rounding moves a value across an edge.
  const int64_t last = static_cast<int64_t>(bins_) - 1;
  int32_t* index = index_.data();
  // The float path vectorises; it is exact while the inverse width is a float >= 1 (then no
  // non-zero value underflows to a zero of the wrong bin) and indices fit a float's integers.
  const bool floatPath = width_ <= 1.0 && width_ >= 0x1p-120 &&
                         std::fabs(static_cast<double>(startIndex_)) + static_cast<double>(bins_) < 16777216.0;
  if (floatPath) {
    const float inverse = static_cast<float>(1.0 / width_);
    const int32_t start = static_cast<int32_t>(startIndex_);
    const int32_t top = static_cast<int32_t>(last);
    for (size_t k = 0; k < n; ++k) {
      const float s = values[k] * inverse;
      int32_t i = static_cast<int32_t>(s);
      i -= s < static_cast<float>(i);
      int32_t j = i - start;
      j = j < 0 ? 0 : j;
      index[k] = j > top ? top : j;
    }
  } else {
    const double inverse = 1.0 / width_;
    for (size_t k = 0; k < n; ++k) {
      const double s = static_cast<double>(values[k]) * inverse;
      int64_t i = static_cast<int64_t>(s);
      i -= s < static_cast<double>(i);
      const int64_t j = i - startIndex_;
      index[k] = static_cast<int32_t>(j < 0 ? 0 : (j > last ? last : j));
    }
  }
  uint32_t* lane0 = lanes_.data();
  uint32_t* lane1 = lane0 + bins_;
  uint32_t* lane2 = lane1 + bins_;
  uint32_t* lane3 = lane2 + bins_;
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    ++lane0[index[k]];
    ++lane1[index[k + 1]];
    ++lane2[index[k + 2]];
    ++lane3[index[k + 3]];
  }
  for (; k < n; ++k) ++lane0[index[k]];
}

void Histogram::Merge(const Histogram& other) {
  if (other.bins_ != bins_) throw std::invalid_argument("histograms with different bin counts cannot be merged");
  if (other.count_ == 0) return;
  if (count_ == 0) {
    counts_ = other.counts_;
    width_ = other.width_;
    startIndex_ = other.startIndex_;
    count_ = other.count_;
    min_ = other.min_;
    max_ = other.max_;
    return;
  }
  const double newMin = std::min(min_, other.min_);
  const double newMax = std::max(max_, other.max_);
  Cover(newMin, newMax);
  min_ = newMin;
  max_ = newMax;
  // This lattice is the narrowest that reaches the union's extremes, so it is at least as wide
  // as the other's, which only had to reach a part of them: every other bin lies inside one of ours.
  const auto place = [&](double value, uint64_t count) {
    int64_t j = FloorIndex(value, width_) - startIndex_;
    j = std::min<int64_t>(std::max<int64_t>(j, 0), static_cast<int64_t>(bins_) - 1);
    counts_[static_cast<size_t>(j)] += count;
  };
  if (other.min_ == other.max_) {
    place(other.min_, other.count_);
  } else {
    for (size_t j = 0; j < bins_; ++j) {
      if (other.counts_[j] != 0) {
        place((static_cast<double>(other.startIndex_ + static_cast<int64_t>(j)) + 0.5) * other.width_, other.counts_[j]);
      }
    }
  }
  count_ += other.count_;
}

namespace {

// Signed bin index i (covering [i w, (i+1) w)) folded onto |x|: i for x >= 0, -i-1 for x < 0.
uint64_t Folded(int64_t i) { return static_cast<uint64_t>(i >= 0 ? i : -(i + 1)); }

void Put(std::vector<double>* side, uint64_t index, double count) {
  const size_t i = static_cast<size_t>(index);
  if (i >= side->size()) side->resize(i + 1, 0.0);
  (*side)[i] += count;
}

}  // namespace

uint64_t Histogram::FoldFactor(size_t maxBins) const {
  uint64_t largest = 0;
  for (size_t j = 0; j < bins_; ++j) {
    if (counts_[j] != 0) largest = std::max(largest, Folded(startIndex_ + static_cast<int64_t>(j)));
  }
  uint64_t factor = 1;
  while (largest / factor + 1 > maxBins) factor *= 2;
  return factor;
}

double Histogram::AbsCounts(size_t maxBins, std::vector<double>* out) const {
  out->clear();
  const uint64_t factor = FoldFactor(std::max<size_t>(maxBins, 1));
  for (size_t j = 0; j < bins_; ++j) {
    if (counts_[j] != 0) Put(out, Folded(startIndex_ + static_cast<int64_t>(j)) / factor, static_cast<double>(counts_[j]));
  }
  return width_ * static_cast<double>(factor);
}

double Histogram::SideCounts(size_t maxBins, std::vector<double>* positive, std::vector<double>* negative) const {
  positive->clear();
  negative->clear();
  const uint64_t factor = FoldFactor(std::max<size_t>(maxBins, 1));
  for (size_t j = 0; j < bins_; ++j) {
    if (counts_[j] == 0) continue;
    const int64_t i = startIndex_ + static_cast<int64_t>(j);
    Put(i >= 0 ? positive : negative, Folded(i) / factor, static_cast<double>(counts_[j]));
  }
  return width_ * static_cast<double>(factor);
}

}  // namespace calibration
}  // namespace int8detect
