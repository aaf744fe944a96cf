#include "tensorrt/calibrator.h"

#if INT8_DETECT_TRT_IMPLICIT_INT8

namespace int8detect {
namespace trt {

bool DeviceBatchFeed::GetBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept {
  try {
    if (!feed_->Next(&host_, names, nbBindings)) return false;
    const size_t bytes = host_.size() * sizeof(float);
    std::string failure = device_.Reserve(bytes);
    if (failure.empty()) {
      failure = CudaFailure(cudaMemcpy(device_.data(), host_.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy of a calibration batch");
    }
    if (!failure.empty()) {
      feed_->Fail(failure);
      return false;
    }
    bindings[0] = device_.data();
    return true;
  } catch (const std::exception& error) {
    feed_->Fail(std::string("calibration batch failed: ") + error.what());
    return false;
  }
}

INT8_DETECT_ALLOW_DEPRECATED_BEGIN

std::unique_ptr<nvinfer1::IInt8Calibrator> MakeCalibrator(CalibratorKind kind, DeviceBatchFeed* feed) {
  if (kind == CalibratorKind::kMinMax) return std::make_unique<MinMaxCalibrator>(feed);
  return std::make_unique<EntropyCalibrator2>(feed);
}

INT8_DETECT_ALLOW_DEPRECATED_END

}  // namespace trt
}  // namespace int8detect

#endif  // INT8_DETECT_TRT_IMPLICIT_INT8
