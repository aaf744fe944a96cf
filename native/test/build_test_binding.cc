// testCalibrationBuild({ pull, elementsPerBatch, timeoutMs, steps, stepMs, thread: 'own' | 'pool', onProgress? })
//   -> { promise: Promise<{ batches, stepsRun }>, abort(reason) }
// The job calls the feed until it says no more (TensorRT's calibration: getBatch until false),
// then runs `steps` steps of `stepMs` each, asking the monitor after every one (TensorRT's
// IProgressMonitor::stepComplete), and fails the way engine_builder.cc does: an abort first
// (ERR_ABORTED), then a calibration failure (ERR_CALIBRATION). A rejection carries batches and stepsRun.
#include "test/build_test_binding.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "calibration_bridge/build_monitor.h"
#include "calibration_bridge/calibration_feed.h"
#include "common/job_thread.h"
#include "common/option_reader.h"
#include "common/promise_job.h"

namespace int8detect {
namespace {

class SimulatedBuildJob final : public PromiseJob {
 public:
  SimulatedBuildJob(std::shared_ptr<BuildMonitor> monitor, int steps, std::chrono::milliseconds stepTime)
      : monitor_(std::move(monitor)), steps_(steps), stepTime_(stepTime) {}

  void Execute() override {
    auto feed = std::make_shared<CalibrationFeed>(monitor_->bridge(), "images", std::vector<uint8_t>());
    monitor_->Watch(feed);
    std::vector<float> batch;
    const char* names[] = {"images"};
    while (feed->Next(&batch, names, 1)) {
    }
    batches_ = feed->Batches();
    monitor_->PhaseStart("tactics", "", steps_);
    for (int step = 0; step < steps_; step++) {
      std::this_thread::sleep_for(stepTime_);
      if (!monitor_->StepComplete("tactics", step)) break;
      stepsRun_++;
    }
    monitor_->PhaseFinish("tactics");
    monitor_->Close();
    const std::string aborted = monitor_->AbortReason();
    if (!aborted.empty()) throw NativeFailure(ErrorCode::kAborted, "the build was aborted: " + aborted);
    const std::string failure = feed->Failure();
    if (!failure.empty()) throw NativeFailure(ErrorCode::kCalibration, failure);
  }

  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    Fill(env, result);
    return result;
  }

  void Decorate(Napi::Env env, Napi::Error& error) override { Fill(env, error.Value()); }

 private:
  void Fill(Napi::Env env, Napi::Object target) const {
    target.Set("batches", Napi::Number::New(env, static_cast<double>(batches_)));
    target.Set("stepsRun", stepsRun_);
  }

  std::shared_ptr<BuildMonitor> monitor_;
  const int steps_;
  const std::chrono::milliseconds stepTime_;
  uint64_t batches_ = 0;
  int stepsRun_ = 0;
};

Napi::Value TestCalibrationBuild(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const OptionReader options = OptionReader::Argument(info, 0, "an options object for testCalibrationBuild(options)");
  const Napi::Function pull = options.Field("pull").Function();
  const auto elements = static_cast<size_t>(options.Integer("elementsPerBatch", 1, 1 << 28));
  const auto timeout = std::chrono::milliseconds(options.Integer("timeoutMs", 1, 600000));
  const auto steps = static_cast<int>(options.Integer("steps", 0, 100000));
  const auto stepTime = std::chrono::milliseconds(options.Integer("stepMs", 0, 60000));
  const bool ownThread = options.Field("thread").Choice({"own", "pool"}) == 0;
  const Napi::Function onProgress = options.OptionalFunction("onProgress");

  auto bridge = std::make_shared<CalibrationBridge>(env, pull, elements, timeout);
  auto monitor = std::make_shared<BuildMonitor>(
      bridge, onProgress.IsEmpty() ? nullptr : MainThreadQueue::Create(env, "int8detect.testBuildProgress", onProgress, false));
  auto job = std::make_unique<SimulatedBuildJob>(monitor, steps, stepTime);
  const Napi::Promise promise = ownThread ? RunOnOwnThread(env, std::move(job), "int8detect.testCalibrationBuild")
                                          : QueueOnPool(env, std::move(job), "int8detect.testCalibrationBuild");
  return AbortableHandle(env, promise, [monitor](const std::string& reason) { monitor->Abort(reason); });
}

}  // namespace

void InitBuildTest(Napi::Env env, Napi::Object exports) {
  exports.Set("testCalibrationBuild", Napi::Function::New(env, TestCalibrationBuild, "testCalibrationBuild"));
}

}  // namespace int8detect
