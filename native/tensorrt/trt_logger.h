// A TensorRT logger that keeps what a build or a load said, so failures carry TensorRT's own
// words into the JavaScript error, and warnings reach engine.info and the CLI.
#pragma once
#include <mutex>
#include <string>
#include <vector>

#include "tensorrt/trt_version.h"

namespace int8detect {
namespace trt {

class CollectingLogger : public nvinfer1::ILogger {
 public:
  explicit CollectingLogger(Severity keepFrom = Severity::kWARNING) : keepFrom_(keepFrom) {}
  void log(Severity severity, nvinfer1::AsciiChar const* message) noexcept override;

  // "error: ...", "warning: ..." lines, oldest first.
  std::vector<std::string> Messages() const;
  // The last error TensorRT logged, or an empty string.
  std::string LastError() const;
  // An error that was expected and dealt with (a refused timing cache) is not the cause of a later failure.
  void ForgetLastError();

 private:
  const Severity keepFrom_;
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
  std::string lastError_;
};

}  // namespace trt
}  // namespace int8detect
