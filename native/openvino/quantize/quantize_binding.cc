// emitFakeQuantizeIr(job) -> Promise<report>: FakeQuantize nodes where the plan says, IR written
// to the (temporary) paths given; TypeScript renames the files into place.
// createStatisticsRunner({ model, tensors, threads }) -> Promise<runner>: the float model with the
// tensors to calibrate as extra outputs; runner.run(data, dims) -> Promise<{ name: { data, dims } }>.
// Arguments are copied into plain structs on the main thread; OpenVINO runs in AsyncWorkers.
#include "openvino/quantize/quantize_binding.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "openvino/quantize/fake_quantize_emitter.h"
#include "openvino/quantize/statistics_runner.h"

namespace int8detect {
namespace ovq {
namespace {

[[noreturn]] void ThrowType(Napi::Env env, const std::string& what, const std::string& name) {
  throw Napi::TypeError::New(env, "Expected " + what + " for " + name);
}

std::string GetString(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) ThrowType(o.Env(), "a string", where + "." + key);
  return v.As<Napi::String>().Utf8Value();
}

double GetNumber(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) ThrowType(o.Env(), "a number", where + "." + key);
  return v.As<Napi::Number>().DoubleValue();
}

std::vector<float> GetFloats(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    auto a = v.As<Napi::Float32Array>();
    return std::vector<float>(a.Data(), a.Data() + a.ElementLength());
  }
  if (!v.IsArray()) ThrowType(o.Env(), "a Float32Array or an array of numbers", where + "." + key);
  auto a = v.As<Napi::Array>();
  std::vector<float> result(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) ThrowType(o.Env(), "a number", where + "." + key + "[" + std::to_string(i) + "]");
    result[i] = e.As<Napi::Number>().FloatValue();
  }
  return result;
}

std::vector<std::string> GetStrings(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return {};
  if (!v.IsArray()) ThrowType(o.Env(), "an array of strings", where + "." + key);
  auto a = v.As<Napi::Array>();
  std::vector<std::string> result;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsString()) ThrowType(o.Env(), "a string", where + "." + key + "[" + std::to_string(i) + "]");
    result.push_back(e.As<Napi::String>().Utf8Value());
  }
  return result;
}

Napi::Array GetArray(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return Napi::Array::New(o.Env());
  if (!v.IsArray()) ThrowType(o.Env(), "an array", where + "." + key);
  return v.As<Napi::Array>();
}

ModelSource GetModel(const Napi::Object& o, const std::string& where) {
  Napi::Value v = o.Get("model");
  ModelSource source;
  if (v.IsString()) {
    source.path = v.As<Napi::String>().Utf8Value();
  } else if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto a = v.As<Napi::Uint8Array>();
    source.bytes.assign(a.Data(), a.Data() + a.ElementLength());
  } else {
    ThrowType(o.Env(), "a model path or the bytes of an ONNX model (Uint8Array)", where + ".model");
  }
  return source;
}

Napi::Object Element(const Napi::Array& a, uint32_t i, const std::string& where) {
  Napi::Value v = a.Get(i);
  if (!v.IsObject()) ThrowType(a.Env(), "an object", where + "[" + std::to_string(i) + "]");
  return v.As<Napi::Object>();
}

EmitJob ParseEmitJob(const Napi::Object& o) {
  EmitJob job;
  job.model = GetModel(o, "job");
  job.xmlPath = GetString(o, "xmlPath", "job");
  job.binPath = GetString(o, "binPath", "job");
  Napi::Array activations = GetArray(o, "activations", "job");
  for (uint32_t i = 0; i < activations.Length(); i++) {
    const std::string where = "job.activations[" + std::to_string(i) + "]";
    Napi::Object a = Element(activations, i, "job.activations");
    job.activations.push_back(ActivationFq{GetString(a, "tensor", where), GetStrings(a, "consumers", where),
                                           static_cast<float>(GetNumber(a, "low", where)), static_cast<float>(GetNumber(a, "high", where)),
                                           static_cast<size_t>(GetNumber(a, "levels", where))});
  }
  Napi::Array weights = GetArray(o, "weights", "job");
  for (uint32_t i = 0; i < weights.Length(); i++) {
    const std::string where = "job.weights[" + std::to_string(i) + "]";
    Napi::Object w = Element(weights, i, "job.weights");
    job.weights.push_back(WeightFq{GetString(w, "tensor", where), static_cast<int64_t>(GetNumber(w, "axis", where)), GetFloats(w, "low", where),
                                   GetFloats(w, "high", where), static_cast<size_t>(GetNumber(w, "levels", where))});
  }
  Napi::Array biases = GetArray(o, "biases", "job");
  for (uint32_t i = 0; i < biases.Length(); i++) {
    const std::string where = "job.biases[" + std::to_string(i) + "]";
    Napi::Object b = Element(biases, i, "job.biases");
    job.biases.push_back(BiasShift{GetString(b, "tensor", where), GetFloats(b, "delta", where)});
  }
  return job;
}

class EmitWorker final : public Napi::AsyncWorker {
 public:
  EmitWorker(Napi::Env env, EmitJob job) : Napi::AsyncWorker(env), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      report_ = EmitFakeQuantizeIr(job_);
    } catch (const std::exception& e) {
      SetError(std::string("OpenVINO quantization could not emit the IR: ") + e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    r.Set("activationFakeQuantizes", static_cast<double>(report_.activationFakeQuantizes));
    r.Set("weightFakeQuantizes", static_cast<double>(report_.weightFakeQuantizes));
    r.Set("biasesShifted", static_cast<double>(report_.biasesShifted));
    Napi::Array warnings = Napi::Array::New(env, report_.warnings.size());
    for (size_t i = 0; i < report_.warnings.size(); i++) warnings.Set(static_cast<uint32_t>(i), report_.warnings[i]);
    r.Set("warnings", warnings);
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  EmitJob job_;
  EmitReport report_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value EmitFakeQuantizeIrJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowType(env, "a job object", "emitFakeQuantizeIr(job)");
  auto* worker = new EmitWorker(env, ParseEmitJob(info[0].As<Napi::Object>()));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// The runner shared by its JavaScript object and the workers using it; one run at a time.
struct RunnerState {
  std::unique_ptr<StatisticsRunner> runner;
  std::mutex mutex;
};

class RunWorker final : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<RunnerState> state, Napi::Float32Array input, std::vector<size_t> dims)
      : Napi::AsyncWorker(env), state_(std::move(state)), data_(input.Data()), dims_(std::move(dims)), deferred_(Napi::Promise::Deferred::New(env)) {
    // The input stays alive (and unmoved) until the run is over.
    input_ = Napi::Persistent(input);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->runner) {
      SetError("the statistics runner was disposed");
      return;
    }
    try {
      outputs_ = state_->runner->Run(data_, dims_);
    } catch (const std::exception& e) {
      SetError(std::string("OpenVINO calibration inference failed: ") + e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    for (auto& t : outputs_) {
      Napi::Float32Array data = Napi::Float32Array::New(env, t.data.size());
      std::copy(t.data.begin(), t.data.end(), data.Data());
      Napi::Array dims = Napi::Array::New(env, t.dims.size());
      for (size_t i = 0; i < t.dims.size(); i++) dims.Set(static_cast<uint32_t>(i), static_cast<double>(t.dims[i]));
      Napi::Object tensor = Napi::Object::New(env);
      tensor.Set("data", data);
      tensor.Set("dims", dims);
      result.Set(t.name, tensor);
    }
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::shared_ptr<RunnerState> state_;
  Napi::Reference<Napi::Float32Array> input_;
  const float* data_;
  std::vector<size_t> dims_;
  std::vector<NamedTensor> outputs_;
  Napi::Promise::Deferred deferred_;
};

Napi::Object RunnerObject(Napi::Env env, std::shared_ptr<RunnerState> state) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("inputName", state->runner->inputName());
  Napi::Array names = Napi::Array::New(env, state->runner->outputNames().size());
  for (size_t i = 0; i < state->runner->outputNames().size(); i++) names.Set(static_cast<uint32_t>(i), state->runner->outputNames()[i]);
  o.Set("outputNames", names);
  o.Set("run", Napi::Function::New(env, [state](const Napi::CallbackInfo& info) -> Napi::Value {
          Napi::Env env = info.Env();
          if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
            ThrowType(env, "a Float32Array", "run(data, dims).data");
          }
          if (!info[1].IsArray()) ThrowType(env, "an array of dimensions", "run(data, dims).dims");
          auto dimsArray = info[1].As<Napi::Array>();
          std::vector<size_t> dims;
          size_t elements = 1;
          for (uint32_t i = 0; i < dimsArray.Length(); i++) {
            Napi::Value d = dimsArray.Get(i);
            if (!d.IsNumber() || d.As<Napi::Number>().DoubleValue() < 1) ThrowType(env, "a positive integer", "run(data, dims).dims[" + std::to_string(i) + "]");
            dims.push_back(static_cast<size_t>(d.As<Napi::Number>().Int64Value()));
            elements *= dims.back();
          }
          auto input = info[0].As<Napi::Float32Array>();
          if (elements != input.ElementLength()) {
            throw Napi::RangeError::New(env, "run(data, dims): the dims hold " + std::to_string(elements) + " elements, the data " + std::to_string(input.ElementLength()));
          }
          auto* worker = new RunWorker(env, state, input, std::move(dims));
          Napi::Promise promise = worker->Promise();
          worker->Queue();
          return promise;
        }));
  o.Set("dispose", Napi::Function::New(env, [state](const Napi::CallbackInfo&) {
          // Waits for a run in flight (it holds the mutex), then frees the compiled model.
          std::lock_guard<std::mutex> lock(state->mutex);
          state->runner.reset();
        }));
  return o;
}

class OpenRunnerWorker final : public Napi::AsyncWorker {
 public:
  OpenRunnerWorker(Napi::Env env, ModelSource source, std::vector<std::string> tensors, int threads)
      : Napi::AsyncWorker(env), source_(std::move(source)), tensors_(std::move(tensors)), threads_(threads), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      state_ = std::make_shared<RunnerState>();
      state_->runner = std::make_unique<StatisticsRunner>(source_, tensors_, threads_);
    } catch (const std::exception& e) {
      SetError(std::string("OpenVINO could not compile the model for calibration: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(RunnerObject(Env(), state_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  ModelSource source_;
  std::vector<std::string> tensors_;
  int threads_;
  std::shared_ptr<RunnerState> state_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value CreateStatisticsRunnerJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowType(env, "an options object", "createStatisticsRunner(options)");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value threads = o.Get("threads");
  auto* worker = new OpenRunnerWorker(env, GetModel(o, "options"), GetStrings(o, "tensors", "options"),
                                      threads.IsNumber() ? threads.As<Napi::Number>().Int32Value() : 0);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace
}  // namespace ovq
}  // namespace int8detect

void RegisterQuantizeBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("emitFakeQuantizeIr", Napi::Function::New(env, int8detect::ovq::EmitFakeQuantizeIrJs, "emitFakeQuantizeIr"));
  exports.Set("createStatisticsRunner", Napi::Function::New(env, int8detect::ovq::CreateStatisticsRunnerJs, "createStatisticsRunner"));
}
