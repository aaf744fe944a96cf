// One JobThread per execution slot of a session: a run waits on its own thread (a TensorRT run
// blocks in cudaStreamSynchronize), so runs on different slots go on at once and none holds a
// libuv pool thread. The caller (TypeScript's slot pool) gives each slot one run at a time; a
// second run on a busy slot waits behind the first. Idle, the threads keep nothing alive.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "common/job_thread.h"

namespace int8detect {

class SlotThreads {
 public:
  // Main thread.
  SlotThreads(Napi::Env env, int slots, const std::string& name);
  int slots() const { return static_cast<int>(threads_.size()); }
  // Main thread: `job` on slot `slot`'s thread (0 <= slot < slots()).
  Napi::Promise Submit(Napi::Env env, int slot, std::unique_ptr<PromiseJob> job) {
    return threads_[static_cast<size_t>(slot)]->Submit(env, std::move(job));
  }

 private:
  std::vector<std::shared_ptr<JobThread>> threads_;
};

inline SlotThreads::SlotThreads(Napi::Env env, int slots, const std::string& name) {
  for (int i = 0; i < slots; i++) threads_.push_back(JobThread::Start(env, name + "[" + std::to_string(i) + "]"));
}

}  // namespace int8detect
