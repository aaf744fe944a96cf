#include "openvino/quantize/fake_quantize_emitter.h"

#include "openvino/quantize/model_graph.h"

#include <set>
#include <stdexcept>

#include <openvino/op/constant.hpp>
#include <openvino/op/fake_quantize.hpp>
#include <openvino/core/graph_util.hpp>

namespace int8detect {
namespace ovq {
namespace {

std::shared_ptr<ov::Node> ScalarConstant(float value) {
  return ov::op::v0::Constant::create(ov::element::f32, ov::Shape{}, {value});
}

// Per-channel bounds shaped to broadcast against the weight: [C, 1, 1, ...] along `axis`.
std::shared_ptr<ov::Node> ChannelConstant(const std::vector<float>& values, const ov::Shape& weightShape, int64_t axis) {
  ov::Shape shape(weightShape.size(), 1);
  shape[static_cast<size_t>(axis)] = values.size();
  return ov::op::v0::Constant::create(ov::element::f32, shape, values);
}

bool NamedBy(const ov::Node& node, const std::set<std::string>& consumers) {
  if (consumers.empty()) return true;
  if (node.get_input_size() < 2) return false;
  auto constant = WeightConstant(node.input_value(1));
  if (!constant) return false;
  for (const auto& name : constant->output(0).get_names()) {
    if (consumers.count(name)) return true;
  }
  return consumers.count(constant->get_friendly_name()) > 0;
}

void InsertActivation(const ActivationFq& a, const ov::Output<ov::Node>& output, EmitReport& report) {
  if (!(a.high > a.low)) throw std::invalid_argument("activation '" + a.tensor + "': high must be greater than low");
  const std::set<std::string> consumers(a.consumers.begin(), a.consumers.end());
  // Collect first: replacing sources while iterating the target set would change it.
  std::vector<ov::Input<ov::Node>> targets;
  for (const auto& input : output.get_target_inputs()) {
    const auto* node = input.get_node();
    if (!IsComputeOp(*node)) continue;
    // Only the data operand of a convolution; either operand of a MatMul.
    if (std::string(node->get_type_name()) != "MatMul" && input.get_index() != 0) continue;
    if (!NamedBy(*node, consumers)) continue;
    targets.push_back(input);
  }
  if (targets.empty()) {
    report.warnings.push_back("activation '" + a.tensor + "': no Conv- or MatMul-like op of the plan reads it; left in float");
    return;
  }
  auto low = ScalarConstant(a.low);
  auto high = ScalarConstant(a.high);
  auto fq = std::make_shared<ov::op::v0::FakeQuantize>(output, low, high, low, high, a.levels);
  fq->set_friendly_name(a.tensor + "/fq");
  for (auto& input : targets) input.replace_source_output(fq->output(0));
  report.activationFakeQuantizes++;
}

void InsertWeight(const WeightFq& w, const ov::Output<ov::Node>& output, EmitReport& report) {
  const ov::Shape shape = output.get_shape();
  if (w.axis < 0 || static_cast<size_t>(w.axis) >= shape.size()) {
    throw std::invalid_argument("weight '" + w.tensor + "': axis " + std::to_string(w.axis) + " is outside its rank " + std::to_string(shape.size()));
  }
  const size_t channels = shape[static_cast<size_t>(w.axis)];
  if (w.low.size() != channels || w.high.size() != channels) {
    throw std::invalid_argument("weight '" + w.tensor + "': " + std::to_string(w.low.size()) + " ranges for " + std::to_string(channels) + " channels");
  }
  auto targets = output.get_target_inputs();
  auto low = ChannelConstant(w.low, shape, w.axis);
  auto high = ChannelConstant(w.high, shape, w.axis);
  auto fq = std::make_shared<ov::op::v0::FakeQuantize>(output, low, high, low, high, w.levels);
  fq->set_friendly_name(w.tensor + "/fq");
  for (auto input : targets) input.replace_source_output(fq->output(0));
  report.weightFakeQuantizes++;
}

void ShiftBias(const BiasShift& b, const ov::Output<ov::Node>& output, EmitReport& report) {
  auto constant = ov::as_type_ptr<ov::op::v0::Constant>(output.get_node_shared_ptr());
  if (!constant || constant->get_element_type() != ov::element::f32) {
    throw std::invalid_argument("bias '" + b.tensor + "' is not a float32 constant");
  }
  std::vector<float> values = constant->cast_vector<float>();
  if (values.size() != b.delta.size()) {
    throw std::invalid_argument("bias '" + b.tensor + "': " + std::to_string(b.delta.size()) + " corrections for " + std::to_string(values.size()) + " values");
  }
  for (size_t i = 0; i < values.size(); i++) values[i] += b.delta[i];
  auto shifted = ov::op::v0::Constant::create(ov::element::f32, constant->get_shape(), values);
  shifted->set_friendly_name(constant->get_friendly_name());
  shifted->output(0).set_names(output.get_names());
  for (auto input : output.get_target_inputs()) input.replace_source_output(shifted->output(0));
  report.biasesShifted++;
}

}  // namespace

EmitReport EmitFakeQuantizeIr(const EmitJob& job) {
  auto model = ov_backend::ReadModelOrFail(job.model);
  const auto outputs = OutputsByName(model);
  const auto find = [&](const std::string& tensor, const char* what) {
    auto it = outputs.find(tensor);
    if (it == outputs.end()) throw std::invalid_argument(std::string(what) + " '" + tensor + "' is not a tensor of the model");
    return it->second;
  };
  EmitReport report;
  // Biases first: their constants are replaced, and FakeQuantize nodes never read them.
  for (const auto& b : job.biases) ShiftBias(b, find(b.tensor, "bias"), report);
  for (const auto& a : job.activations) InsertActivation(a, find(a.tensor, "activation"), report);
  for (const auto& w : job.weights) InsertWeight(w, find(w.tensor, "weight"), report);
  model->validate_nodes_and_infer_types();
  ov::serialize(model, job.xmlPath, job.binPath);
  return report;
}

}  // namespace ovq
}  // namespace int8detect
