// Exports buildPlan(options) -> { promise, abort(reason) }: an engine build off the event loop.
#pragma once
#include <napi.h>

namespace int8detect {
namespace trt {
void InitBuild(Napi::Env env, Napi::Object exports);
}  // namespace trt
}  // namespace int8detect
