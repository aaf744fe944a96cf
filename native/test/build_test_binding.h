// Exports testCalibrationBuild(options) into the test-only module: an engine build as TensorRT
// drives it (calibration through CalibrationFeed, then a tactic search asking BuildMonitor after
// every step), minus TensorRT, on the thread the TensorRT module uses, or on libuv's pool to show
// why it must not.
#pragma once
#include <napi.h>

namespace int8detect {
void InitBuildTest(Napi::Env env, Napi::Object exports);
}  // namespace int8detect
