#include "common/promise_job.h"

namespace int8detect {

HeldBytes PromiseJob::Hold(const Napi::TypedArray& array) {
  held_.push_back(Napi::Persistent(array.As<Napi::Object>()));
  HeldBytes view;
  view.data = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  view.bytes = array.ByteLength();
  view.type = array.TypedArrayType();
  return view;
}

void PromiseJob::Abandon() noexcept {
  for (Napi::ObjectReference& reference : held_) reference.SuppressDestruct();
}

JobOutcome ExecuteJob(PromiseJob& job) noexcept {
  JobOutcome outcome;
  try {
    job.Execute();
  } catch (const NativeFailure& failure) {
    outcome = {false, failure.code(), failure.what()};
  } catch (const std::exception& error) {
    outcome = {false, job.FailureCode(), error.what()};
  } catch (...) {
    outcome = {false, ErrorCode::kNative, "an unknown native exception"};
  }
  return outcome;
}

void SettleJob(Napi::Env env, const Napi::Promise::Deferred& deferred, PromiseJob& job, const JobOutcome& outcome) {
  Napi::HandleScope scope(env);
  try {
    if (outcome.ok) {
      deferred.Resolve(job.Resolve(env));
      return;
    }
    Napi::Error error = NativeError(env, outcome.code, outcome.message);
    job.Decorate(env, error);
    deferred.Reject(error.Value());
  } catch (const Napi::Error& error) {
    // Building the result failed (out of memory for an output buffer, say): the promise still settles.
    deferred.Reject(error.Value());
  }
}

Napi::Object AbortableHandle(Napi::Env env, const Napi::Promise& promise, std::function<void(const std::string&)> abort) {
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", promise);
  handle.Set("abort", Napi::Function::New(
                          env,
                          [abort = std::move(abort)](const Napi::CallbackInfo& info) {
                            abort(info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string("aborted"));
                            return info.Env().Undefined();
                          },
                          "abort"));
  return handle;
}

namespace {

class PoolWorker final : public Napi::AsyncWorker {
 public:
  PoolWorker(Napi::Env env, std::unique_ptr<PromiseJob> job, const char* resourceName)
      : Napi::AsyncWorker(env, resourceName), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override { outcome_ = ExecuteJob(*job_); }
  // The outcome carries the failure, so both ends settle the same way.
  void OnOK() override { SettleJob(Env(), deferred_, *job_, outcome_); }
  void OnError(const Napi::Error&) override { SettleJob(Env(), deferred_, *job_, outcome_); }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<PromiseJob> job_;
  JobOutcome outcome_;
};

}  // namespace

Napi::Promise QueueOnPool(Napi::Env env, std::unique_ptr<PromiseJob> job, const char* resourceName) {
  auto worker = std::make_unique<PoolWorker>(env, std::move(job), resourceName);
  const Napi::Promise promise = worker->Promise();
  // Napi::AsyncWorker deletes itself on the main thread once it has settled.
  worker.release()->Queue();
  return promise;
}

}  // namespace int8detect
