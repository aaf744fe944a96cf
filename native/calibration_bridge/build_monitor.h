// One engine build's control, TensorRT aside: the caller's abort, the calibration feed it watches,
// and the build's progress reported to JavaScript. TensorRT's IProgressMonitor passes each step
// through StepComplete(), and a false answer cancels the build (TensorRT 10 and newer): that is
// how an abort, and a calibration feed that failed, stop a build that would otherwise run its
// whole tactic search (tens of minutes on a Jetson) for a result that is thrown away.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "calibration_bridge/calibration_bridge.h"
#include "calibration_bridge/calibration_feed.h"
#include "common/main_thread_queue.h"

namespace int8detect {

class BuildMonitor {
 public:
  // `bridge` and `progress` may be null. `progress` runs the JavaScript listener with
  // { kind: 'start' | 'step' | 'finish', phase, parent, step, steps }.
  BuildMonitor(std::shared_ptr<CalibrationBridge> bridge, std::shared_ptr<MainThreadQueue> progress);

  // Any thread: stop the build (and a calibration waiting for a batch) with this reason.
  void Abort(const std::string& reason);
  // Build thread, before calibration starts: the feed whose failure stops the build.
  void Watch(std::shared_ptr<const CalibrationFeed> feed);

  void PhaseStart(const std::string& phase, const std::string& parent, int32_t steps);
  // False once the build should stop: aborted, or the calibration feed failed.
  bool StepComplete(const std::string& phase, int32_t step);
  void PhaseFinish(const std::string& phase);

  std::string AbortReason() const;
  // Why the build must stop, in words; empty while it may go on.
  std::string StopReason() const;

  // Build thread, once the build is over: let go of the JavaScript functions.
  void Close();

  const std::shared_ptr<CalibrationBridge>& bridge() const { return bridge_; }

 private:
  void Report(const char* kind, const std::string& phase, const std::string& parent, int32_t step, int32_t steps);

  const std::shared_ptr<CalibrationBridge> bridge_;
  const std::shared_ptr<MainThreadQueue> progress_;
  mutable std::mutex mutex_;
  std::string abortReason_;
  std::shared_ptr<const CalibrationFeed> feed_;
};

}  // namespace int8detect
