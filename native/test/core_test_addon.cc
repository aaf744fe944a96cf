// Registration only for int8_detect_core_test.node, the test-only module: hooks that drive native
// pieces the way a runtime would, so they are tested on machines without that runtime. Never
// shipped: built beside the core (build/Release/test/) and loaded by the tests by explicit path.
#include <napi.h>

#include "test/build_test_binding.h"
#include "test/calibration_bridge_test_binding.h"
#include "test/runtime_test_binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  int8detect::InitCalibrationBridgeTest(env, exports);
  int8detect::InitBuildTest(env, exports);
  int8detect::InitRuntimeTest(env, exports);
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(int8_detect_core_test, Init)
