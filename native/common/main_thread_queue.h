// Work handed from native threads to the JavaScript thread, over one N-API thread-safe function.
// Three things every user of a thread-safe function must get right live here once:
// - it never keeps the event loop alive on its own: referenced only while its owner says work is
//   in flight (Ref/Unref), so a process that never calls dispose() still exits;
// - no thread touches it after Node has finalized it (at release, or at environment teardown when
//   a process exits with work still queued): calls then fail and the task is discarded;
// - a task that can no longer run lets go of what it holds without touching JavaScript.
#pragma once
#include <napi.h>

#include <memory>
#include <mutex>
#include <string>

namespace int8detect {

class MainThreadTask {
 public:
  virtual ~MainThreadTask() = default;
  // Main thread. `callback` is the queue's JavaScript function, empty when it has none.
  virtual void Run(Napi::Env env, Napi::Function callback) = 0;
  // The task will never run (Node tears the environment down, or the queue was released). Any
  // thread: release what it holds without touching JavaScript.
  virtual void Discard() noexcept {}
};

namespace detail {
void RunMainThreadTask(Napi::Env env, Napi::Function callback, void* context, MainThreadTask* task);
}  // namespace detail

class MainThreadQueue {
 public:
  // Main thread. `callback` (optional) is handed to every task; `referenced`: whether the queue
  // keeps the event loop alive from the start (Unref it when it waits for work that may never come).
  static std::shared_ptr<MainThreadQueue> Create(Napi::Env env, const std::string& name,
                                                 Napi::Function callback = Napi::Function(), bool referenced = true);
  ~MainThreadQueue();
  MainThreadQueue(const MainThreadQueue&) = delete;
  MainThreadQueue& operator=(const MainThreadQueue&) = delete;

  // Any thread. Queues `task` for the main thread without waiting; false when Node takes no more
  // calls (the queue was released, or the environment is going away): the task is then discarded.
  bool Post(std::unique_ptr<MainThreadTask> task);
  // Any thread, idempotent: no more Post(); Node frees the function once its queue has drained.
  void Release();
  // Main thread: whether the queue keeps the event loop alive.
  void Ref(Napi::Env env);
  void Unref(Napi::Env env);

 private:
  using Function = Napi::TypedThreadSafeFunction<void, MainThreadTask, detail::RunMainThreadTask>;
  MainThreadQueue() = default;
  static void Finalize(Napi::Env env, std::shared_ptr<MainThreadQueue>* self, void* context);

  std::mutex mutex_;
  Function function_;
  bool released_ = false;   // by us: Release() was called
  bool finalized_ = false;  // by Node: the function is gone
};

}  // namespace int8detect
