#include "tensorrt/calibrator.h"

#if INT8_DETECT_TRT_IMPLICIT_INT8
#include <cstring>

namespace int8detect {
namespace trt {

BatchFeed::BatchFeed(std::shared_ptr<CalibrationBridge> bridge, std::string inputName, std::vector<uint8_t> cache)
    : bridge_(std::move(bridge)), inputName_(std::move(inputName)), cacheIn_(std::move(cache)) {}

void BatchFeed::Fail(const std::string& message) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failure_.empty()) failure_ = message;
  } catch (...) {
  }
}

bool BatchFeed::GetBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept {
  try {
    if (!bridge_) {
      // Reached only when TensorRT refused the calibration cache it was given.
      Fail("TensorRT did not accept the calibration cache and asked for calibration batches, but no calibrator was "
           "given: write the cache with this TensorRT version's header, or pass a calibrator");
      return false;
    }
    if (nbBindings != 1) {
      Fail("implicit INT8 calibration feeds models with one input, but TensorRT asked for " +
           std::to_string(nbBindings) + " inputs");
      return false;
    }
    if (names != nullptr && names[0] != nullptr && inputName_ != names[0]) {
      Fail("TensorRT asked for calibration data for input '" + std::string(names[0]) + "', but the calibrator feeds '" +
           inputName_ + "'");
      return false;
    }
    const PullResult pulled = bridge_->Next(&host_);
    if (pulled.status == PullStatus::kEnd) return false;
    if (pulled.status != PullStatus::kBatch) {
      Fail(pulled.message);
      return false;
    }
    const size_t bytes = host_.size() * sizeof(float);
    std::string failure = device_.Reserve(bytes);
    if (failure.empty()) failure = CudaFailure(cudaMemcpy(device_.data(), host_.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy of a calibration batch");
    if (!failure.empty()) {
      Fail(failure);
      return false;
    }
    bindings[0] = device_.data();
    std::lock_guard<std::mutex> lock(mutex_);
    ++batches_;
    return true;
  } catch (const std::exception& error) {
    Fail(std::string("calibration batch failed: ") + error.what());
    return false;
  }
}

void const* BatchFeed::ReadCache(std::size_t& length) noexcept {
  length = cacheIn_.size();
  return cacheIn_.empty() ? nullptr : cacheIn_.data();
}

void BatchFeed::WriteCache(void const* data, std::size_t length) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto* bytes = static_cast<const uint8_t*>(data);
    cacheOut_.assign(bytes, bytes + length);
  } catch (...) {
    Fail("out of memory while keeping the calibration cache");
  }
}

std::string BatchFeed::Failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

std::vector<uint8_t> BatchFeed::WrittenCache() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cacheOut_;
}

uint64_t BatchFeed::Batches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return batches_;
}

INT8_DETECT_ALLOW_DEPRECATED_BEGIN

std::unique_ptr<nvinfer1::IInt8Calibrator> MakeCalibrator(CalibratorKind kind, BatchFeed* feed) {
  if (kind == CalibratorKind::kMinMax) return std::make_unique<MinMaxCalibrator>(feed);
  return std::make_unique<EntropyCalibrator2>(feed);
}

INT8_DETECT_ALLOW_DEPRECATED_END

}  // namespace trt
}  // namespace int8detect

#endif  // INT8_DETECT_TRT_IMPLICIT_INT8
