// OpenVINO's per-layer profiling (PERF_COUNT), summed over runs so a benchmark reads one table:
// which layers ran, in which kernel (exec type, e.g. brgconv_avx512_I8), and where the time went.
#pragma once
#include <openvino/runtime/profiling_info.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace int8detect {
namespace ov_backend {

struct LayerCounter {
  std::string name;
  std::string nodeType;  // the layer's type in the compiled graph: Convolution, Eltwise, Subgraph, ...
  std::string execType;  // the kernel: jit_avx512_I8, brgconv_avx2_FP32, ref_any, ...
  std::string status;    // EXECUTED, NOT_RUN or OPTIMIZED_OUT
  int64_t realTimeUs = 0;  // summed over runs
  int64_t cpuTimeUs = 0;
  int64_t runs = 0;
};

class PerfCounterTable {
 public:
  // Adds one run's counters (from any worker thread).
  void Add(const std::vector<ov::ProfilingInfo>& run);
  // The counters in first-seen order, and how many runs they sum; `reset` starts a new table.
  std::vector<LayerCounter> Snapshot(bool reset, int64_t* runs);

 private:
  std::mutex mutex_;
  std::vector<LayerCounter> layers_;
  std::map<std::string, size_t> indexByName_;
  int64_t runs_ = 0;
};

}  // namespace ov_backend
}  // namespace int8detect
