// Builds a serialized TensorRT plan from an ONNX model: FP32, FP16, implicit INT8 (calibrator or
// calibration cache, TensorRT <= 10) or explicit INT8 (Q/DQ nodes). No N-API here: it runs on the
// build's own thread; the BuildMonitor carries the abort, the calibration feed's failure and the
// progress (TensorRT's IProgressMonitor asks it after every step, and stops when it says so).
#pragma once
#include "calibration_bridge/build_monitor.h"
#include "tensorrt/build_settings.h"

namespace int8detect {
namespace trt {

// `monitor->bridge()` feeds implicit-INT8 calibration; null when a calibration cache alone is
// given or the build needs no calibration.
BuildResult BuildPlan(const BuildSettings& settings, BuildMonitor* monitor);

}  // namespace trt
}  // namespace int8detect
