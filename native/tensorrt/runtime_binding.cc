// The plan is deserialized and runs execute in AsyncWorkers; inputs stay referenced (alive and
// unmoved) until their run settles. dispose() only drops the handle's reference: runs in flight
// keep the engine until they finish, so it is freed after the last one.
#include "tensorrt/runtime_binding.h"

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tensorrt/napi_options.h"
#include "tensorrt/runtime_engine.h"

namespace int8detect {
namespace trt {
namespace {

// What the JavaScript handle holds: the engine until dispose().
struct EngineHolder {
  std::mutex mutex;
  std::shared_ptr<RuntimeEngine> engine;
  std::shared_ptr<RuntimeEngine> Get() {
    std::lock_guard<std::mutex> lock(mutex);
    return engine;
  }
};

Napi::Error NativeError(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", code);
  return error;
}

Napi::Array ToArray(Napi::Env env, const std::vector<int64_t>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); i++) array.Set(i, Napi::Number::New(env, static_cast<double>(values[i])));
  return array;
}

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<RuntimeEngine> engine, int slot)
      : Napi::AsyncWorker(env, "int8detect.tensorrtRun"),
        deferred_(Napi::Promise::Deferred::New(env)),
        engine_(std::move(engine)),
        slot_(slot) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void AddInput(const std::string& name, std::vector<int64_t> dims, const Napi::TypedArray& data) {
    keepAlive_.push_back(Napi::Persistent(data.As<Napi::Object>()));
    const auto* base = static_cast<const uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
    inputs_.push_back(InputView{name, std::move(dims), base, data.ByteLength()});
  }

  void Execute() override {
    if (!engine_->Run(slot_, inputs_, &outputs_, &error_)) SetError(error_);
  }

  void OnOK() override {
    const Napi::Env env = Env();
    Napi::Array outputs = Napi::Array::New(env, outputs_.size());
    for (uint32_t i = 0; i < outputs_.size(); i++) {
      const OutputTensor& tensor = outputs_[i];
      Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, tensor.bytes.size());
      if (!tensor.bytes.empty()) std::memcpy(buffer.Data(), tensor.bytes.data(), tensor.bytes.size());
      Napi::Object out = Napi::Object::New(env);
      out.Set("name", tensor.name);
      out.Set("type", tensor.type);
      out.Set("dims", ToArray(env, tensor.dims));
      out.Set("data", buffer);
      outputs.Set(i, out);
    }
    deferred_.Resolve(outputs);
  }

  void OnError(const Napi::Error& error) override {
    deferred_.Reject(NativeError(Env(), error.Message(), "ERR_INFERENCE").Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<RuntimeEngine> engine_;
  const int slot_;
  std::vector<Napi::ObjectReference> keepAlive_;
  std::vector<InputView> inputs_;
  std::vector<OutputTensor> outputs_;
  std::string error_;
};

Napi::Value Run(const Napi::CallbackInfo& info, const std::shared_ptr<EngineHolder>& holder) {
  const Napi::Env env = info.Env();
  const std::shared_ptr<RuntimeEngine> engine = holder->Get();
  if (!engine) throw NativeError(env, "This TensorRT engine has been disposed", "ERR_DISPOSED");
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsArray()) {
    throw NativeError(env, "Expected run(slot, [{ name, dims, data }])", "ERR_ARGUMENT");
  }
  auto* worker = new RunWorker(env, engine, info[0].As<Napi::Number>().Int32Value());
  const Napi::Array inputs = info[1].As<Napi::Array>();
  try {
    for (uint32_t i = 0; i < inputs.Length(); i++) {
      if (!inputs.Get(i).IsObject()) throw NativeError(env, "Expected an object { name, dims, data } for inputs[" + std::to_string(i) + "]", "ERR_ARGUMENT");
      const OptionReader input(inputs.Get(i).As<Napi::Object>(), "inputs[" + std::to_string(i) + "]");
      const Napi::Value data = inputs.Get(i).As<Napi::Object>().Get("data");
      if (!data.IsTypedArray()) input.Throw("data", "a typed array");
      worker->AddInput(input.String("name"), input.IntegerList("dims"), data.As<Napi::TypedArray>());
    }
  } catch (...) {
    delete worker;
    throw;
  }
  const Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Object MakeHandle(Napi::Env env, std::shared_ptr<RuntimeEngine> engine) {
  auto holder = std::make_shared<EngineHolder>();
  holder->engine = engine;
  Napi::Object handle = Napi::Object::New(env);
  Napi::Array tensors = Napi::Array::New(env, engine->tensors().size());
  for (uint32_t i = 0; i < engine->tensors().size(); i++) {
    const TensorDescription& tensor = engine->tensors()[i];
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", tensor.name);
    out.Set("input", tensor.input);
    out.Set("type", tensor.type);
    out.Set("dims", ToArray(env, tensor.dims));
    if (!tensor.min.empty()) {
      out.Set("min", ToArray(env, tensor.min));
      out.Set("opt", ToArray(env, tensor.opt));
      out.Set("max", ToArray(env, tensor.max));
    }
    tensors.Set(i, out);
  }
  handle.Set("tensors", tensors);
  handle.Set("slots", engine->slots());
  handle.Set("run", Napi::Function::New(env, [holder](const Napi::CallbackInfo& info) { return Run(info, holder); }, "run"));
  handle.Set("dispose", Napi::Function::New(
                            env,
                            [holder](const Napi::CallbackInfo&) {
                              std::lock_guard<std::mutex> lock(holder->mutex);
                              holder->engine.reset();
                            },
                            "dispose"));
  return handle;
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::vector<uint8_t> plan, LoadOptions options)
      : Napi::AsyncWorker(env, "int8detect.tensorrtLoad"),
        deferred_(Napi::Promise::Deferred::New(env)),
        plan_(std::move(plan)),
        options_(options) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    std::string error;
    engine_ = std::shared_ptr<RuntimeEngine>(RuntimeEngine::Load(plan_, options_, &error).release());
    plan_.clear();
    plan_.shrink_to_fit();
    if (!engine_) SetError(error);
  }

  void OnOK() override { deferred_.Resolve(MakeHandle(Env(), engine_)); }
  void OnError(const Napi::Error& error) override {
    deferred_.Reject(NativeError(Env(), error.Message(), "ERR_TENSORRT_LOAD").Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<uint8_t> plan_;
  const LoadOptions options_;
  std::shared_ptr<RuntimeEngine> engine_;
};

Napi::Value LoadEngine(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw NativeError(env, "Expected an options object for loadEngine(options)", "ERR_ARGUMENT");
  const OptionReader reader(info[0].As<Napi::Object>(), "options");
  LoadOptions options;
  options.device = static_cast<int>(reader.Integer("device", 0, 1023));
  options.dlaCore = static_cast<int>(reader.Integer("dlaCore", -1, 15));
  options.contexts = static_cast<int>(reader.Integer("contexts", 1, 64));
  auto* worker = new LoadWorker(env, reader.Bytes("plan", false), options);
  const Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("loadEngine", Napi::Function::New(env, LoadEngine, "loadEngine"));
}

}  // namespace trt
}  // namespace int8detect
