#include "common/job_thread.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "common/main_thread_queue.h"

namespace int8detect {

struct PendingJob {
  std::unique_ptr<PromiseJob> job;
  Napi::Promise::Deferred deferred;
};

struct JobThread::State {
  std::shared_ptr<MainThreadQueue> queue;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<PendingJob> jobs;
  bool stopping = false;
  bool busy = false;
  // Main thread only: jobs submitted and not yet settled. The queue is referenced while it is not 0.
  size_t inFlight = 0;
};

namespace {

// A finished job on its way to the main thread.
class Completion final : public MainThreadTask {
 public:
  Completion(std::shared_ptr<JobThread::State> state, PendingJob pending, JobOutcome outcome)
      : state_(std::move(state)), pending_(std::move(pending)), outcome_(std::move(outcome)) {}

  void Run(Napi::Env env, Napi::Function) override {
    if (--state_->inFlight == 0) state_->queue->Unref(env);
    SettleJob(env, pending_.deferred, *pending_.job, outcome_);
  }
  void Discard() noexcept override { pending_.job->Abandon(); }

 private:
  std::shared_ptr<JobThread::State> state_;
  PendingJob pending_;
  JobOutcome outcome_;
};

void Loop(const std::shared_ptr<JobThread::State>& state) {
  for (;;) {
    std::optional<PendingJob> pending;
    {
      std::unique_lock<std::mutex> lock(state->mutex);
      state->wake.wait(lock, [&] { return state->stopping || !state->jobs.empty(); });
      if (state->jobs.empty()) break;
      pending.emplace(std::move(state->jobs.front()));
      state->jobs.pop_front();
      state->busy = true;
    }
    JobOutcome outcome = ExecuteJob(*pending->job);
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->busy = false;
    }
    state->queue->Post(std::make_unique<Completion>(state, std::move(*pending), std::move(outcome)));
  }
  state->queue->Release();
}

}  // namespace

std::shared_ptr<JobThread> JobThread::Start(Napi::Env env, const std::string& name) {
  std::shared_ptr<JobThread> thread(new JobThread());
  thread->state_ = std::make_shared<State>();
  // Unreferenced while idle: an idle thread must not keep the process alive.
  thread->state_->queue = MainThreadQueue::Create(env, name, Napi::Function(), false);
  thread->thread_ = std::thread([state = thread->state_] { Loop(state); });
  return thread;
}

JobThread::~JobThread() {
  bool idle = false;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
    idle = !state_->busy && state_->jobs.empty();
  }
  state_->wake.notify_all();
  if (!thread_.joinable()) return;
  if (idle && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

Napi::Promise JobThread::Submit(Napi::Env env, std::unique_ptr<PromiseJob> job) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  const Napi::Promise promise = deferred.Promise();
  if (state_->inFlight++ == 0) state_->queue->Ref(env);
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->jobs.push_back(PendingJob{std::move(job), deferred});
  }
  state_->wake.notify_one();
  return promise;
}

Napi::Promise RunOnOwnThread(Napi::Env env, std::unique_ptr<PromiseJob> job, const std::string& name) {
  // The JobThread is dropped with the job queued: its thread runs the job, settles it and ends.
  return JobThread::Start(env, name)->Submit(env, std::move(job));
}

}  // namespace int8detect
