// testCalibrationBridge({ pull, elementsPerBatch, timeoutMs, maxBatches }) -> { promise, abort(reason) }.
// A native thread pulls until the end of the data, maxBatches, or a failure, and reports what it
// got (per batch: the sum and the first element, so the test can check order and contents). It
// runs on a thread of its own, as a TensorRT build does (common/job_thread.h).
#include "test/calibration_bridge_test_binding.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "calibration_bridge/calibration_bridge.h"
#include "common/job_thread.h"
#include "common/option_reader.h"

namespace int8detect {
namespace {

const char* StatusName(PullStatus status) {
  switch (status) {
    case PullStatus::kBatch:
      return "batch";
    case PullStatus::kEnd:
      return "end";
    case PullStatus::kTimeout:
      return "timeout";
    case PullStatus::kAborted:
      return "aborted";
    case PullStatus::kFailed:
      return "failed";
  }
  return "failed";
}

class BridgePullJob final : public PromiseJob {
 public:
  BridgePullJob(std::shared_ptr<CalibrationBridge> bridge, uint32_t maxBatches)
      : bridge_(std::move(bridge)), maxBatches_(maxBatches) {}

  void Execute() override {
    std::vector<float> batch;
    while (sums_.size() < maxBatches_) {
      last_ = bridge_->Next(&batch);
      if (last_.status != PullStatus::kBatch) break;
      double sum = 0;
      for (const float value : batch) sum += value;
      sums_.push_back(sum);
      firsts_.push_back(batch.empty() ? 0.0 : batch.front());
    }
    bridge_->Close();
    if (last_.status != PullStatus::kBatch && last_.status != PullStatus::kEnd) {
      throw NativeFailure(ErrorCode::kCalibration, last_.message);
    }
  }

  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    Napi::Array sums = Napi::Array::New(env, sums_.size());
    Napi::Array firsts = Napi::Array::New(env, firsts_.size());
    for (uint32_t i = 0; i < sums_.size(); i++) {
      sums.Set(i, sums_[i]);
      firsts.Set(i, firsts_[i]);
    }
    result.Set("batches", Napi::Number::New(env, static_cast<double>(sums_.size())));
    result.Set("sums", sums);
    result.Set("firsts", firsts);
    result.Set("ended", last_.status == PullStatus::kEnd ? "end" : "limit");
    return result;
  }

  void Decorate(Napi::Env env, Napi::Error& error) override {
    error.Set("reason", StatusName(last_.status));
    error.Set("batchesDelivered", Napi::Number::New(env, static_cast<double>(sums_.size())));
  }

 private:
  std::shared_ptr<CalibrationBridge> bridge_;
  const uint32_t maxBatches_;
  std::vector<double> sums_;
  std::vector<double> firsts_;
  PullResult last_{PullStatus::kBatch, ""};
};

Napi::Value TestCalibrationBridge(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const OptionReader options = OptionReader::Argument(info, 0, "an options object for testCalibrationBridge(options)");
  const Napi::Function pull = options.Field("pull").Function();
  const auto elements = static_cast<size_t>(options.Integer("elementsPerBatch", 1, 4294967295LL));
  const auto timeout = std::chrono::milliseconds(options.Integer("timeoutMs", 1, 4294967295LL));
  const auto maxBatches = static_cast<uint32_t>(options.Integer("maxBatches", 1, 4294967295LL));

  auto bridge = std::make_shared<CalibrationBridge>(env, pull, elements, timeout);
  const Napi::Promise promise = RunOnOwnThread(env, std::make_unique<BridgePullJob>(bridge, maxBatches), "int8detect.testCalibrationBridge");
  return AbortableHandle(env, promise, [bridge](const std::string& reason) { bridge->Abort(reason); });
}

}  // namespace

void InitCalibrationBridgeTest(Napi::Env env, Napi::Object exports) {
  exports.Set("testCalibrationBridge", Napi::Function::New(env, TestCalibrationBridge, "testCalibrationBridge"));
}

}  // namespace int8detect
