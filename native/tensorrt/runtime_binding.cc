// loadEngine(options) deserializes the plan on a thread started for it and resolves to a handle
// whose run(slot, inputs) executes one execution context on that slot's own thread: a run waits
// for its CUDA stream there, never on a libuv pool thread. Inputs are held (alive, unmoved) until
// their run settles.
#include "tensorrt/runtime_binding.h"

#include <memory>
#include <string>
#include <vector>

#include "common/dims.h"
#include "common/handle.h"
#include "common/option_reader.h"
#include "common/job_thread.h"
#include "common/promise_job.h"
#include "common/slot_threads.h"
#include "tensorrt/runtime_engine.h"
#include "tensorrt/tensor_shape.h"

namespace int8detect {
namespace trt {
namespace {

using Engine = std::shared_ptr<RuntimeEngine>;

// What the JavaScript handle holds: the engine and one thread per execution context. Runs hold
// the engine alone, so dispose() stops the idle threads at once and frees the engine after the
// last run in flight.
struct EngineSession {
  EngineSession(Napi::Env env, Engine e) : engine(std::move(e)), threads(env, engine->slots(), "int8detect.tensorrtRun") {}
  Engine engine;
  SlotThreads threads;
};

class RunJob final : public PromiseJob {
 public:
  RunJob(Engine engine, int slot) : engine_(std::move(engine)), slot_(slot) {}

  void AddInput(std::string name, std::vector<int64_t> dims, const Napi::TypedArray& data) {
    const HeldBytes held = Hold(data);
    inputs_.push_back(InputView{std::move(name), TypedArrayElementName(held.type), std::move(dims), held.data, held.bytes});
  }

  void Execute() override {
    std::string error;
    if (!engine_->Run(slot_, inputs_, &outputs_, &error)) throw NativeFailure(ErrorCode::kInference, error);
  }

  Napi::Value Resolve(Napi::Env env) override {
    Napi::Array outputs = Napi::Array::New(env, outputs_.size());
    for (uint32_t i = 0; i < outputs_.size(); i++) {
      const OutputTensor& tensor = outputs_[i];
      outputs.Set(i, TensorObject(env, tensor.name, tensor.type, tensor.dims, tensor.bytes.data(), tensor.bytes.size()));
    }
    return outputs;
  }

 private:
  Engine engine_;
  const int slot_;
  std::vector<InputView> inputs_;
  std::vector<OutputTensor> outputs_;
};

Napi::Value Run(const Napi::CallbackInfo& info, const std::shared_ptr<EngineSession>& session) {
  const int slot = static_cast<int>(Argument(info, 0, "slot").Integer(0, session->engine->slots() - 1));
  auto job = std::make_unique<RunJob>(session->engine, slot);
  for (RunInput& input : ReadRunInputs(Argument(info, 1, "inputs"), kMaxTensorRtDims)) {
    job->AddInput(std::move(input.name), std::move(input.dims), input.data);
  }
  return session->threads.Submit(info.Env(), slot, std::move(job));
}

Napi::Object MakeHandle(Napi::Env env, const Engine& engine) {
  auto session = std::make_shared<EngineSession>(env, engine);
  HandleBuilder<EngineSession> handle(env, session, "This TensorRT engine has been disposed");
  Napi::Array tensors = Napi::Array::New(env, engine->tensors().size());
  for (uint32_t i = 0; i < engine->tensors().size(); i++) {
    const TensorDescription& tensor = engine->tensors()[i];
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", tensor.name);
    out.Set("input", tensor.input);
    out.Set("type", tensor.type);
    out.Set("engineType", tensor.engineType);
    out.Set("dims", DimsToArray(env, tensor.dims));
    if (!tensor.min.empty()) {
      out.Set("min", DimsToArray(env, tensor.min));
      out.Set("opt", DimsToArray(env, tensor.opt));
      out.Set("max", DimsToArray(env, tensor.max));
    }
    tensors.Set(i, out);
  }
  handle.object().Set("tensors", tensors);
  handle.object().Set("slots", engine->slots());
  return handle.Method("run", Run).Finish();
}

class LoadJob final : public PromiseJob {
 public:
  LoadJob(std::vector<uint8_t> plan, LoadOptions options) : plan_(std::move(plan)), options_(options) {}

  void Execute() override {
    std::string error;
    engine_ = Engine(RuntimeEngine::Load(plan_, options_, &error).release());
    plan_.clear();
    plan_.shrink_to_fit();
    if (!engine_) throw NativeFailure(ErrorCode::kEngineBuild, error);
  }

  Napi::Value Resolve(Napi::Env env) override { return MakeHandle(env, engine_); }

 private:
  std::vector<uint8_t> plan_;
  const LoadOptions options_;
  Engine engine_;
};

Napi::Value LoadEngine(const Napi::CallbackInfo& info) {
  const OptionReader options = OptionReader::Argument(info, 0, "an options object for loadEngine(options)");
  LoadOptions load;
  load.device = static_cast<int>(options.Integer("device", 0, 1023));
  load.dlaCore = static_cast<int>(options.Integer("dlaCore", -1, 15));
  load.contexts = static_cast<int>(options.Integer("contexts", 1, 64));
  // Deserializing a plan and creating its contexts takes seconds on a Jetson: a thread of its own.
  return RunOnOwnThread(info.Env(), std::make_unique<LoadJob>(options.Bytes("plan"), load), "int8detect.tensorrtLoad");
}

}  // namespace

void InitRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("loadEngine", Napi::Function::New(env, LoadEngine, "loadEngine"));
}

}  // namespace trt
}  // namespace int8detect
