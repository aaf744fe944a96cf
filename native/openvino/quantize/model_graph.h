// Finding the float model's tensors by their ONNX names, for quantization.
// OpenVINO's ONNX frontend keeps every ONNX tensor name on the output port that carries it
// (ov::Output::get_names()), and an initializer's name on its Constant, so the plan, which
// names ONNX tensors, addresses the ov::Model directly.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <openvino/core/model.hpp>

namespace int8detect {
namespace ovq {

// Every output port of the model by each of its tensor names.
std::map<std::string, ov::Output<ov::Node>> OutputsByName(const std::shared_ptr<ov::Model>& model);

// The Constant (through Convert, Reshape, Unsqueeze, FakeQuantize...) behind `source`, or null.
std::shared_ptr<ov::Node> WeightConstant(const ov::Output<ov::Node>& source);

// Whether `node` is a Conv- or MatMul-like op (OpenVINO's INT8 kernels), and which of its input
// ports carries the activation (data) and which the weight (-1 when none).
bool IsComputeOp(const ov::Node& node);

}  // namespace ovq
}  // namespace int8detect
