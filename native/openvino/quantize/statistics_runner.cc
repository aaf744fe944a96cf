#include "openvino/quantize/statistics_runner.h"

#include <cstring>
#include <set>
#include <stdexcept>

#include <openvino/runtime/properties.hpp>

#include "openvino/ov_core.h"
#include "openvino/quantize/model_graph.h"

namespace int8detect {
namespace ovq {

StatisticsRunner::StatisticsRunner(const ov_backend::ModelSource& source, const std::vector<std::string>& tensors, int threads) {
  auto model = ov_backend::ReadModelOrFail(source);
  if (model->inputs().size() != 1) throw std::invalid_argument("calibration needs a model with one input; this one has " + std::to_string(model->inputs().size()));
  inputName_ = model->input(0).get_any_name();
  std::set<std::string> present;
  for (const auto& output : model->outputs()) {
    outputNames_.push_back(output.get_any_name());
    present.insert(output.get_any_name());
  }
  const auto byName = OutputsByName(model);
  for (const auto& tensor : tensors) {
    if (present.count(tensor)) continue;
    auto it = byName.find(tensor);
    if (it == byName.end()) throw std::invalid_argument("tensor '" + tensor + "' is not a tensor of the model");
    if (it->second.get_element_type() != ov::element::f32) throw std::invalid_argument("tensor '" + tensor + "' is not float32, so it cannot be calibrated as an activation");
    auto added = model->add_output(it->second);
    // The result's port carries every name of the tensor; ask for it later by the one requested.
    (void)added;
    outputNames_.push_back(tensor);
    present.insert(tensor);
  }
  ov::AnyMap config{ov::hint::inference_precision(ov::element::f32), ov::hint::performance_mode(ov::hint::PerformanceMode::LATENCY)};
  if (threads > 0) config.emplace(ov::inference_num_threads.name(), threads);
  compiled_ = ov_backend::SharedCore().compile_model(model, "CPU", config);
  request_ = compiled_.create_infer_request();
}

std::vector<NamedTensor> StatisticsRunner::Run(const float* data, const std::vector<size_t>& dims) {
  ov::Tensor input(ov::element::f32, ov::Shape(dims.begin(), dims.end()), const_cast<float*>(data));
  request_.set_tensor(inputName_, input);
  request_.infer();
  std::vector<NamedTensor> result;
  result.reserve(outputNames_.size());
  for (const auto& name : outputNames_) {
    ov::Tensor tensor = request_.get_tensor(name);
    NamedTensor out;
    out.name = name;
    const auto shape = tensor.get_shape();
    out.dims.assign(shape.begin(), shape.end());
    if (tensor.get_element_type() != ov::element::f32) throw std::runtime_error("output '" + name + "' is not float32");
    out.data.resize(tensor.get_size());
    std::memcpy(out.data.data(), tensor.data<const float>(), tensor.get_byte_size());
    result.push_back(std::move(out));
  }
  return result;
}

}  // namespace ovq
}  // namespace int8detect
