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

}  // namespace ov_backend
}  // namespace int8detect
