// buildPlan(options) -> { promise, abort(reason) }. The options are copied into BuildSettings on
// the main thread. The build runs on a thread started for it, never on libuv's pool: it lasts
// minutes, and each calibration batch it waits for needs pool threads itself (image decoding, file
// access, preprocessing), so a few builds on the pool would starve their own calibrators.
#include "tensorrt/build_binding.h"

#include <chrono>
#include <memory>
#include <string>

#include "calibration_bridge/build_monitor.h"
#include "calibration_bridge/calibration_bridge.h"
#include "common/dims.h"
#include "common/job_thread.h"
#include "common/main_thread_queue.h"
#include "common/option_reader.h"
#include "common/promise_job.h"
#include "tensorrt/engine_builder.h"
#include "tensorrt/tensor_shape.h"

namespace int8detect {
namespace trt {
namespace {

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const std::vector<uint8_t>& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

ErrorCode CodeOf(BuildFailure failure) {
  switch (failure) {
    case BuildFailure::kSettings:
      return ErrorCode::kArgument;
    case BuildFailure::kCalibration:
      return ErrorCode::kCalibration;
    case BuildFailure::kAborted:
      return ErrorCode::kAborted;
    case BuildFailure::kNone:
    case BuildFailure::kBuild:
      break;
  }
  return ErrorCode::kEngineBuild;
}

class BuildJob final : public PromiseJob {
 public:
  BuildJob(BuildSettings settings, std::shared_ptr<BuildMonitor> monitor) : settings_(std::move(settings)), monitor_(std::move(monitor)) {}

  void Execute() override {
    result_ = BuildPlan(settings_, monitor_.get());
    monitor_->Close();
    if (!result_.ok) throw NativeFailure(CodeOf(result_.failure), result_.error);
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
  std::shared_ptr<BuildMonitor> monitor_;
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
    settings.inputShapes.push_back(InputShape{shape.String("name"), ReadTensorRtDims(shape.Field("min")),
                                              ReadTensorRtDims(shape.Field("opt")), ReadTensorRtDims(shape.Field("max"))});
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
  auto monitor = std::make_shared<BuildMonitor>(bridge, progress);

  const Napi::Promise promise = RunOnOwnThread(env, std::make_unique<BuildJob>(std::move(settings), monitor), "int8detect.tensorrtBuild");
  return AbortableHandle(env, promise, [monitor](const std::string& reason) { monitor->Abort(reason); });
}

}  // namespace

void InitBuild(Napi::Env env, Napi::Object exports) {
  exports.Set("buildPlan", Napi::Function::New(env, BuildPlanBinding, "buildPlan"));
}

}  // namespace trt
}  // namespace int8detect
