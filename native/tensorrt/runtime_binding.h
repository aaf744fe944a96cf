// Exports loadEngine(options) -> Promise<{ tensors, slots, run(slot, inputs), dispose() }>.
#pragma once
#include <napi.h>

namespace int8detect {
namespace trt {
void InitRuntime(Napi::Env env, Napi::Object exports);
}  // namespace trt
}  // namespace int8detect
