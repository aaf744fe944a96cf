// The float model compiled for calibration: the tensors to collect statistics for are added as
// outputs of the ov::Model, and it runs on CPU in f32 whatever the CPU's default precision
// (BF16 on CPUs that have it), so statistics describe the float model. Pure C++.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <openvino/runtime/compiled_model.hpp>
#include <openvino/runtime/infer_request.hpp>

#include "openvino/model_source.h"

namespace int8detect {
namespace ovq {

struct NamedTensor {
  std::string name;
  std::vector<size_t> dims;
  std::vector<float> data;
};

class StatisticsRunner {
 public:
  // `tensors`: ONNX tensor names to expose; each must be a float tensor of the model.
  StatisticsRunner(const ov_backend::ModelSource& source, const std::vector<std::string>& tensors, int threads);

  // One run on `data` of shape `dims` (the model's single input); returns the model's own outputs
  // and every exposed tensor, each under the name it was asked by. Not thread-safe: one at a time.
  std::vector<NamedTensor> Run(const float* data, const std::vector<size_t>& dims);

  const std::string& inputName() const { return inputName_; }
  const std::vector<std::string>& outputNames() const { return outputNames_; }

 private:
  ov::CompiledModel compiled_;
  ov::InferRequest request_;
  std::string inputName_;
  std::vector<std::string> outputNames_;
};

}  // namespace ovq
}  // namespace int8detect
