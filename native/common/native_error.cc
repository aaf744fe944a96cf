#include "common/native_error.h"

namespace int8detect {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kArgument:
      return "ERR_ARGUMENT";
    case ErrorCode::kFrame:
      return "ERR_FRAME";
    case ErrorCode::kModel:
      return "ERR_MODEL";
    case ErrorCode::kDecoder:
      return "ERR_DECODER";
    case ErrorCode::kBackendUnavailable:
      return "ERR_BACKEND_UNAVAILABLE";
    case ErrorCode::kDisposed:
      return "ERR_DISPOSED";
    case ErrorCode::kNative:
      break;
    case ErrorCode::kInference:
      return "ERR_INFERENCE";
    case ErrorCode::kCalibration:
      return "ERR_CALIBRATION";
    case ErrorCode::kEngineBuild:
      return "ERR_ENGINE_BUILD";
    case ErrorCode::kAborted:
      return "ERR_ABORTED";
    case ErrorCode::kVideo:
      return "ERR_VIDEO";
  }
  return "ERR_NATIVE";  // kNative, and anything outside the enum
}

Napi::Error NativeError(Napi::Env env, ErrorCode code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", ErrorCodeName(code));
  return error;
}

void ThrowNativeError(Napi::Env env, ErrorCode code, const std::string& message) {
  throw NativeError(env, code, message);
}

}  // namespace int8detect
