// Everything one engine build needs, as plain data: the N-API side fills it on the main thread
// from the complete object TypeScript hands over, and the builder reads only this.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace int8detect {
namespace trt {

enum class Precision { kFp32, kFp16, kInt8 };
// How INT8 is reached: a calibrator or calibration cache (implicit), or Q/DQ nodes (explicit).
enum class Int8Mode { kNone, kImplicit, kExplicit };
enum class CalibratorKind { kEntropy2, kMinMax };

struct InputShape {
  std::string name;
  std::vector<int64_t> min;
  std::vector<int64_t> opt;
  std::vector<int64_t> max;
};

struct BuildSettings {
  std::vector<uint8_t> model;  // ONNX bytes
  std::string modelPath;       // for messages and external weights next to the model
  Precision precision = Precision::kFp32;
  Int8Mode int8Mode = Int8Mode::kNone;
  CalibratorKind calibrator = CalibratorKind::kEntropy2;
  std::vector<uint8_t> calibrationCache;  // empty: calibrate from batches
  std::vector<InputShape> inputShapes;    // needed for every input with a dynamic dimension
  // Copies of the optimization profile: one per execution context that may run at once, since
  // contexts of a dynamic-shape engine in concurrent use need profiles of their own.
  int profiles = 1;
  size_t workspaceBytes = 0;  // 0: TensorRT's default (the device's memory)
  std::vector<uint8_t> timingCache;
  int dlaCore = -1;  // -1: GPU only
  bool gpuFallback = true;
  int device = 0;
};

// Why a build failed, which decides the JavaScript error code.
enum class BuildFailure { kNone, kSettings, kCalibration, kAborted, kBuild };

struct BuildResult {
  bool ok = false;
  BuildFailure failure = BuildFailure::kNone;
  std::string error;
  std::vector<uint8_t> plan;
  std::vector<uint8_t> timingCache;
  std::vector<uint8_t> calibrationCache;  // what the calibrator wrote, if it calibrated
  uint64_t calibrationBatches = 0;
  std::vector<std::string> log;
};

}  // namespace trt
}  // namespace int8detect
