// Exports testCalibrationBridge(options): drives a CalibrationBridge from a worker thread exactly
// as TensorRT's getBatch does, so the bridge is tested on machines without TensorRT.
#pragma once
#include <napi.h>

namespace int8detect {
void InitCalibrationBridgeTest(Napi::Env env, Napi::Object exports);
}  // namespace int8detect
