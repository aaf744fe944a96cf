// Exports runtimeInfo(): TensorRT's version (compiled against and loaded), what this build of the
// module can do, and the CUDA devices the runtime sees. Feeds probe() and the engine cache key.
#pragma once
#include <napi.h>

namespace int8detect {
namespace trt {
void InitDeviceInfo(Napi::Env env, Napi::Object exports);
}  // namespace trt
}  // namespace int8detect
