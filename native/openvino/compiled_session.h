// A model compiled for one device with a pool of infer requests: each slot is one ov::InferRequest,
// so runs on different slots execute at the same time (TypeScript hands out the slots).
#pragma once
#include <openvino/runtime/compiled_model.hpp>
#include <openvino/runtime/infer_request.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "openvino/perf_counters.h"

namespace int8detect {
namespace ov_backend {

// Everything TypeScript decided; C++ only executes it.
struct CompileSettings {
  std::string device = "CPU";
  std::string performanceHint = "LATENCY";  // or "THROUGHPUT"
  int requests = 1;                          // infer requests in the pool
  int threads = 0;                           // CPU only; 0 lets OpenVINO choose
  std::string cacheDir;                      // OpenVINO's CACHE_DIR; empty for none
  std::string inferencePrecision;            // "" (the device's default), "f32", "bf16" or "f16"
  bool perfCounters = false;                 // PERF_COUNT: per-layer timings, at a small cost per run
  bool dynamicBatch = false;                 // inputs whose first dimension is 1 get a dynamic one (model->reshape)
};

struct PortDescription {
  std::string name;
  std::string type;           // float32, uint8, ... (the names TypeScript's typed arrays use)
  std::vector<int64_t> dims;  // -1 for a dynamic dimension
};

// An input living in JavaScript memory, kept alive by the caller for the whole run.
struct InputView {
  std::string name;
  std::string type;
  std::vector<int64_t> dims;
  void* data = nullptr;
  size_t bytes = 0;
};

// One node of the compiled (runtime) graph: what the plugin actually runs.
struct ExecNode {
  std::string name;
  std::string layerType;         // Convolution, Eltwise, FullyConnected, Subgraph, ...
  std::string primitiveType;     // the kernel: brgconv_avx512_I8, jit_avx2_FP32, ...
  std::string runtimePrecision;  // I8, U8, FP32, BF16, ...
};

class CompiledSession {
 public:
  // The caller checks the device first (CheckDevice), so that error names the devices present.
  static std::unique_ptr<CompiledSession> Compile(const std::shared_ptr<ov::Model>& model, const CompileSettings& settings,
                                                  std::string* error);

  // Runs slot `slot` on `inputs`; false and `error` set on failure. One run per slot at a time.
  bool Run(int slot, const std::vector<InputView>& inputs, std::string* error);
  // Output `index` of the last run on `slot`.
  ov::Tensor Output(int slot, size_t index) { return requests_[slot].get_output_tensor(index); }

  const std::vector<PortDescription>& inputs() const { return inputs_; }
  const std::vector<PortDescription>& outputs() const { return outputs_; }
  int slots() const { return static_cast<int>(requests_.size()); }
  const std::string& device() const { return device_; }
  const std::vector<std::string>& executionDevices() const { return executionDevices_; }
  const std::string& inferencePrecision() const { return inferencePrecision_; }
  const std::string& performanceHint() const { return performanceHint_; }
  int optimalRequests() const { return optimalRequests_; }
  int fakeQuantizeNodes() const { return fakeQuantizeNodes_; }
  bool profiling() const { return profiling_; }
  PerfCounterTable& perfCounters() { return perfCounters_; }
  std::vector<ExecNode> ExecGraph() const;

 private:
  ov::CompiledModel compiled_;
  std::vector<ov::InferRequest> requests_;
  std::vector<PortDescription> inputs_;
  std::vector<PortDescription> outputs_;
  std::string device_;
  std::vector<std::string> executionDevices_;
  std::string inferencePrecision_;
  std::string performanceHint_;
  int optimalRequests_ = 0;
  int fakeQuantizeNodes_ = 0;
  bool profiling_ = false;
  PerfCounterTable perfCounters_;
};

// float32 <-> ov::element::f32 and the like; ov::element::dynamic for a type TypeScript cannot hold.
std::string ElementTypeName(const ov::element::Type& type);
ov::element::Type ElementTypeOf(const std::string& name);

}  // namespace ov_backend
}  // namespace int8detect
