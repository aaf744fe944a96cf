// Standalone test of the calibration maths (no N-API), built with AddressSanitizer and
// UndefinedBehaviorSanitizer by scripts/asan-calibration.sh. Checks the invariants the
// TypeScript tests cannot reach: extreme magnitudes, denormals, tiny bin counts, exactness.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "core/calibration/entropy.h"
#include "core/calibration/histogram.h"
#include "core/calibration/qparams.h"
#include "core/calibration/ranges.h"
#include "core/calibration/weights.h"

using namespace int8detect::calibration;

namespace {

int failures = 0;

#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                      \
    }                                                                  \
  } while (0)

std::vector<float> Gaussian(size_t n, unsigned seed, float sigma = 1.0f, float mean = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(mean, sigma);
  std::vector<float> out(n);
  for (float& v : out) v = dist(rng);
  return out;
}

bool SameHistogram(const Histogram& a, const Histogram& b) {
  return a.count() == b.count() && a.width() == b.width() && a.start() == b.start() && a.counts() == b.counts() &&
         a.min() == b.min() && a.max() == b.max();
}

void TestStreamingEqualsOneBatch() {
  std::vector<float> all;
  Histogram streamed(2048);
  for (int k = 0; k < 8; ++k) {
    std::vector<float> batch = Gaussian(3000, 10 + k, std::ldexp(1.0f, k), k == 7 ? -500.0f : 0.0f);
    CHECK(streamed.Add(batch.data(), batch.size()) == 0);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  Histogram single(2048);
  single.Add(all.data(), all.size());
  CHECK(SameHistogram(streamed, single));
  uint64_t total = 0;
  for (uint64_t c : single.counts()) total += c;
  CHECK(total == all.size());
  // The lattice is the narrowest power of two that reaches the extremes.
  const Lattice l = LatticeFor(single.min(), single.max(), 2048);
  CHECK(std::floor(single.max() / l.width) - std::floor(single.min() / l.width) < 2048);
  CHECK(std::floor(single.max() / (l.width / 2)) - std::floor(single.min() / (l.width / 2)) >= 2048);
}

void TestMerge() {
  std::vector<float> a = Gaussian(5000, 1, 0.01f);
  std::vector<float> b = Gaussian(7000, 2, 100.0f, 30.0f);
  Histogram ha(512), hb(512), both(512);
  ha.Add(a.data(), a.size());
  hb.Add(b.data(), b.size());
  both.Add(a.data(), a.size());
  both.Add(b.data(), b.size());
  Histogram merged = ha;
  merged.Merge(hb);
  CHECK(SameHistogram(merged, both));
  Histogram reversed = hb;
  reversed.Merge(ha);
  CHECK(reversed.counts() == both.counts());
  Histogram other(256);
  bool threw = false;
  try {
    merged.Merge(other);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

void TestNonFinite() {
  Histogram h(64);
  const float ok[] = {1, 2, 3};
  h.Add(ok, 3);
  const float bad[] = {0, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -1e30f,
                       -std::numeric_limits<float>::infinity()};
  CHECK(h.Add(bad, 5) == 3);
  CHECK(h.count() == 3 && h.min() == 1 && h.max() == 3);
  CHECK(h.Add(nullptr, 0) == 0);
}

void TestExtremes() {
  // Denormals, the float range's ends, and values far from 0 with a tiny spread.
  const float denormals[] = {1e-45f, 3e-45f, 7e-45f, 0.0f};
  const float huge[] = {-FLT_MAX, FLT_MAX, 0.0f, 1.0f};
  const float narrow[] = {1e6f, 1e6f + 0.0625f, 1e6f + 0.125f};
  for (const auto& [values, n] : {std::pair<const float*, size_t>{denormals, 4}, {huge, 4}, {narrow, 3}}) {
    for (size_t bins : {size_t{2}, size_t{3}, size_t{2048}}) {
      Histogram h(bins);
      CHECK(h.Add(values, n) == 0);
      uint64_t total = 0;
      for (uint64_t c : h.counts()) total += c;
      CHECK(total == n);
      CHECK(h.start() <= h.min() && h.start() + static_cast<double>(bins) * h.width() > h.max());
      for (bool symmetric : {true, false}) {
        for (const Range r : {MinMaxRange(h, symmetric), PercentileRange(h, 99.0, symmetric), EntropyRange(h, symmetric)}) {
          CHECK(std::isfinite(r.lo) && std::isfinite(r.hi) && r.lo <= r.hi);
          const double e = QuantizationError(h, r, symmetric ? ActivationMode::kInt8Symmetric : ActivationMode::kUint8Asymmetric);
          CHECK(e >= 0);  // +inf where dequantizing near FLT_MAX overflows float32, as in the runtimes
        }
      }
    }
  }
}

void TestFoldFarFromZero() {
  // A narrow spread far from 0: its |x| histogram is coarsened to fit, not 2^27 bins long.
  std::vector<float> v = Gaussian(10000, 9, 0.001f, 1000.0f);
  Histogram h(2048);
  h.Add(v.data(), v.size());
  std::vector<double> folded;
  const double width = h.AbsCounts(2048, &folded);
  CHECK(folded.size() <= 2048 && width >= h.max() / 2048 && width < 2 * h.max() / 1024);
  double total = 0;
  for (double c : folded) total += c;
  CHECK(total == 10000);
  const Range r = PercentileRange(h, 100.0, true);
  CHECK(r.hi == h.max());
}

void TestConstantThenSpread() {
  Histogram h(128);
  std::vector<float> constant(100, -2.5f);
  h.Add(constant.data(), constant.size());
  CHECK(h.min() == -2.5 && h.max() == -2.5);
  CHECK(QuantizationError(h, MinMaxRange(h, true), ActivationMode::kInt8Symmetric) == 0);
  std::vector<float> spread = Gaussian(1000, 5);
  h.Add(spread.data(), spread.size());
  Histogram single(128);
  std::vector<float> all(constant);
  all.insert(all.end(), spread.begin(), spread.end());
  single.Add(all.data(), all.size());
  CHECK(SameHistogram(h, single));
}

void TestEntropy() {
  std::vector<float> v = Gaussian(200000, 7);
  for (size_t i = 0; i < 40; ++i) v[i * 4999] = (i % 2 ? -1.0f : 1.0f) * (20.0f + static_cast<float>(i) / 4);
  Histogram h(2048);
  h.Add(v.data(), v.size());
  const Range r = EntropyRange(h, true);
  CHECK(r.hi > 3 && r.hi < 6);
  CHECK(r.lo == -r.hi);
  std::vector<double> folded;
  CHECK(h.AbsCounts(2048, &folded) == h.width());
  const EntropyChoice choice = SearchEntropyThreshold(folded, kEntropyLevels);
  CHECK(choice.keptBins >= kEntropyLevels && choice.keptBins <= folded.size());
  CHECK(std::fabs(CandidateDivergence(folded, kEntropyLevels, choice.keptBins) - choice.divergence) < 1e-12);
  CHECK(CandidateDivergence(folded, kEntropyLevels, folded.size()) >= choice.divergence);
  // Too short to search: everything is kept.
  const std::vector<double> short_counts = {5, 0, 3};
  CHECK(SearchEntropyThreshold(short_counts, 128).keptBins == 3);
}

void TestQuantParams() {
  const QuantParams s = ScaleAndZeroPoint({-1.0, 3.0}, ActivationMode::kInt8Symmetric);
  CHECK(s.scale == static_cast<float>(3.0 / 127) && s.zeroPoint == 0);
  const QuantParams a = ScaleAndZeroPoint({-1.0, 3.0}, ActivationMode::kUint8Asymmetric);
  CHECK(a.scale == static_cast<float>(4.0 / 255) && a.zeroPoint == 64);
  CHECK(FakeQuantize(0.0f, a) == 0.0f);
  const QuantParams z = ScaleAndZeroPoint({0.0, 0.0}, ActivationMode::kUint8Asymmetric);
  CHECK(z.scale == kMinimumScale && z.zeroPoint == 0);
  CHECK(FakeQuantize(FLT_MAX, z) == 255 * kMinimumScale);
  CHECK(FakeQuantize(-1e30f, s) == -128 * s.scale);
  // Half-way cases round to even: 2.5 -> 2, 3.5 -> 4 (scale 0.5 divides exactly).
  const QuantParams half{0.5f, 0, -128, 127};
  CHECK(FakeQuantize(1.25f, half) == 1.0f && FakeQuantize(1.75f, half) == 2.0f);
}

void TestWeights() {
  const std::vector<int64_t> dims = {3, 2, 2};
  const float w[] = {0.5f, -1.0f, 0.25f, 0.0f, 0, 0, 0, 0, 254.0f, -127.0f, 0.5f, 1.5f};
  const ChannelLayout layout = LayoutFor(dims, 0, 12);
  float scales[3];
  CHECK(PerChannelScales(w, layout, scales) == 0);
  CHECK(scales[0] == static_cast<float>(1.0 / 127) && scales[1] == kMinimumScale && scales[2] == 2.0f);
  int8_t q[12];
  CHECK(QuantizePerChannel(w, layout, scales, q) == 0);
  CHECK(q[1] == -127 && q[8] == 127 && q[9] == -64 && q[10] == 0 && q[11] == 1);  // 0.25 -> 0, 0.75 -> 1
  const float tooBig[] = {-10.0f, 10.0f};
  const float small[] = {0.01f};
  int8_t out[2];
  const ChannelLayout one{1, 1, 2};
  QuantizePerChannel(tooBig, one, small, out);
  CHECK(out[0] == -127 && out[1] == 127);
  const float nan[] = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  CHECK(PerChannelScales(nan, one, scales) == 1);
  CHECK(QuantizePerChannel(nan, one, small, out) == 1);
  bool threw = false;
  try {
    LayoutFor(dims, 3, 12);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

}  // namespace

int main() {
  TestStreamingEqualsOneBatch();
  TestMerge();
  TestNonFinite();
  TestExtremes();
  TestFoldFarFromZero();
  TestConstantThenSpread();
  TestEntropy();
  TestQuantParams();
  TestWeights();
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("calibration_test: all checks passed\n");
  return 0;
}
