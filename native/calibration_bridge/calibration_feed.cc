#include "calibration_bridge/calibration_feed.h"

namespace int8detect {

CalibrationFeed::CalibrationFeed(std::shared_ptr<CalibrationBridge> bridge, std::string inputName, std::vector<uint8_t> cache)
    : bridge_(std::move(bridge)), inputName_(std::move(inputName)), cacheIn_(std::move(cache)) {}

void CalibrationFeed::Fail(const std::string& message) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failure_.empty()) failure_ = message;
  } catch (...) {
    // Out of memory for the message: the build still fails, with TensorRT's own words.
  }
}

bool CalibrationFeed::Next(std::vector<float>* host, const char* const* names, int32_t count) noexcept {
  try {
    if (!bridge_) {
      // Reached only when TensorRT refused the calibration cache it was given.
      Fail("TensorRT did not accept the calibration cache and asked for calibration batches, but no calibrator was "
           "given: write the cache with this TensorRT version's header and the calibrator kind that will read it, or "
           "pass a calibrator");
      return false;
    }
    if (count != 1) {
      Fail("implicit INT8 calibration feeds models with one input, but TensorRT asked for " + std::to_string(count) + " inputs");
      return false;
    }
    if (names != nullptr && names[0] != nullptr && inputName_ != names[0]) {
      Fail("TensorRT asked for calibration data for input '" + std::string(names[0]) + "', but the calibrator feeds '" +
           inputName_ + "'");
      return false;
    }
    const PullResult pulled = bridge_->Next(host);
    // An abort is the build monitor's to report, not a failure of the data.
    if (pulled.status == PullStatus::kEnd || pulled.status == PullStatus::kAborted) return false;
    if (pulled.status != PullStatus::kBatch) {
      Fail(pulled.message);
      return false;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ++batches_;
    return true;
  } catch (const std::exception& error) {
    Fail(std::string("calibration batch failed: ") + error.what());
    return false;
  }
}

std::string CalibrationFeed::Failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

const void* CalibrationFeed::ReadCache(size_t& length) const noexcept {
  length = cacheIn_.size();
  return cacheIn_.empty() ? nullptr : cacheIn_.data();
}

void CalibrationFeed::WriteCache(const void* data, size_t length) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto* bytes = static_cast<const uint8_t*>(data);
    cacheOut_.assign(bytes, bytes + length);
  } catch (...) {
    Fail("out of memory while keeping the calibration cache");
  }
}

std::vector<uint8_t> CalibrationFeed::WrittenCache() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cacheOut_;
}

uint64_t CalibrationFeed::Batches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return batches_;
}

}  // namespace int8detect
