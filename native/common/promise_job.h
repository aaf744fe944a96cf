// The promise core every binding shares. A binding parses its arguments into a PromiseJob on the
// main thread, and a runner settles the job's promise:
// - QueueOnPool: libuv's thread pool (Napi::AsyncWorker), for work of milliseconds: preprocessing,
//   one inference on a CPU runtime;
// - JobThread / RunOnOwnThread (job_thread.h): a thread of the job's or session's own, for work
//   that blocks for long (a TensorRT build, a GPU run waiting on its stream), which must never hold
//   a pool thread that image decoding, file access and preprocessing need.
// Execute() runs on the worker thread and never touches JavaScript; Resolve() and Decorate() run
// on the main thread. A job is always destroyed on the main thread, except at environment teardown,
// where it is discarded without touching JavaScript.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/native_error.h"

namespace int8detect {

// The bytes of a typed array held by a job: valid and unmoved until its promise settles.
struct HeldBytes {
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  napi_typedarray_type type = napi_uint8_array;
};

class PromiseJob {
 public:
  virtual ~PromiseJob() = default;
  // Worker thread: the work. A failure is thrown: NativeFailure with its code, or any other
  // std::exception, which rejects with FailureCode().
  virtual void Execute() = 0;
  // Main thread, after Execute() returned: what the promise resolves to.
  virtual Napi::Value Resolve(Napi::Env env) = 0;
  // Main thread, after Execute() threw: more fields on the rejection (TensorRT's log, a reason).
  virtual void Decorate(Napi::Env /*env*/, Napi::Error& /*error*/) {}
  virtual ErrorCode FailureCode() const { return ErrorCode::kNative; }

  // Main thread, while the job is filled: keeps `array` alive until the promise settles, so the
  // worker reads it in place.
  HeldBytes Hold(const Napi::TypedArray& array);
  // The environment is gone: forget the held arrays without touching JavaScript.
  void Abandon() noexcept;

 private:
  std::vector<Napi::ObjectReference> held_;
};

// How Execute() ended: captured on the worker thread, turned into a settlement on the main thread.
struct JobOutcome {
  bool ok = true;
  ErrorCode code = ErrorCode::kNative;
  std::string message;
};

// Worker thread: runs the job and catches whatever it throws.
JobOutcome ExecuteJob(PromiseJob& job) noexcept;
// Main thread: resolves or rejects `deferred` with the job's result.
void SettleJob(Napi::Env env, const Napi::Promise::Deferred& deferred, PromiseJob& job, const JobOutcome& outcome);

// { promise, abort(reason?) }: the handle of work that can be stopped (a build, a calibration);
// `abort` receives the reason given, or "aborted".
Napi::Object AbortableHandle(Napi::Env env, const Napi::Promise& promise, std::function<void(const std::string&)> abort);

// Runs `job` on libuv's thread pool; the promise settles on the main thread.
Napi::Promise QueueOnPool(Napi::Env env, std::unique_ptr<PromiseJob> job, const char* resourceName);

}  // namespace int8detect
