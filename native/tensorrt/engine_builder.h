// Builds a serialized TensorRT plan from an ONNX model: FP32, FP16, implicit INT8 (calibrator or
// calibration cache, TensorRT <= 10) or explicit INT8 (Q/DQ nodes). No N-API here: it runs on a
// worker thread and reports through a BuildObserver.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "calibration_bridge/calibration_bridge.h"
#include "tensorrt/build_settings.h"

namespace int8detect {
namespace trt {

class BuildObserver {
 public:
  virtual ~BuildObserver() = default;
  // TensorRT's build phases (TensorRT 10 and newer report them).
  virtual void PhaseStart(const std::string& phase, const std::string& parent, int32_t steps) = 0;
  virtual void StepComplete(const std::string& phase, int32_t step) = 0;
  virtual void PhaseFinish(const std::string& phase) = 0;
  // Non-empty once the build should stop; the reason goes into the error.
  virtual std::string CancelReason() const = 0;
};

// `bridge` feeds implicit-INT8 calibration; null when a calibration cache alone is given or the
// build needs no calibration.
BuildResult BuildPlan(const BuildSettings& settings, std::shared_ptr<CalibrationBridge> bridge, BuildObserver* observer);

}  // namespace trt
}  // namespace int8detect
