// Exports loadModel(options) -> Promise<handle>: the model read and compiled in a worker thread;
// the handle runs slots (infer requests) in AsyncWorkers and reads perf counters and the exec graph.
#pragma once
#include <napi.h>

namespace int8detect {
namespace ov_backend {
void InitSession(Napi::Env env, Napi::Object exports);
}  // namespace ov_backend
}  // namespace int8detect
