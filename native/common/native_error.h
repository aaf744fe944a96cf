// The one native error: a JavaScript Error whose `code` is one of the Int8DetectErrorCode strings
// of lib/util/errors.ts, so TypeScript branches on it (better-sqlite3's habit). Every module throws and
// rejects through here and spells no code itself; test/native-error-codes.test.ts checks that this
// list and the TypeScript one are the same and that no other native source names a code.
#pragma once
#include <napi.h>

#include <stdexcept>
#include <string>

namespace int8detect {

enum class ErrorCode {
  kArgument,            // a bad argument to a public function
  kFrame,               // a frame that does not match its declared size or format
  kModel,               // a model file that is missing, unreadable or not a model
  kDecoder,             // an output no decoder recognises
  kBackendUnavailable,  // a backend that cannot run here
  kDisposed,            // a call on an engine that was disposed
  kNative,              // the native addon failed or could not load
  kInference,           // the runtime failed while running the model
  kCalibration,         // calibration data that cannot be used, or a calibrator that failed, stalled or was aborted
  kEngineBuild,         // a runtime could not build or load an engine from the model
  kAborted,             // work stopped by its AbortSignal (calibration, quantization, a search)
  kVideo,               // a video source that cannot be opened, decoded or kept up
};

// The code as lib/util/errors.ts spells it: ERR_ARGUMENT for ErrorCode::kArgument, and so on.
const char* ErrorCodeName(ErrorCode code);

// A JavaScript Error with `code` set. Main thread only.
Napi::Error NativeError(Napi::Env env, ErrorCode code, const std::string& message);
[[noreturn]] void ThrowNativeError(Napi::Env env, ErrorCode code, const std::string& message);

// A failure on a worker thread, which must not touch JavaScript: the promise core turns it into a
// NativeError with this code when it settles the promise on the main thread.
class NativeFailure : public std::runtime_error {
 public:
  NativeFailure(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace int8detect
