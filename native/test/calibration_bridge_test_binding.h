// Exports testCalibrationBridge(options) into the test-only module: drives a CalibrationBridge from
// a native thread exactly as TensorRT's getBatch does, so the bridge is tested without TensorRT.
#pragma once
#include <napi.h>

namespace int8detect {
void InitCalibrationBridgeTest(Napi::Env env, Napi::Object exports);
}  // namespace int8detect
