#include "openvino/compiled_session.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "common/dims.h"
#include "openvino/ov_core.h"
#include "openvino/core/graph_util.hpp"
#include "openvino/core/rt_info.hpp"
#include "openvino/op/constant.hpp"
#include "openvino/op/reshape.hpp"

namespace int8detect {
namespace ov_backend {

std::string ElementTypeName(const ov::element::Type& type) {
  if (type == ov::element::f32) return "float32";
  if (type == ov::element::f16) return "float16";
  if (type == ov::element::bf16) return "bfloat16";
  if (type == ov::element::f64) return "float64";
  if (type == ov::element::u8) return "uint8";
  if (type == ov::element::i8) return "int8";
  if (type == ov::element::u16) return "uint16";
  if (type == ov::element::i16) return "int16";
  if (type == ov::element::i32) return "int32";
  if (type == ov::element::i64) return "int64";
  if (type == ov::element::boolean) return "bool";
  return type.get_type_name();
}

ov::element::Type ElementTypeOf(const std::string& name) {
  if (name == "float32") return ov::element::f32;
  if (name == "float16") return ov::element::f16;
  if (name == "float64") return ov::element::f64;
  if (name == "uint8") return ov::element::u8;
  if (name == "int8") return ov::element::i8;
  if (name == "uint16") return ov::element::u16;
  if (name == "int16") return ov::element::i16;
  if (name == "int32") return ov::element::i32;
  if (name == "int64") return ov::element::i64;
  if (name == "bool") return ov::element::boolean;
  return ov::element::dynamic;
}

namespace {

std::string PortName(const ov::Output<const ov::Node>& port) {
  if (!port.get_names().empty()) return port.get_any_name();
  return port.get_node()->get_friendly_name();
}

std::vector<PortDescription> Describe(const std::vector<ov::Output<const ov::Node>>& ports) {
  std::vector<PortDescription> out;
  for (const auto& port : ports) {
    PortDescription description;
    description.name = PortName(port);
    description.type = ElementTypeName(port.get_element_type());
    for (const ov::Dimension& dim : port.get_partial_shape()) description.dims.push_back(dim.is_static() ? dim.get_length() : -1);
    out.push_back(std::move(description));
  }
  return out;
}

std::string RtInfoText(const ov::Node::RTMap& info, const char* key) {
  const auto found = info.find(key);
  return found == info.end() ? std::string() : found->second.as<std::string>();
}

// A Reshape to a constant shape that starts with the batch (1) copies that dimension instead
// (special_zero: 0 = "as in the input"), as the ONNX rewrite does for ONNX models: exporters
// write [1, 85, -1] where they mean "this frame's 85 x N". Only where the reshaped tensor's own
// first dimension is that 1, and where a 0 cannot mean a literal zero elsewhere in the shape.
void FreeReshapeBatch(ov::Model& model) {
  for (const std::shared_ptr<ov::Node>& node : model.get_ordered_ops()) {
    auto reshape = ov::as_type_ptr<ov::op::v1::Reshape>(node);
    if (!reshape) continue;
    auto pattern = ov::as_type_ptr<ov::op::v0::Constant>(reshape->get_input_node_shared_ptr(1));
    if (!pattern) continue;
    std::vector<int64_t> target = pattern->cast_vector<int64_t>();
    const ov::PartialShape& data = reshape->get_input_partial_shape(0);
    if (target.empty() || target[0] != 1 || data.rank().is_dynamic() || data.rank().get_length() < 1) continue;
    if (!data[0].is_static() || data[0].get_length() != 1) continue;
    if (!reshape->get_special_zero() && std::count(target.begin(), target.end(), 0) > 0) continue;
    target[0] = 0;
    auto freed = std::make_shared<ov::op::v0::Constant>(pattern->get_element_type(), pattern->get_shape(), target);
    auto replacement = std::make_shared<ov::op::v1::Reshape>(reshape->input_value(0), freed, true);
    replacement->set_friendly_name(reshape->get_friendly_name());
    ov::copy_runtime_info(reshape, replacement);
    ov::replace_node(reshape, replacement);
  }
}

// The model with every input whose first dimension is a static 1 given a dynamic one, so frames can
// be batched; a model already dynamic there is returned as it is. An IR keeps the batch its ONNX
// source was exported with, and OpenVINO's reshape re-runs shape inference through the graph: what
// still fixes the batch after FreeReshapeBatch (a Reshape to [2, -1]) makes it throw or shows in
// the outputs, and the message says so.
std::shared_ptr<ov::Model> WithDynamicBatch(const std::shared_ptr<ov::Model>& model, std::string* error) {
  // By input index: the clone's ports are other objects, and an input need not have a name.
  std::map<size_t, ov::PartialShape> shapes;
  const std::vector<ov::Output<ov::Node>> inputs = model->inputs();
  for (size_t i = 0; i < inputs.size(); i++) {
    ov::PartialShape shape = inputs[i].get_partial_shape();
    if (shape.rank().is_dynamic() || shape.rank().get_length() < 1) continue;
    if (!shape[0].is_static() || shape[0].get_length() != 1) continue;
    shape[0] = ov::Dimension::dynamic();
    shapes.emplace(i, shape);
  }
  if (shapes.empty()) return model;
  std::shared_ptr<ov::Model> copy = model->clone();
  FreeReshapeBatch(*copy);
  try {
    copy->reshape(shapes);
  } catch (const std::exception& err) {
    *error = "OpenVINO could not give the model a dynamic batch dimension (its graph fixes the batch): " + OpenVinoMessage(err);
    return nullptr;
  }
  // A graph can also take the batch in without failing and fold it into another axis: then an
  // output's first dimension stays 1 and frames would be mixed. Refuse that rather than run it.
  for (const ov::Output<ov::Node>& output : copy->outputs()) {
    const ov::PartialShape& shape = output.get_partial_shape();
    if (shape.rank().is_static() && shape.rank().get_length() >= 1 && shape[0].is_static()) {
      *error = "OpenVINO could not give the model a dynamic batch dimension: output " + PortName(output) + " keeps " +
               shape.to_string() + " (the graph fixes the batch)";
      return nullptr;
    }
  }
  return copy;
}

}  // namespace

std::unique_ptr<CompiledSession> CompiledSession::Compile(const std::shared_ptr<ov::Model>& model,
                                                          const CompileSettings& settings, std::string* error) {
  auto session = std::unique_ptr<CompiledSession>(new CompiledSession());
  try {
    ov::AnyMap properties;
    properties.emplace(ov::hint::performance_mode.name(), settings.performanceHint == "THROUGHPUT"
                                                              ? ov::hint::PerformanceMode::THROUGHPUT
                                                              : ov::hint::PerformanceMode::LATENCY);
    properties.emplace(ov::hint::num_requests.name(), static_cast<uint32_t>(settings.requests));
    if (!settings.cacheDir.empty()) properties.emplace(ov::cache_dir.name(), settings.cacheDir);
    if (settings.perfCounters) properties.emplace(ov::enable_profiling.name(), true);
    if (!settings.inferencePrecision.empty()) {
      properties.emplace(ov::hint::inference_precision.name(), ov::element::Type(settings.inferencePrecision));
    }
    // Thread counts are a CPU plugin property; GPU and NPU plugins refuse it.
    if (settings.threads > 0 && settings.device == "CPU") properties.emplace(ov::inference_num_threads.name(), settings.threads);

    std::shared_ptr<ov::Model> batched = settings.dynamicBatch ? WithDynamicBatch(model, error) : model;
    if (!batched) return nullptr;
    for (const auto& node : batched->get_ops()) {
      if (std::string(node->get_type_name()) == "FakeQuantize") session->fakeQuantizeNodes_++;
    }
    session->compiled_ = SharedCore().compile_model(batched, settings.device, properties);
    session->device_ = settings.device;
    session->performanceHint_ = settings.performanceHint;
    session->profiling_ = settings.perfCounters;
    session->inputs_ = Describe(session->compiled_.inputs());
    session->outputs_ = Describe(session->compiled_.outputs());
    try {
      session->executionDevices_ = session->compiled_.get_property(ov::execution_devices);
    } catch (const std::exception&) {
      session->executionDevices_ = {settings.device};
    }
    try {
      session->inferencePrecision_ = session->compiled_.get_property(ov::hint::inference_precision).get_type_name();
    } catch (const std::exception&) {
      // AUTO and some plugins do not report it; the caller then says "the device's default".
    }
    try {
      session->optimalRequests_ = static_cast<int>(session->compiled_.get_property(ov::optimal_number_of_infer_requests));
    } catch (const std::exception&) {
    }
    for (int i = 0; i < settings.requests; i++) session->requests_.push_back(session->compiled_.create_infer_request());
  } catch (const std::exception& err) {
    *error = "OpenVINO could not compile the model for " + settings.device + ": " + OpenVinoMessage(err);
    return nullptr;
  }
  return session;
}

bool CompiledSession::Run(int slot, const std::vector<InputView>& inputs, std::string* error) {
  if (slot < 0 || slot >= slots()) {
    *error = "Infer request slot " + std::to_string(slot) + " does not exist (the pool has " + std::to_string(slots()) + ")";
    return false;
  }
  ov::InferRequest& request = requests_[slot];
  try {
    for (const InputView& input : inputs) {
      size_t index = inputs_.size();
      for (size_t i = 0; i < inputs_.size(); i++) {
        if (inputs_[i].name == input.name) index = i;
      }
      if (index == inputs_.size()) {
        *error = "The model has no input named '" + input.name + "'";
        return false;
      }
      const ov::element::Type type = ElementTypeOf(input.type);
      const ov::Output<const ov::Node> port = compiled_.input(index);
      if (type != port.get_element_type()) {
        *error = "Input '" + input.name + "' is " + inputs_[index].type + " but received " + input.type + " data";
        return false;
      }
      ov::Shape shape;
      for (int64_t dim : input.dims) shape.push_back(static_cast<size_t>(dim));
      if (!port.get_partial_shape().compatible(ov::PartialShape(shape))) {
        *error = "Input '" + input.name + "' expects dims " + DimsText(inputs_[index].dims) + " but received " + DimsText(input.dims);
        return false;
      }
      if (ov::shape_size(shape) * type.size() != input.bytes) {
        *error = "Input '" + input.name + "' has dims " + DimsText(input.dims) + " but its data holds " + std::to_string(input.bytes) + " bytes";
        return false;
      }
      // The request reads the caller's memory directly: no copy into OpenVINO's own buffer.
      request.set_input_tensor(index, ov::Tensor(type, shape, input.data));
    }
    request.infer();
    if (profiling_) perfCounters_.Add(request.get_profiling_info());
  } catch (const std::exception& err) {
    *error = "OpenVINO inference failed: " + OpenVinoMessage(err);
    return false;
  }
  return true;
}

std::vector<ExecNode> CompiledSession::ExecGraph() const {
  std::vector<ExecNode> nodes;
  const std::shared_ptr<const ov::Model> runtime = compiled_.get_runtime_model();
  for (const auto& node : runtime->get_ordered_ops()) {
    const ov::Node::RTMap& info = node->get_rt_info();
    ExecNode exec;
    exec.name = node->get_friendly_name();
    exec.layerType = RtInfoText(info, "layerType");
    exec.primitiveType = RtInfoText(info, "primitiveType");
    exec.runtimePrecision = RtInfoText(info, "runtimePrecision");
    nodes.push_back(std::move(exec));
  }
  return nodes;
}

}  // namespace ov_backend
}  // namespace int8detect
