#include "openvino/perf_counters.h"

namespace int8detect {
namespace ov_backend {
namespace {

const char* StatusText(ov::ProfilingInfo::Status status) {
  switch (status) {
    case ov::ProfilingInfo::Status::EXECUTED:
      return "EXECUTED";
    case ov::ProfilingInfo::Status::OPTIMIZED_OUT:
      return "OPTIMIZED_OUT";
    case ov::ProfilingInfo::Status::NOT_RUN:
      break;
  }
  return "NOT_RUN";
}

}  // namespace

void PerfCounterTable::Add(const std::vector<ov::ProfilingInfo>& run) {
  std::lock_guard<std::mutex> lock(mutex_);
  runs_++;
  for (const ov::ProfilingInfo& layer : run) {
    auto found = indexByName_.find(layer.node_name);
    if (found == indexByName_.end()) {
      LayerCounter counter;
      counter.name = layer.node_name;
      counter.nodeType = layer.node_type;
      counter.execType = layer.exec_type;
      counter.status = StatusText(layer.status);
      found = indexByName_.emplace(layer.node_name, layers_.size()).first;
      layers_.push_back(std::move(counter));
    }
    LayerCounter& counter = layers_[found->second];
    counter.realTimeUs += layer.real_time.count();
    counter.cpuTimeUs += layer.cpu_time.count();
    counter.runs++;
  }
}

std::vector<LayerCounter> PerfCounterTable::Snapshot(bool reset, int64_t* runs) {
  std::lock_guard<std::mutex> lock(mutex_);
  *runs = runs_;
  std::vector<LayerCounter> copy = layers_;
  if (reset) {
    layers_.clear();
    indexByName_.clear();
    runs_ = 0;
  }
  return copy;
}

}  // namespace ov_backend
}  // namespace int8detect
