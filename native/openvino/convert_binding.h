// Exports convertToIr({ model, modelPath, xmlPath, compressToFp16 }) -> Promise<void>: reads a
// model (ONNX bytes or a file) and saves it as OpenVINO IR, written to temporary names then renamed.
#pragma once
#include <napi.h>

namespace int8detect {
namespace ov_backend {
void InitConvert(Napi::Env env, Napi::Object exports);
}  // namespace ov_backend
}  // namespace int8detect
