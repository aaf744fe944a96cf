// Native threads of our own for work that blocks for long: a TensorRT build (minutes) runs on a
// thread started for it, and each TensorRT execution context runs on its own thread. Work like
// this must never sit on libuv's pool, whose few threads image decoding, file access and
// preprocessing need (a calibration batch needs them while the build that asked for it waits).
// A JobThread keeps the event loop alive only while a job is queued or running, so a process
// with an idle, never-disposed session still exits.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <thread>

#include "common/promise_job.h"

namespace int8detect {

class JobThread {
 public:
  // Main thread: starts the thread, idle.
  static std::shared_ptr<JobThread> Start(Napi::Env env, const std::string& name);
  // Stops the thread once its queue is empty: joined when it is idle, otherwise left to finish its
  // job alone (it owns everything it uses). Never blocks on a running job.
  ~JobThread();
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  // Main thread: runs `job` after the jobs before it; the promise settles on the main thread.
  Napi::Promise Submit(Napi::Env env, std::unique_ptr<PromiseJob> job);

  struct State;

 private:
  JobThread() = default;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// Main thread: runs one job on a thread started for it, which ends with the job.
Napi::Promise RunOnOwnThread(Napi::Env env, std::unique_ptr<PromiseJob> job, const std::string& name);

}  // namespace int8detect
