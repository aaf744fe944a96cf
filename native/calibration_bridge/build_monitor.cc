#include "calibration_bridge/build_monitor.h"

#include <utility>

namespace int8detect {
namespace {

struct ProgressEvent {
  const char* kind;  // "start", "step", "finish"
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

}  // namespace

BuildMonitor::BuildMonitor(std::shared_ptr<CalibrationBridge> bridge, std::shared_ptr<MainThreadQueue> progress)
    : bridge_(std::move(bridge)), progress_(std::move(progress)) {}

void BuildMonitor::Abort(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (abortReason_.empty()) abortReason_ = reason.empty() ? "aborted" : reason;
  }
  if (bridge_) bridge_->Abort(reason);
}

void BuildMonitor::Watch(std::shared_ptr<const CalibrationFeed> feed) {
  std::lock_guard<std::mutex> lock(mutex_);
  feed_ = std::move(feed);
}

std::string BuildMonitor::AbortReason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return abortReason_;
}

std::string BuildMonitor::StopReason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!abortReason_.empty()) return "the build was aborted: " + abortReason_;
  // TensorRT took the failed feed's false for the end of the data; without this it would go on
  // to calibrate on what it had and search tactics for a plan the failure throws away.
  if (feed_) return feed_->Failure();
  return std::string();
}

void BuildMonitor::PhaseStart(const std::string& phase, const std::string& parent, int32_t steps) {
  Report("start", phase, parent, 0, steps);
}

bool BuildMonitor::StepComplete(const std::string& phase, int32_t step) {
  Report("step", phase, "", step, 0);
  return StopReason().empty();
}

void BuildMonitor::PhaseFinish(const std::string& phase) { Report("finish", phase, "", 0, 0); }

void BuildMonitor::Close() {
  if (bridge_) bridge_->Close();
  if (progress_) progress_->Release();
}

// Never waits: a slow progress listener must never hold the build up.
void BuildMonitor::Report(const char* kind, const std::string& phase, const std::string& parent, int32_t step, int32_t steps) {
  if (progress_) progress_->Post(std::make_unique<ProgressTask>(ProgressEvent{kind, phase, parent, step, steps}));
}

}  // namespace int8detect
