// Pulls calibration batches from a JavaScript calibrator into a native worker thread, the way
// TensorRT's IInt8Calibrator::getBatch needs them: the worker blocks until JavaScript hands over
// the next batch, the end of the data, or an error. It knows nothing of TensorRT, so the test-only
// module (native/test/core_test_addon.cc) drives it on machines without a GPU.
#pragma once
#include <napi.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/main_thread_queue.h"

namespace int8detect {

enum class PullStatus {
  kBatch,    // `out` holds the next batch
  kEnd,      // the calibrator has no more batches
  kTimeout,  // no answer within the timeout
  kAborted,  // Abort() was called
  kFailed,   // the calibrator threw, rejected, or handed over something that is not a batch
};

struct PullResult {
  PullStatus status;
  // Why, for every status but kBatch and kEnd.
  std::string message;
};

// State shared with the JavaScript callbacks, which may outlive a Next() call that timed out.
struct BridgeState;

class CalibrationBridge {
 public:
  // Main thread. `pull` is a JavaScript function returning a Float32Array of exactly
  // `elementsPerBatch` elements, or null at the end, or a promise of either.
  CalibrationBridge(Napi::Env env, Napi::Function pull, size_t elementsPerBatch, std::chrono::milliseconds timeout);
  ~CalibrationBridge();

  CalibrationBridge(const CalibrationBridge&) = delete;
  CalibrationBridge& operator=(const CalibrationBridge&) = delete;

  // Worker thread. Blocks until the next batch is in `out` (resized to elementsPerBatch), or the
  // end, a timeout, an abort or a failure. After anything but kBatch, every later call returns
  // the same status without asking JavaScript again.
  PullResult Next(std::vector<float>* out);

  // Any thread. Wakes a waiting Next() and makes it and all later ones return kAborted.
  void Abort(const std::string& reason);

  // Any thread, idempotent. Lets go of the JavaScript function; later Next() calls fail.
  void Close();

  size_t elementsPerBatch() const { return elementsPerBatch_; }
  uint64_t batchesDelivered() const;

 private:
  std::shared_ptr<BridgeState> state_;
  // Holds `pull`. Unreferenced: the build that pulls keeps the event loop alive while it runs.
  std::shared_ptr<MainThreadQueue> queue_;
  const size_t elementsPerBatch_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace int8detect
