// testCalibrationBridge({ pull, elementsPerBatch, timeoutMs, maxBatches }) -> { promise, abort(reason) }.
// The worker pulls until the end of the data, maxBatches, or a failure, and reports what it got
// (per batch: the sum and the first element, so the test can check order and contents).
#include "calibration_bridge/calibration_bridge_binding.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "calibration_bridge/calibration_bridge.h"

namespace int8detect {
namespace {

[[noreturn]] void ThrowArgument(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::TypeError::New(env, message);
  error.Set("code", "ERR_ARGUMENT");
  throw error;
}

double PositiveInteger(const Napi::Object& options, const char* field) {
  const Napi::Value value = options.Get(field);
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!std::isfinite(number) || number < 1 || std::floor(number) != number || number > 4294967295.0) {
    ThrowArgument(options.Env(), std::string("Expected a positive integer for options.") + field);
  }
  return number;
}

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

class BridgeTestWorker : public Napi::AsyncWorker {
 public:
  BridgeTestWorker(Napi::Env env, std::shared_ptr<CalibrationBridge> bridge, uint32_t maxBatches)
      : Napi::AsyncWorker(env, "int8detect.testCalibrationBridge"),
        deferred_(Napi::Promise::Deferred::New(env)),
        bridge_(std::move(bridge)),
        maxBatches_(maxBatches) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

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
  }

  void OnOK() override {
    const Napi::Env env = Env();
    if (last_.status != PullStatus::kBatch && last_.status != PullStatus::kEnd) {
      Napi::Error error = Napi::Error::New(env, last_.message);
      error.Set("code", "ERR_CALIBRATION");
      error.Set("reason", StatusName(last_.status));
      error.Set("batchesDelivered", Napi::Number::New(env, static_cast<double>(sums_.size())));
      deferred_.Reject(error.Value());
      return;
    }
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
    deferred_.Resolve(result);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<CalibrationBridge> bridge_;
  const uint32_t maxBatches_;
  std::vector<double> sums_;
  std::vector<double> firsts_;
  PullResult last_{PullStatus::kBatch, ""};
};

Napi::Value TestCalibrationBridge(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowArgument(env, "Expected an options object for testCalibrationBridge(options)");
  const Napi::Object options = info[0].As<Napi::Object>();
  const Napi::Value pull = options.Get("pull");
  if (!pull.IsFunction()) ThrowArgument(env, "Expected a function for options.pull");
  const auto elements = static_cast<size_t>(PositiveInteger(options, "elementsPerBatch"));
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(PositiveInteger(options, "timeoutMs")));
  const auto maxBatches = static_cast<uint32_t>(PositiveInteger(options, "maxBatches"));

  auto bridge = std::make_shared<CalibrationBridge>(env, pull.As<Napi::Function>(), elements, timeout);
  auto* worker = new BridgeTestWorker(env, bridge, maxBatches);
  const Napi::Promise promise = worker->Promise();
  worker->Queue();
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", promise);
  handle.Set("abort", Napi::Function::New(
                          env,
                          [bridge](const Napi::CallbackInfo& call) {
                            const std::string reason =
                                call.Length() > 0 && call[0].IsString() ? call[0].As<Napi::String>().Utf8Value() : "aborted";
                            bridge->Abort(reason);
                          },
                          "abort"));
  return handle;
}

}  // namespace

void InitCalibrationBridgeTest(Napi::Env env, Napi::Object exports) {
  exports.Set("testCalibrationBridge", Napi::Function::New(env, TestCalibrationBridge, "testCalibrationBridge"));
}

}  // namespace int8detect
