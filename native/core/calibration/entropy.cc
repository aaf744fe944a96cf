#include "core/calibration/entropy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace int8detect {
namespace calibration {
namespace {

// MXNet's and ONNX Runtime's smoothing constant, added to the zero bins of raw counts.
constexpr double kSmoothing = 1e-4;

// Buffers reused across the candidates of one search.
struct Workspace {
  std::vector<double> p;
  std::vector<double> q;
  std::vector<double> levelMass;
  std::vector<size_t> levelNonZero;
};

// Gives every zero bin kSmoothing and takes the same total back from the non-zero bins, so the
// sum is unchanged. Raw counts are >= 1 but Q's spread-out values can be smaller, so the amount
// taken is capped at half the smallest non-zero value (a bin never turns negative). Returns
// false where every bin is zero.
bool Smooth(std::vector<double>* bins, size_t n) {
  size_t zeros = 0;
  double smallest = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const double v = (*bins)[i];
    if (v == 0) {
      ++zeros;
    } else {
      smallest = std::min(smallest, v);
    }
  }
  const size_t nonZeros = n - zeros;
  if (nonZeros == 0) return false;
  if (zeros == 0) return true;
  double give = kSmoothing;
  double take = give * static_cast<double>(zeros) / static_cast<double>(nonZeros);
  if (take > smallest / 2) {
    take = smallest / 2;
    give = take * static_cast<double>(nonZeros) / static_cast<double>(zeros);
  }
  for (size_t i = 0; i < n; ++i) (*bins)[i] += (*bins)[i] == 0 ? give : -take;
  return true;
}

// Level of bin i when `kept` bins are merged into `levels` levels: as even as integers allow
// (each level takes floor or ceil of kept / levels bins). Putting the whole remainder into the
// last level instead, as some implementations do, makes that level up to 64 times wider than
// the others just above 128 x k bins and biases the search towards those candidates.
size_t LevelOf(size_t i, size_t levels, size_t kept) { return i * levels / kept; }

double Divergence(const std::vector<double>& counts, double outliers, size_t levels, size_t kept, Workspace* w) {
  std::vector<double>& p = w->p;
  std::vector<double>& q = w->q;
  p.assign(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(kept));
  p[kept - 1] += outliers;

  w->levelMass.assign(levels, 0.0);
  w->levelNonZero.assign(levels, 0);
  for (size_t i = 0; i < kept; ++i) {
    const size_t level = LevelOf(i, levels, kept);
    w->levelMass[level] += counts[i];
    w->levelNonZero[level] += p[i] != 0;
  }
  q.assign(kept, 0.0);
  for (size_t i = 0; i < kept; ++i) {
    if (p[i] != 0) q[i] = w->levelMass[LevelOf(i, levels, kept)] / static_cast<double>(w->levelNonZero[LevelOf(i, levels, kept)]);
  }
  if (!Smooth(&p, kept) || !Smooth(&q, kept)) return std::numeric_limits<double>::infinity();

  double pSum = 0;
  double qSum = 0;
  for (size_t i = 0; i < kept; ++i) {
    pSum += p[i];
    qSum += q[i];
  }
  double kl = 0;
  for (size_t i = 0; i < kept; ++i) {
    const double pi = p[i] / pSum;
    kl += pi * std::log(pi / (q[i] / qSum));
  }
  return kl;
}

// The histogram the search sees: bin 0's count replaced by bin 1's. Bin 0 holds the exact zeros
// of ReLU-like tensors (often half the mass), which every range represents exactly; left in,
// that spike dominates KL(P || Q) as soon as two bins share a level and drags the threshold
// down to the smallest candidates (NVIDIA's pytorch-quantization does the same).
std::vector<double> WithoutZeroSpike(const std::vector<double>& counts) {
  std::vector<double> out(counts);
  if (out.size() >= 2) out[0] = out[1];
  return out;
}

}  // namespace

double CandidateDivergence(const std::vector<double>& counts, size_t levels, size_t keptBins) {
  if (levels == 0 || keptBins < levels || keptBins > counts.size()) {
    throw std::invalid_argument("keptBins must lie in [levels, counts.size()]");
  }
  const std::vector<double> searched = WithoutZeroSpike(counts);
  double outliers = 0;
  for (size_t i = keptBins; i < searched.size(); ++i) outliers += searched[i];
  Workspace w;
  return Divergence(searched, outliers, levels, keptBins, &w);
}

EntropyChoice SearchEntropyThreshold(const std::vector<double>& counts, size_t levels) {
  const size_t n = counts.size();
  if (levels == 0) throw std::invalid_argument("the entropy search needs at least one level");
  if (n <= levels) return {n, 0.0};
  const std::vector<double> searched = WithoutZeroSpike(counts);
  // tail[i] = mass in bins i..n-1, so each candidate's outliers cost nothing to find.
  std::vector<double> tail(n + 1, 0.0);
  for (size_t i = n; i-- > 0;) tail[i] = tail[i + 1] + searched[i];
  Workspace w;
  EntropyChoice best{n, std::numeric_limits<double>::infinity()};
  for (size_t kept = levels; kept <= n; ++kept) {
    const double kl = Divergence(searched, tail[kept], levels, kept, &w);
    if (kl < best.divergence) best = {kept, kl};
  }
  if (!std::isfinite(best.divergence)) best = {n, best.divergence};
  return best;
}

}  // namespace calibration
}  // namespace int8detect
