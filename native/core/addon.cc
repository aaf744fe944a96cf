// Registration only: each concern exports its functions from its own file.
#include <napi.h>

#include "core/calibration/calibration_binding.h"
#include "core/cuda_probe.h"
#include "core/malloc_arenas.h"
#include "core/preprocess_binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  int8detect::InitPreprocess(env, exports);
  int8detect::InitCudaProbe(env, exports);
  int8detect::InitCalibration(env, exports);
  int8detect::InitMallocArenas(env, exports);
  // Which optional backends this binary carries; they are separate modules loaded lazily.
  Napi::Object compiled = Napi::Object::New(env);
  compiled.Set("core", true);
  exports.Set("compiled", compiled);
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(int8_detect_core, Init)
