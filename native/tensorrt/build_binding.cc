// buildPlan(options) -> { promise, abort(reason) }. The options are copied into BuildSettings on
// the main thread; the build runs in an AsyncWorker, pulls calibration batches through a
// CalibrationBridge and reports TensorRT's build phases through a thread-safe function.
#include "tensorrt/build_binding.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "calibration_bridge/calibration_bridge.h"
#include "tensorrt/engine_builder.h"
#include "tensorrt/napi_options.h"

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

// Shared by the worker, the abort function and TensorRT's progress callbacks.
class BuildControl final : public BuildObserver {
 public:
  BuildControl(std::shared_ptr<CalibrationBridge> bridge, Napi::ThreadSafeFunction progress, bool hasProgress)
      : bridge_(std::move(bridge)), progress_(std::move(progress)), hasProgress_(hasProgress) {}

  void Abort(const std::string& reason) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (reason_.empty()) reason_ = reason.empty() ? "aborted" : reason;
    }
    if (bridge_) bridge_->Abort(reason);
  }

  // Worker thread, once the build is over: let go of everything that keeps the event loop alive.
  void Close() {
    if (bridge_) bridge_->Close();
    std::lock_guard<std::mutex> lock(mutex_);
    if (hasProgress_) {
      progress_.Release();
      hasProgress_ = false;
    }
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
  void Report(ProgressEvent event) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!hasProgress_) return;
    // Non-blocking: a slow progress listener must never hold the build up.
    progress_.NonBlockingCall([event = std::move(event)](Napi::Env env, Napi::Function onProgress) {
      Napi::Object info = Napi::Object::New(env);
      info.Set("kind", event.kind);
      info.Set("phase", event.phase);
      info.Set("parent", event.parent);
      info.Set("step", event.step);
      info.Set("steps", event.steps);
      try {
        onProgress.Call({info});
      } catch (const Napi::Error&) {
        // A throwing progress listener is the caller's bug, not a reason to fail the build.
      }
    });
  }

  std::shared_ptr<CalibrationBridge> bridge_;
  Napi::ThreadSafeFunction progress_;
  bool hasProgress_;
  mutable std::mutex mutex_;
  std::string reason_;
};

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const std::vector<uint8_t>& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

Napi::Array ToStrings(Napi::Env env, const std::vector<std::string>& lines) {
  Napi::Array array = Napi::Array::New(env, lines.size());
  for (uint32_t i = 0; i < lines.size(); i++) array.Set(i, lines[i]);
  return array;
}

class BuildWorker : public Napi::AsyncWorker {
 public:
  BuildWorker(Napi::Env env, BuildSettings settings, std::shared_ptr<BuildControl> control)
      : Napi::AsyncWorker(env, "int8detect.tensorrtBuild"),
        deferred_(Napi::Promise::Deferred::New(env)),
        settings_(std::move(settings)),
        control_(std::move(control)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    result_ = BuildPlan(settings_, control_->bridge(), control_.get());
    control_->Close();
  }

  void OnOK() override {
    const Napi::Env env = Env();
    if (!result_.ok) {
      Napi::Error error = Napi::Error::New(env, result_.error);
      error.Set("code", "ERR_TENSORRT_BUILD");
      error.Set("log", ToStrings(env, result_.log));
      deferred_.Reject(error.Value());
      return;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("plan", ToBuffer(env, result_.plan));
    out.Set("timingCache", result_.timingCache.empty() ? env.Null() : ToBuffer(env, result_.timingCache).As<Napi::Value>());
    out.Set("calibrationCache",
            result_.calibrationCache.empty() ? env.Null() : ToBuffer(env, result_.calibrationCache).As<Napi::Value>());
    out.Set("calibrationBatches", Napi::Number::New(env, static_cast<double>(result_.calibrationBatches)));
    out.Set("log", ToStrings(env, result_.log));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  BuildSettings settings_;
  std::shared_ptr<BuildControl> control_;
  BuildResult result_;
};

Precision ReadPrecision(const OptionReader& reader) {
  const std::string text = reader.String("precision");
  if (text == "fp32") return Precision::kFp32;
  if (text == "fp16") return Precision::kFp16;
  if (text == "int8") return Precision::kInt8;
  reader.Throw("precision", "'fp32', 'fp16' or 'int8'");
}

Int8Mode ReadInt8Mode(const OptionReader& reader) {
  const std::string text = reader.String("int8Mode");
  if (text == "none") return Int8Mode::kNone;
  if (text == "implicit") return Int8Mode::kImplicit;
  if (text == "explicit") return Int8Mode::kExplicit;
  reader.Throw("int8Mode", "'none', 'implicit' or 'explicit'");
}

CalibratorKind ReadCalibrator(const OptionReader& reader) {
  const std::string text = reader.String("calibrator");
  if (text == "entropy2") return CalibratorKind::kEntropy2;
  if (text == "minmax") return CalibratorKind::kMinMax;
  reader.Throw("calibrator", "'entropy2' or 'minmax'");
}

BuildSettings ReadSettings(const OptionReader& reader) {
  BuildSettings settings;
  settings.model = reader.Bytes("model", false);
  settings.modelPath = reader.String("modelPath");
  settings.precision = ReadPrecision(reader);
  settings.int8Mode = ReadInt8Mode(reader);
  settings.calibrator = ReadCalibrator(reader);
  settings.calibrationCache = reader.Bytes("calibrationCache", true);
  settings.profiles = static_cast<int>(reader.Integer("profiles", 1, 64));
  settings.workspaceBytes = static_cast<size_t>(reader.Integer("workspaceBytes", 0, int64_t{1} << 50));
  settings.timingCache = reader.Bytes("timingCache", true);
  settings.dlaCore = static_cast<int>(reader.Integer("dlaCore", -1, 15));
  settings.gpuFallback = reader.Boolean("gpuFallback");
  settings.device = static_cast<int>(reader.Integer("device", 0, 1023));
  const Napi::Array shapes = reader.Array("inputShapes");
  for (uint32_t i = 0; i < shapes.Length(); i++) {
    if (!shapes.Get(i).IsObject()) reader.Throw("inputShapes[" + std::to_string(i) + "]", "an object { name, min, opt, max }");
    const OptionReader shape(shapes.Get(i).As<Napi::Object>(), "inputShapes[" + std::to_string(i) + "]");
    settings.inputShapes.push_back(
        InputShape{shape.String("name"), shape.IntegerList("min"), shape.IntegerList("opt"), shape.IntegerList("max")});
  }
  return settings;
}

Napi::Value BuildPlanBinding(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::Error error = Napi::TypeError::New(env, "Expected an options object for buildPlan(options)");
    error.Set("code", "ERR_ARGUMENT");
    throw error;
  }
  const OptionReader reader(info[0].As<Napi::Object>(), "options");
  BuildSettings settings = ReadSettings(reader);

  std::shared_ptr<CalibrationBridge> bridge;
  const Napi::Function pull = reader.Function("pull");
  if (!pull.IsEmpty()) {
    const auto elements = static_cast<size_t>(reader.Integer("calibrationElements", 1, int64_t{1} << 40));
    const auto timeout = std::chrono::milliseconds(reader.Integer("batchTimeoutMs", 1, int64_t{1} << 40));
    bridge = std::make_shared<CalibrationBridge>(env, pull, elements, timeout);
  }
  const Napi::Function onProgress = reader.Function("onProgress");
  Napi::ThreadSafeFunction progress;
  if (!onProgress.IsEmpty()) progress = Napi::ThreadSafeFunction::New(env, onProgress, "int8detect.buildProgress", 0, 1);
  auto control = std::make_shared<BuildControl>(bridge, progress, !onProgress.IsEmpty());

  auto* worker = new BuildWorker(env, std::move(settings), control);
  const Napi::Promise promise = worker->Promise();
  worker->Queue();
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", promise);
  handle.Set("abort", Napi::Function::New(
                          env,
                          [control](const Napi::CallbackInfo& call) {
                            control->Abort(call.Length() > 0 && call[0].IsString()
                                               ? call[0].As<Napi::String>().Utf8Value()
                                               : std::string("aborted"));
                          },
                          "abort"));
  return handle;
}

}  // namespace

void InitBuild(Napi::Env env, Napi::Object exports) {
  exports.Set("buildPlan", Napi::Function::New(env, BuildPlanBinding, "buildPlan"));
}

}  // namespace trt
}  // namespace int8detect
