// Where a model comes from (ONNX bytes in memory, or a file: ONNX, or OpenVINO IR .xml with its
// .bin beside it) and how it is read into an ov::Model, with errors that name the file. The one
// reader for inference, conversion and quantization.
#pragma once
#include <openvino/core/model.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/option_reader.h"

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
// The same, throwing NativeFailure (ERR_MODEL) naming the model: for worker threads.
std::shared_ptr<ov::Model> ReadModelOrFail(const ModelSource& source);

// Main thread. { modelPath, model?: Uint8Array | null }: the file, or its bytes already in memory.
ModelSource ReadModelSourceOptions(const OptionReader& options);
// Main thread. A path (string) or the bytes of an ONNX model (Uint8Array), as quantization passes it.
ModelSource ReadModelSourceValue(const Received& model);

}  // namespace ov_backend
}  // namespace int8detect
