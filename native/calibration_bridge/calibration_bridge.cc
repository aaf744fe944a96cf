// The worker thread asks the main thread for a batch through a thread-safe function and waits on
// a condition variable with a deadline. Each request has a sequence number: an answer that comes
// after its request timed out (or was aborted) finds another number waiting and is dropped, so a
// late promise never writes into a batch the worker has given up on.
#include "calibration_bridge/calibration_bridge.h"

#include "common/describe_value.h"

#include <utility>

namespace int8detect {

struct BridgeState {
  explicit BridgeState(size_t elements) : elementsPerBatch(elements) {}

  const size_t elementsPerBatch;
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t lastSequence = 0;
  // The request a Next() is waiting for; 0 when none is.
  uint64_t waitingFor = 0;
  bool answered = false;
  PullStatus answer = PullStatus::kEnd;
  std::string message;
  std::vector<float> data;
  bool aborted = false;
  std::string abortReason;
  // Once anything but a batch came back, every later Next() returns it again.
  bool finished = false;
  PullResult final{PullStatus::kEnd, ""};
  uint64_t delivered = 0;
};

namespace {

void Answer(const std::shared_ptr<BridgeState>& state, uint64_t sequence, PullStatus status, std::string message,
            std::vector<float> data = {}) {
  std::lock_guard<std::mutex> lock(state->mutex);
  if (state->waitingFor != sequence) return;  // that request timed out or was aborted
  state->answered = true;
  state->answer = status;
  state->message = std::move(message);
  state->data = std::move(data);
  state->changed.notify_all();
}


// What a thrown value or a rejection reason says, without throwing again.
std::string ErrorText(const Napi::Value& value) {
  try {
    if (value.IsObject()) {
      const Napi::Value message = value.As<Napi::Object>().Get("message");
      if (message.IsString()) return message.As<Napi::String>().Utf8Value();
    }
    return value.ToString().Utf8Value();
  } catch (const Napi::Error&) {
    return "a value that cannot be printed";
  }
}

void Deliver(const std::shared_ptr<BridgeState>& state, uint64_t sequence, const Napi::Value& value) {
  if (value.IsNull() || value.IsUndefined()) {
    Answer(state, sequence, PullStatus::kEnd, "");
    return;
  }
  if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    const Napi::Float32Array batch = value.As<Napi::Float32Array>();
    if (batch.ElementLength() == state->elementsPerBatch) {
      Answer(state, sequence, PullStatus::kBatch, "", std::vector<float>(batch.Data(), batch.Data() + batch.ElementLength()));
      return;
    }
  }
  Answer(state, sequence, PullStatus::kFailed,
         "Expected a Float32Array of " + std::to_string(state->elementsPerBatch) +
             " elements (one batch) or null (no more batches) from the calibrator but received " + DescribeValue(value));
}

// On the main thread: call the calibrator's pull function and wait (asynchronously) for its answer.
void AskJavaScript(Napi::Env env, Napi::Function pull, const std::shared_ptr<BridgeState>& state, uint64_t sequence) {
  Napi::Value result;
  try {
    result = pull.Call({});
  } catch (const Napi::Error& error) {
    Answer(state, sequence, PullStatus::kFailed, "the calibrator threw: " + ErrorText(error.Value()));
    return;
  }
  if (!result.IsPromise()) {
    Deliver(state, sequence, result);
    return;
  }
  try {
    const Napi::Function onValue = Napi::Function::New(
        env, [state, sequence](const Napi::CallbackInfo& info) { Deliver(state, sequence, info[0]); }, "calibrationBatch");
    const Napi::Function onError = Napi::Function::New(
        env,
        [state, sequence](const Napi::CallbackInfo& info) {
          Answer(state, sequence, PullStatus::kFailed, "the calibrator failed: " + ErrorText(info[0]));
        },
        "calibrationError");
    const Napi::Object promise = result.As<Napi::Object>();
    promise.Get("then").As<Napi::Function>().Call(promise, {onValue, onError});
  } catch (const Napi::Error& error) {
    Answer(state, sequence, PullStatus::kFailed, "the calibrator's promise could not be awaited: " + ErrorText(error.Value()));
  }
}

// One request for a batch, run on the main thread.
class PullTask final : public MainThreadTask {
 public:
  PullTask(std::shared_ptr<BridgeState> state, uint64_t sequence) : state_(std::move(state)), sequence_(sequence) {}
  void Run(Napi::Env env, Napi::Function pull) override { AskJavaScript(env, pull, state_, sequence_); }

 private:
  std::shared_ptr<BridgeState> state_;
  const uint64_t sequence_;
};

}  // namespace

CalibrationBridge::CalibrationBridge(Napi::Env env, Napi::Function pull, size_t elementsPerBatch,
                                     std::chrono::milliseconds timeout)
    : state_(std::make_shared<BridgeState>(elementsPerBatch)),
      queue_(MainThreadQueue::Create(env, "int8detect.calibrationPull", pull, false)),
      elementsPerBatch_(elementsPerBatch),
      timeout_(timeout) {}

CalibrationBridge::~CalibrationBridge() { Close(); }

PullResult CalibrationBridge::Next(std::vector<float>* out) {
  uint64_t sequence = 0;
  uint64_t batchNumber = 0;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->aborted) return {PullStatus::kAborted, state_->abortReason};
    if (state_->finished) return state_->final;
    sequence = ++state_->lastSequence;
    state_->waitingFor = sequence;
    state_->answered = false;
    batchNumber = state_->delivered + 1;
  }
  const bool called = queue_->Post(std::make_unique<PullTask>(state_, sequence));
  std::unique_lock<std::mutex> lock(state_->mutex);
  auto finish = [this](PullStatus status, std::string message) {
    state_->waitingFor = 0;
    state_->finished = true;
    state_->final = {status, std::move(message)};
    return state_->final;
  };
  if (!called) {
    return finish(PullStatus::kFailed, "calibration batch " + std::to_string(batchNumber) +
                                           ": the JavaScript calibrator can no longer be called (the bridge is closed "
                                           "or Node.js is shutting down)");
  }
  const bool settled =
      state_->changed.wait_for(lock, timeout_, [this] { return state_->answered || state_->aborted; });
  if (state_->aborted) {
    state_->waitingFor = 0;
    return {PullStatus::kAborted, state_->abortReason};
  }
  if (!settled) {
    return finish(PullStatus::kTimeout, "calibration batch " + std::to_string(batchNumber) +
                                            ": the calibrator gave no batch within " +
                                            std::to_string(timeout_.count()) + " ms");
  }
  state_->waitingFor = 0;
  if (state_->answer == PullStatus::kBatch) {
    out->swap(state_->data);
    state_->data.clear();
    ++state_->delivered;
    return {PullStatus::kBatch, ""};
  }
  if (state_->answer == PullStatus::kEnd) return finish(PullStatus::kEnd, "");
  return finish(state_->answer, "calibration batch " + std::to_string(batchNumber) + ": " + state_->message);
}

void CalibrationBridge::Abort(const std::string& reason) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (!state_->aborted) {
    state_->aborted = true;
    state_->abortReason = reason;
  }
  state_->changed.notify_all();
}

void CalibrationBridge::Close() { queue_->Release(); }

uint64_t CalibrationBridge::batchesDelivered() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->delivered;
}

}  // namespace int8detect
