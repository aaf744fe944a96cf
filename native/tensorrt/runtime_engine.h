// A deserialized plan and its execution slots: each slot is one execution context with its own
// CUDA stream and its own pinned host and device buffers, so slots run concurrently. Which slot a
// run uses is decided by the caller (the TypeScript session's pool), one run per slot at a time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tensorrt/cuda_util.h"
#include "tensorrt/trt_logger.h"
#include "tensorrt/trt_version.h"

namespace int8detect {
namespace trt {

struct TensorDescription {
  std::string name;
  bool input = false;
  // The type JavaScript exchanges: "float32", "int32", ... An FP16 tensor (an engine built from an
  // FP16 model, TensorRT 11's FP16 route) is exchanged as float32 and converted in Run.
  std::string type;
  std::string engineType;     // the engine's own type: "float16" for such a tensor
  std::vector<int64_t> dims;  // -1 for dynamic dimensions
  // For dynamic inputs: the shapes optimization profile 0 allows.
  std::vector<int64_t> min, opt, max;
};

struct InputView {
  std::string name;
  std::string type;  // the typed array's element type: "float32", "uint16", ...
  std::vector<int64_t> dims;
  const void* data = nullptr;
  size_t bytes = 0;
};

struct OutputTensor {
  std::string name;
  std::string type;  // float16 outputs come back converted to "float32"
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
};

struct LoadOptions {
  int device = 0;
  int dlaCore = -1;
  int contexts = 1;
};

class ExecutionSlot;

class RuntimeEngine {
 public:
  // Null with `error` set when the plan cannot be used here.
  static std::unique_ptr<RuntimeEngine> Load(const std::vector<uint8_t>& plan, const LoadOptions& options, std::string* error);
  ~RuntimeEngine();

  const std::vector<TensorDescription>& tensors() const { return tensors_; }
  int slots() const { return static_cast<int>(slots_.size()); }
  // One run on execution slot `slot`; one run per slot at a time (each slot has its own thread).
  bool Run(int slot, const std::vector<InputView>& inputs, std::vector<OutputTensor>* outputs, std::string* error);

 private:
  RuntimeEngine() = default;
  bool Enqueue(ExecutionSlot& slot, const std::vector<InputView>& inputs, std::vector<OutputTensor>* outputs, std::string* error);

  int device_ = 0;
  CollectingLogger logger_;
  // Destroyed in reverse: contexts, then the engine, then the runtime.
  std::unique_ptr<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine> engine_;
  std::vector<std::unique_ptr<ExecutionSlot>> slots_;
  std::vector<TensorDescription> tensors_;
};

}  // namespace trt
}  // namespace int8detect
