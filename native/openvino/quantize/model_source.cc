#include "openvino/quantize/model_source.h"

#include <stdexcept>

#include <openvino/op/constant.hpp>
#include <openvino/runtime/tensor.hpp>

namespace int8detect {
namespace ovq {

std::shared_ptr<ov::Model> ReadModel(ov::Core& core, const ModelSource& source) {
  if (!source.path.empty()) return core.read_model(source.path);
  if (source.bytes.empty()) throw std::invalid_argument("the model is empty (no path and no bytes)");
  // An ONNX model read from memory: its weights are inside the bytes, so no weights tensor.
  std::string text(reinterpret_cast<const char*>(source.bytes.data()), source.bytes.size());
  return core.read_model(text, ov::Tensor());
}

std::map<std::string, ov::Output<ov::Node>> OutputsByName(const std::shared_ptr<ov::Model>& model) {
  std::map<std::string, ov::Output<ov::Node>> result;
  for (const auto& node : model->get_ordered_ops()) {
    for (const auto& output : node->outputs()) {
      for (const auto& name : output.get_names()) result.emplace(name, output);
    }
  }
  return result;
}

std::shared_ptr<ov::Node> WeightConstant(const ov::Output<ov::Node>& source) {
  auto node = source.get_node_shared_ptr();
  // Shape and type plumbing the ONNX frontend puts between an initializer and the op reading it.
  for (int hops = 0; node && hops < 6; hops++) {
    const std::string type = node->get_type_name();
    if (type == "Constant") return node;
    if (type != "Convert" && type != "Reshape" && type != "Unsqueeze" && type != "Squeeze" && type != "Transpose" &&
        type != "FakeQuantize") {
      return nullptr;
    }
    node = node->input_value(0).get_node_shared_ptr();
  }
  return nullptr;
}

bool IsComputeOp(const ov::Node& node) {
  const std::string type = node.get_type_name();
  return type == "Convolution" || type == "GroupConvolution" || type == "ConvolutionBackpropData" ||
         type == "GroupConvolutionBackpropData" || type == "MatMul";
}

}  // namespace ovq
}  // namespace int8detect
