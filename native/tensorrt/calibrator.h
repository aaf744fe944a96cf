// Implicit-INT8 calibrators (TensorRT 8.6 and 10.x): getBatch pulls each batch from the
// TypeScript calibrator through the CalibrationBridge; the calibration cache is read from and
// written to memory, and TypeScript moves it to and from disk. TensorRT 11 has no such thing.
#pragma once
#include "tensorrt/trt_version.h"

#if INT8_DETECT_TRT_IMPLICIT_INT8
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "calibration_bridge/calibration_bridge.h"
#include "tensorrt/build_settings.h"
#include "tensorrt/cuda_util.h"

namespace int8detect {
namespace trt {

// What both calibrator kinds share: the bridge, the device buffer, the cache, the first failure.
class BatchFeed {
 public:
  // `bridge` may be null when only a calibration cache is given.
  BatchFeed(std::shared_ptr<CalibrationBridge> bridge, std::string inputName, std::vector<uint8_t> cache);

  bool GetBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept;
  void const* ReadCache(std::size_t& length) noexcept;
  void WriteCache(void const* data, std::size_t length) noexcept;

  std::string Failure() const;
  std::vector<uint8_t> WrittenCache() const;
  uint64_t Batches() const;

 private:
  void Fail(const std::string& message) noexcept;

  std::shared_ptr<CalibrationBridge> bridge_;
  const std::string inputName_;
  const std::vector<uint8_t> cacheIn_;
  std::vector<float> host_;
  DeviceBuffer device_;
  mutable std::mutex mutex_;
  std::string failure_;
  std::vector<uint8_t> cacheOut_;
  uint64_t batches_ = 0;
};

INT8_DETECT_ALLOW_DEPRECATED_BEGIN

// A TensorRT calibrator interface answered from a BatchFeed: TensorRT's calibrator kinds differ
// only in the algorithm behind their interface, so one template serves them all.
template <typename Interface>
class FeedCalibrator final : public Interface {
 public:
  explicit FeedCalibrator(BatchFeed* feed) : feed_(feed) {}
  // Explicit-batch networks take the batch size from the input shape; TensorRT asks for 1.
  int32_t getBatchSize() const noexcept override { return 1; }
  bool getBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept override {
    return feed_->GetBatch(bindings, names, nbBindings);
  }
  void const* readCalibrationCache(std::size_t& length) noexcept override { return feed_->ReadCache(length); }
  void writeCalibrationCache(void const* data, std::size_t length) noexcept override { feed_->WriteCache(data, length); }

 private:
  BatchFeed* feed_;
};

// Entropy calibration, version 2: the one DLA requires and TensorRT recommends for CNNs.
using EntropyCalibrator2 = FeedCalibrator<nvinfer1::IInt8EntropyCalibrator2>;
// Min-max calibration: what Ultralytics uses for YOLO INT8 exports on GPUs.
using MinMaxCalibrator = FeedCalibrator<nvinfer1::IInt8MinMaxCalibrator>;

// The calibrator of the requested kind, feeding from `feed`.
std::unique_ptr<nvinfer1::IInt8Calibrator> MakeCalibrator(CalibratorKind kind, BatchFeed* feed);

INT8_DETECT_ALLOW_DEPRECATED_END

}  // namespace trt
}  // namespace int8detect

#endif  // INT8_DETECT_TRT_IMPLICIT_INT8
