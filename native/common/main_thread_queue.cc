#include "common/main_thread_queue.h"

namespace int8detect {

namespace detail {
void RunMainThreadTask(Napi::Env env, Napi::Function callback, void* /*context*/, MainThreadTask* raw) {
  std::unique_ptr<MainThreadTask> task(raw);
  if (task == nullptr) return;
  // Node calls with no environment while it drains the queue of a function it is tearing down.
  if (env == nullptr) {
    task->Discard();
    return;
  }
  task->Run(env, callback);
}
}  // namespace detail

std::shared_ptr<MainThreadQueue> MainThreadQueue::Create(Napi::Env env, const std::string& name, Napi::Function callback,
                                                         bool referenced) {
  std::shared_ptr<MainThreadQueue> queue(new MainThreadQueue());
  // The function's finalizer owns a reference to the queue, so the queue outlives the function.
  auto keepAlive = std::make_unique<std::shared_ptr<MainThreadQueue>>(queue);
  queue->function_ = Function::New(env, callback, name, 0, 1, static_cast<void*>(nullptr), &MainThreadQueue::Finalize,
                                   keepAlive.get());
  keepAlive.release();  // now the finalizer's
  if (!referenced) queue->function_.Unref(env);
  return queue;
}

MainThreadQueue::~MainThreadQueue() = default;

void MainThreadQueue::Finalize(Napi::Env /*env*/, std::shared_ptr<MainThreadQueue>* self, void* /*context*/) {
  std::unique_ptr<std::shared_ptr<MainThreadQueue>> owner(self);
  std::lock_guard<std::mutex> lock((*owner)->mutex_);
  (*owner)->finalized_ = true;
}

bool MainThreadQueue::Post(std::unique_ptr<MainThreadTask> task) {
  {
    // Held across the call so Node cannot finalize the function in between; with an unbounded
    // queue the call never waits, so holding the lock costs nothing.
    std::lock_guard<std::mutex> lock(mutex_);
    if (!released_ && !finalized_ && function_.BlockingCall(task.get()) == napi_ok) {
      task.release();  // now the queue's: RunMainThreadTask takes it back
      return true;
    }
  }
  task->Discard();
  return false;
}

void MainThreadQueue::Release() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (released_ || finalized_) return;
  released_ = true;
  function_.Release();
}

void MainThreadQueue::Ref(Napi::Env env) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!finalized_) function_.Ref(env);
}

void MainThreadQueue::Unref(Napi::Env env) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!finalized_) function_.Unref(env);
}

}  // namespace int8detect
