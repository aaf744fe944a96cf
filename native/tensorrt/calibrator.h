// Implicit-INT8 calibrators (TensorRT 8.6 and 10.x): getBatch takes the next batch from a
// CalibrationFeed (which pulls it from the TypeScript calibrator through the bridge) and copies it
// to the GPU; the calibration cache is read from and written to memory, and TypeScript moves it to
// and from disk. TensorRT 11 has no such thing.
#pragma once
#include "tensorrt/trt_version.h"

#if INT8_DETECT_TRT_IMPLICIT_INT8
#include <memory>
#include <vector>

#include "calibration_bridge/calibration_feed.h"
#include "tensorrt/build_settings.h"
#include "tensorrt/cuda_util.h"

namespace int8detect {
namespace trt {

// The feed plus the device buffer TensorRT reads a batch from.
class DeviceBatchFeed {
 public:
  explicit DeviceBatchFeed(std::shared_ptr<CalibrationFeed> feed) : feed_(std::move(feed)) {}
  bool GetBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept;
  CalibrationFeed& feed() { return *feed_; }

 private:
  std::shared_ptr<CalibrationFeed> feed_;
  std::vector<float> host_;
  DeviceBuffer device_;
};

INT8_DETECT_ALLOW_DEPRECATED_BEGIN

// A TensorRT calibrator interface answered from a DeviceBatchFeed: TensorRT's calibrator kinds
// differ only in the algorithm behind their interface, so one template serves them all.
template <typename Interface>
class FeedCalibrator final : public Interface {
 public:
  explicit FeedCalibrator(DeviceBatchFeed* feed) : feed_(feed) {}
  // Explicit-batch networks take the batch size from the input shape; TensorRT asks for 1.
  int32_t getBatchSize() const noexcept override { return 1; }
  bool getBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept override {
    return feed_->GetBatch(bindings, names, nbBindings);
  }
  void const* readCalibrationCache(std::size_t& length) noexcept override { return feed_->feed().ReadCache(length); }
  void writeCalibrationCache(void const* data, std::size_t length) noexcept override { feed_->feed().WriteCache(data, length); }

 private:
  DeviceBatchFeed* feed_;
};

// Entropy calibration, version 2: the one DLA requires and TensorRT recommends for CNNs.
using EntropyCalibrator2 = FeedCalibrator<nvinfer1::IInt8EntropyCalibrator2>;
// Min-max calibration: what Ultralytics uses for YOLO INT8 exports on GPUs.
using MinMaxCalibrator = FeedCalibrator<nvinfer1::IInt8MinMaxCalibrator>;

// The calibrator of the requested kind, feeding from `feed`. TensorRT reads a calibration cache
// only with the calibrator that wrote it: TypeScript picks the kind from the cache's header.
std::unique_ptr<nvinfer1::IInt8Calibrator> MakeCalibrator(CalibratorKind kind, DeviceBatchFeed* feed);

INT8_DETECT_ALLOW_DEPRECATED_END

}  // namespace trt
}  // namespace int8detect

#endif  // INT8_DETECT_TRT_IMPLICIT_INT8
