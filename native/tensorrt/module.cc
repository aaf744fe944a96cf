// Registration only for int8_detect_tensorrt.node, the separately built, lazily loaded TensorRT
// module: each concern exports its functions from its own file.
#include <napi.h>

#include "tensorrt/build_binding.h"
#include "tensorrt/device_binding.h"
#include "tensorrt/runtime_binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  int8detect::trt::InitDeviceInfo(env, exports);
  int8detect::trt::InitBuild(env, exports);
  int8detect::trt::InitRuntime(env, exports);
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(int8_detect_tensorrt, Init)
