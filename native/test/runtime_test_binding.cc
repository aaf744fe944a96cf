// testSlotThreads({ slots }) -> { slots, run(slot, ms) -> Promise<{ slot, startedMs, endedMs }>, dispose() }:
//   a session shaped like a TensorRT engine's (common/slot_threads.h, a HandleBuilder), whose run
//   blocks its slot's thread for `ms`, as cudaStreamSynchronize does; times are from the session's start.
// testHalf(Float32Array) -> { halves: Uint16Array, floats: Float32Array }: FloatToHalf, then HalfToFloat.
// testReadTensorRtDims(value) -> number[]: trt::ReadTensorRtDims, named "dims".
#include "test/runtime_test_binding.h"

#include <chrono>
#include <memory>
#include <thread>

#include "common/dims.h"
#include "common/half.h"
#include "common/handle.h"
#include "common/option_reader.h"
#include "common/promise_job.h"
#include "common/slot_threads.h"
#include "tensorrt/tensor_shape.h"

namespace int8detect {
namespace {

using Clock = std::chrono::steady_clock;

struct TestSession {
  TestSession(Napi::Env env, int slots) : threads(env, slots, "int8detect.testSlot"), start(Clock::now()) {}
  SlotThreads threads;
  const Clock::time_point start;
};

class SleepJob final : public PromiseJob {
 public:
  SleepJob(int slot, std::chrono::milliseconds time, Clock::time_point start) : slot_(slot), time_(time), start_(start) {}

  void Execute() override {
    started_ = Since();
    std::this_thread::sleep_for(time_);
    ended_ = Since();
  }

  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("slot", slot_);
    result.Set("startedMs", started_);
    result.Set("endedMs", ended_);
    return result;
  }

 private:
  double Since() const { return std::chrono::duration<double, std::milli>(Clock::now() - start_).count(); }
  const int slot_;
  const std::chrono::milliseconds time_;
  const Clock::time_point start_;
  double started_ = 0;
  double ended_ = 0;
};

Napi::Value RunSleep(const Napi::CallbackInfo& info, const std::shared_ptr<TestSession>& session) {
  const int slot = static_cast<int>(Argument(info, 0, "slot").Integer(0, session->threads.slots() - 1));
  const auto time = std::chrono::milliseconds(Argument(info, 1, "ms").Integer(0, 60000));
  return session->threads.Submit(info.Env(), slot, std::make_unique<SleepJob>(slot, time, session->start));
}

Napi::Value TestSlotThreads(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const OptionReader options = OptionReader::Argument(info, 0, "an options object for testSlotThreads(options)");
  auto session = std::make_shared<TestSession>(env, static_cast<int>(options.Integer("slots", 1, 64)));
  HandleBuilder<TestSession> handle(env, session, "This test session has been disposed");
  handle.object().Set("slots", session->threads.slots());
  return handle.Method("run", RunSleep).Finish();
}

Napi::Value TestHalf(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Napi::Float32Array input = Argument(info, 0, "values").Float32Array();
  Napi::Uint16Array halves = Napi::Uint16Array::New(env, input.ElementLength());
  Napi::Float32Array floats = Napi::Float32Array::New(env, input.ElementLength());
  for (size_t i = 0; i < input.ElementLength(); i++) {
    halves[i] = FloatToHalf(input[i]);
    floats[i] = HalfToFloat(halves[i]);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("halves", halves);
  result.Set("floats", floats);
  return result;
}

Napi::Value TestReadTensorRtDims(const Napi::CallbackInfo& info) {
  return DimsToArray(info.Env(), trt::ReadTensorRtDims(Argument(info, 0, "dims")));
}

}  // namespace

void InitRuntimeTest(Napi::Env env, Napi::Object exports) {
  exports.Set("testSlotThreads", Napi::Function::New(env, TestSlotThreads, "testSlotThreads"));
  exports.Set("testHalf", Napi::Function::New(env, TestHalf, "testHalf"));
  exports.Set("testReadTensorRtDims", Napi::Function::New(env, TestReadTensorRtDims, "testReadTensorRtDims"));
}

}  // namespace int8detect
