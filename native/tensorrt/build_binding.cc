// buildPlan(options) -> { promise, abort(reason) }. The options are copied into BuildSettings on
// the main thread; the build runs off the event loop, pulls calibration batches through a
// CalibrationBridge and reports TensorRT's build phases through a MainThreadQueue.
#include "tensorrt/build_binding.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "calibration_bridge/calibration_bridge.h"
#include "common/dims.h"
#include "common/main_thread_queue.h"
#include "common/option_reader.h"
#include "common/promise_job.h"
#include "tensorrt/engine_builder.h"

namespace int8detect {
namespace trt {
namespace {

struct ProgressEvent {
  std::string kind;  // "start", "step", "finish"
  std::string phase;
  std::string parent;
  int32_t step = 0;
  int32_t steps = 0;
};

// One progress event on its way to the JavaScript listener.
class ProgressTask final : public MainThreadTask {
 public:
  explicit ProgressTask(ProgressEvent event) : event_(std::move(event)) {}
  void Run(Napi::Env env, Napi::Function onProgress) override {
    Napi::Object info = Napi::Object::New(env);
    info.Set("kind", event_.kind);
    info.Set("phase", event_.phase);
    info.Set("parent", event_.parent);
    info.Set("step", event_.step);
    info.Set("steps", event_.steps);
    try {
      onProgress.Call({info});
    } catch (const Napi::Error&) {
      // A throwing progress listener is the caller's bug, not a reason to fail the build.
    }
  }

 private:
  ProgressEvent event_;
};

// Shared by the build, the abort function and TensorRT's progress callbacks.
class BuildControl final : public BuildObserver {
 public:
  BuildControl(std::shared_ptr<CalibrationBridge> bridge, std::shared_ptr<MainThreadQueue> progress)
      : bridge_(std::move(bridge)), progress_(std::move(progress)) {}

  void Abort(const std::string& reason) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (reason_.empty()) reason_ = reason.empty() ? "aborted" : reason;
    }
    if (bridge_) bridge_->Abort(reason);
  }

  // Build thread, once the build is over: let go of the JavaScript functions.
  void Close() {
    if (bridge_) bridge_->Close();
    if (progress_) progress_->Release();
  }

  void PhaseStart(const std::string& phase, const std::string& parent, int32_t steps) override {
    Report(ProgressEvent{"start", phase, parent, 0, steps});
  }
  void StepComplete(const std::string& phase, int32_t step) override { Report(ProgressEvent{"step", phase, "", step, 0}); }
  void PhaseFinish(const std::string& phase) override { Report(ProgressEvent{"finish", phase, "", 0, 0}); }
  std::string CancelReason() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return reason_;
  }

  const std::shared_ptr<CalibrationBridge>& bridge() const { return bridge_; }

 private:
  // Never waits: a slow progress listener must never hold the build up.
  void Report(ProgressEvent event) {
    if (progress_) progress_->Post(std::make_unique<ProgressTask>(std::move(event)));
  }

  std::shared_ptr<CalibrationBridge> bridge_;
  std::shared_ptr<MainThreadQueue> progress_;
  mutable std::mutex mutex_;
  std::string reason_;
};

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const std::vector<uint8_t>& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

class BuildJob final : public PromiseJob {
 public:
  BuildJob(BuildSettings settings, std::shared_ptr<BuildControl> control)
      : settings_(std::move(settings)), control_(std::move(control)) {}

  void Execute() override {
    result_ = BuildPlan(settings_, control_->bridge(), control_.get());
    control_->Close();
    if (!result_.ok) throw NativeFailure(ErrorCode::kEngineBuild, result_.error);
  }

  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("plan", ToBuffer(env, result_.plan));
    out.Set("timingCache", result_.timingCache.empty() ? env.Null() : ToBuffer(env, result_.timingCache).As<Napi::Value>());
    out.Set("calibrationCache",
            result_.calibrationCache.empty() ? env.Null() : ToBuffer(env, result_.calibrationCache).As<Napi::Value>());
    out.Set("calibrationBatches", Napi::Number::New(env, static_cast<double>(result_.calibrationBatches)));
    out.Set("log", StringsToArray(env, result_.log));
    return out;
  }

  // TensorRT's own words go with the failure: TypeScript quotes its errors in the message.
  void Decorate(Napi::Env env, Napi::Error& error) override { error.Set("log", StringsToArray(env, result_.log)); }

 private:
  BuildSettings settings_;
  std::shared_ptr<BuildControl> control_;
  BuildResult result_;
};

BuildSettings ReadSettings(const OptionReader& options) {
  static const Precision kPrecisions[] = {Precision::kFp32, Precision::kFp16, Precision::kInt8};
  static const Int8Mode kInt8Modes[] = {Int8Mode::kNone, Int8Mode::kImplicit, Int8Mode::kExplicit};
  static const CalibratorKind kCalibrators[] = {CalibratorKind::kEntropy2, CalibratorKind::kMinMax};
  BuildSettings settings;
  settings.model = options.Bytes("model");
  settings.modelPath = options.String("modelPath");
  settings.precision = kPrecisions[options.Field("precision").Choice({"fp32", "fp16", "int8"})];
  settings.int8Mode = kInt8Modes[options.Field("int8Mode").Choice({"none", "implicit", "explicit"})];
  settings.calibrator = kCalibrators[options.Field("calibrator").Choice({"entropy2", "minmax"})];
  settings.calibrationCache = options.OptionalBytes("calibrationCache");
  settings.profiles = static_cast<int>(options.Integer("profiles", 1, 64));
  settings.workspaceBytes = static_cast<size_t>(options.Integer("workspaceBytes", 0, int64_t{1} << 50));
  settings.timingCache = options.OptionalBytes("timingCache");
  settings.dlaCore = static_cast<int>(options.Integer("dlaCore", -1, 15));
  settings.gpuFallback = options.Boolean("gpuFallback");
  settings.device = static_cast<int>(options.Integer("device", 0, 1023));
  const Received shapes = options.Field("inputShapes");
  const Napi::Array list = shapes.Array();
  for (uint32_t i = 0; i < list.Length(); i++) {
    const OptionReader shape = shapes.Element(list, i).Object();
    settings.inputShapes.push_back(InputShape{shape.String("name"), shape.Field("min").Integers(0, kMaxSafeInteger),
                                              shape.Field("opt").Integers(0, kMaxSafeInteger),
                                              shape.Field("max").Integers(0, kMaxSafeInteger)});
  }
  return settings;
}

Napi::Value BuildPlanBinding(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const OptionReader options = OptionReader::Argument(info, 0, "an options object for buildPlan(options)");
  BuildSettings settings = ReadSettings(options);

  std::shared_ptr<CalibrationBridge> bridge;
  const Napi::Function pull = options.OptionalFunction("pull");
  if (!pull.IsEmpty()) {
    const auto elements = static_cast<size_t>(options.Integer("calibrationElements", 1, int64_t{1} << 40));
    const auto timeout = std::chrono::milliseconds(options.Integer("batchTimeoutMs", 1, int64_t{1} << 40));
    bridge = std::make_shared<CalibrationBridge>(env, pull, elements, timeout);
  }
  const Napi::Function onProgress = options.OptionalFunction("onProgress");
  // Unreferenced: the build itself keeps the event loop alive while it runs.
  std::shared_ptr<MainThreadQueue> progress =
      onProgress.IsEmpty() ? nullptr : MainThreadQueue::Create(env, "int8detect.buildProgress", onProgress, false);
  auto control = std::make_shared<BuildControl>(bridge, progress);

  const Napi::Promise promise = QueueOnPool(env, std::make_unique<BuildJob>(std::move(settings), control), "int8detect.tensorrtBuild");
  return AbortableHandle(env, promise, [control](const std::string& reason) { control->Abort(reason); });
}

}  // namespace

void InitBuild(Napi::Env env, Napi::Object exports) {
  exports.Set("buildPlan", Napi::Function::New(env, BuildPlanBinding, "buildPlan"));
}

}  // namespace trt
}  // namespace int8detect
