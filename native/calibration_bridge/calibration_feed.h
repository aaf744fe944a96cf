// What implicit-INT8 calibration needs, TensorRT and CUDA aside: the batches pulled through the
// bridge for the one input fed, the calibration cache in and out, how many batches went in, and the
// first failure. TensorRT's getBatch (tensorrt/calibrator.cc) and the test-only module drive it the
// same way, so its protocol is tested without TensorRT.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "calibration_bridge/calibration_bridge.h"

namespace int8detect {

class CalibrationFeed {
 public:
  // `bridge` may be null when only a calibration cache is given.
  CalibrationFeed(std::shared_ptr<CalibrationBridge> bridge, std::string inputName, std::vector<uint8_t> cache);

  // The next batch into `host`, for the `count` inputs TensorRT asked for by `names`. False at the
  // end of the data, after an abort, and on a failure, which Failure() then names: TensorRT reads
  // false as "no more batches", so whoever drives the build must ask Failure() (BuildMonitor does).
  bool Next(std::vector<float>* host, const char* const* names, int32_t count) noexcept;
  // Records the first failure (a device copy that failed, say); later ones are dropped.
  void Fail(const std::string& message) noexcept;
  std::string Failure() const;

  // The calibration cache handed in; null when none.
  const void* ReadCache(size_t& length) const noexcept;
  void WriteCache(const void* data, size_t length) noexcept;
  std::vector<uint8_t> WrittenCache() const;
  uint64_t Batches() const;

 private:
  std::shared_ptr<CalibrationBridge> bridge_;
  const std::string inputName_;
  const std::vector<uint8_t> cacheIn_;
  mutable std::mutex mutex_;
  std::string failure_;
  std::vector<uint8_t> cacheOut_;
  uint64_t batches_ = 0;
};

}  // namespace int8detect
