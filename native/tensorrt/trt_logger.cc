#include "tensorrt/trt_logger.h"

namespace int8detect {
namespace trt {
namespace {

// Enough to explain a failure; a verbose build says far more than anyone reads.
constexpr size_t kMaxMessages = 200;

const char* SeverityName(nvinfer1::ILogger::Severity severity) {
  switch (severity) {
    case nvinfer1::ILogger::Severity::kINTERNAL_ERROR:
      return "internal error";
    case nvinfer1::ILogger::Severity::kERROR:
      return "error";
    case nvinfer1::ILogger::Severity::kWARNING:
      return "warning";
    case nvinfer1::ILogger::Severity::kINFO:
      return "info";
    case nvinfer1::ILogger::Severity::kVERBOSE:
      return "verbose";
  }
  return "message";
}

}  // namespace

void CollectingLogger::log(Severity severity, nvinfer1::AsciiChar const* message) noexcept {
  // Lower numbers are more severe in TensorRT's enum.
  if (static_cast<int>(severity) > static_cast<int>(keepFrom_) || message == nullptr) return;
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    if (severity == Severity::kERROR || severity == Severity::kINTERNAL_ERROR) lastError_ = message;
    if (messages_.size() < kMaxMessages) messages_.push_back(std::string(SeverityName(severity)) + ": " + message);
  } catch (...) {
    // log() must not throw; losing a message under memory pressure is acceptable.
  }
}

std::vector<std::string> CollectingLogger::Messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_;
}

void CollectingLogger::ForgetLastError() {
  std::lock_guard<std::mutex> lock(mutex_);
  lastError_.clear();
}

std::string CollectingLogger::LastError() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lastError_;
}

}  // namespace trt
}  // namespace int8detect
