#include "openvino/model_source.h"

#include <openvino/runtime/tensor.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "openvino/ov_core.h"

namespace int8detect {
namespace ov_backend {

bool IsIrPath(const std::string& path) {
  if (path.size() < 4) return false;
  std::string ext = path.substr(path.size() - 4);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".xml";
}

std::string WeightsPathOf(const std::string& xmlPath) { return xmlPath.substr(0, xmlPath.size() - 4) + ".bin"; }

std::shared_ptr<ov::Model> ReadModel(const ModelSource& source, std::string* error) {
  try {
    if (!source.bytes.empty()) {
      // read_model(string, tensor) copies nothing it keeps: ONNX weights are taken from the string
      // into the model's constants, so the bytes may be freed afterwards.
      const std::string text(reinterpret_cast<const char*>(source.bytes.data()), source.bytes.size());
      return SharedCore().read_model(text, ov::Tensor());
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(source.path, ec)) {
      *error = "Cannot read the model " + source.path + ": no such file";
      return nullptr;
    }
    if (IsIrPath(source.path)) {
      // OpenVINO's own message for a missing .bin does not say which file it looked for.
      const std::string bin = WeightsPathOf(source.path);
      if (!std::filesystem::is_regular_file(bin, ec)) {
        *error = "The OpenVINO IR " + source.path + " has no weights file beside it: " + bin + " is missing";
        return nullptr;
      }
      return SharedCore().read_model(source.path, bin);
    }
    return SharedCore().read_model(source.path);
  } catch (const std::exception& err) {
    *error = "OpenVINO cannot read the model " + source.path + ": " + OpenVinoMessage(err);
    return nullptr;
  }
}

std::shared_ptr<ov::Model> ReadModelOrFail(const ModelSource& source) {
  std::string error;
  std::shared_ptr<ov::Model> model = ReadModel(source, &error);
  if (!model) throw NativeFailure(ErrorCode::kModel, error);
  return model;
}

ModelSource ReadModelSourceOptions(const OptionReader& options) {
  ModelSource source;
  source.path = options.String("modelPath");
  source.bytes = options.OptionalBytes("model");
  return source;
}

ModelSource ReadModelSourceValue(const Received& model) {
  ModelSource source;
  if (model.value().IsString()) {
    source.path = model.String();
  } else if (model.value().IsTypedArray() && model.value().As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    source.bytes = model.Bytes();
    source.path = "(an ONNX model of " + std::to_string(source.bytes.size()) + " bytes in memory)";
  } else {
    model.Reject("a model path or the bytes of an ONNX model (Uint8Array)");
  }
  return source;
}

}  // namespace ov_backend
}  // namespace int8detect
