// Where a model comes from (ONNX bytes in memory, or a file: ONNX, or OpenVINO IR .xml with its
// .bin beside it) and how it is read into an ov::Model, with errors that name the file.
#pragma once
#include <openvino/core/model.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace int8detect {
namespace ov_backend {

struct ModelSource {
  std::vector<uint8_t> bytes;  // the model itself when not empty (ONNX, or IR xml text)
  std::string path;            // the file to read when bytes is empty; the name in messages always
};

// The IR's weights file: "model.xml" -> "model.bin".
std::string WeightsPathOf(const std::string& xmlPath);

// True for "*.xml" (any case).
bool IsIrPath(const std::string& path);

// Reads the model; nullptr and `error` set when OpenVINO cannot.
std::shared_ptr<ov::Model> ReadModel(const ModelSource& source, std::string* error);

}  // namespace ov_backend
}  // namespace int8detect
