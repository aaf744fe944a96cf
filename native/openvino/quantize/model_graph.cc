#include "openvino/quantize/model_graph.h"

#include <openvino/op/constant.hpp>

namespace int8detect {
namespace ovq {

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
