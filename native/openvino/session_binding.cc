// Inputs stay referenced (alive and unmoved) until their run settles, because the infer request
// reads them in place. dispose() only drops the handle's reference: runs in flight keep the
// compiled model until they finish, so it is freed after the last one.
#include "openvino/session_binding.h"

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "openvino/compiled_session.h"
#include "openvino/model_source.h"
#include "openvino/napi_errors.h"
#include "openvino/ov_core.h"

namespace int8detect {
namespace ov_backend {
namespace {

struct SessionHolder {
  std::mutex mutex;
  std::shared_ptr<CompiledSession> session;
  std::shared_ptr<CompiledSession> Get() {
    std::lock_guard<std::mutex> lock(mutex);
    return session;
  }
};

Napi::Array DimsArray(Napi::Env env, const std::vector<int64_t>& dims) {
  Napi::Array array = Napi::Array::New(env, dims.size());
  for (uint32_t i = 0; i < dims.size(); i++) array.Set(i, Napi::Number::New(env, static_cast<double>(dims[i])));
  return array;
}

Napi::Array StringArray(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); i++) array.Set(i, values[i]);
  return array;
}

Napi::Array PortsArray(Napi::Env env, const std::vector<PortDescription>& ports) {
  Napi::Array array = Napi::Array::New(env, ports.size());
  for (uint32_t i = 0; i < ports.size(); i++) {
    Napi::Object port = Napi::Object::New(env);
    port.Set("name", ports[i].name);
    port.Set("type", ports[i].type);
    port.Set("dims", DimsArray(env, ports[i].dims));
    array.Set(i, port);
  }
  return array;
}

const char* TypedArrayElementName(napi_typedarray_type type) {
  switch (type) {
    case napi_float32_array:
      return "float32";
    case napi_float64_array:
      return "float64";
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return "uint8";
    case napi_int8_array:
      return "int8";
    case napi_uint16_array:
      return "uint16";
    case napi_int16_array:
      return "int16";
    case napi_int32_array:
      return "int32";
    case napi_bigint64_array:
      return "int64";
    default:
      return "unsupported";
  }
}

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<CompiledSession> session, int slot)
      : Napi::AsyncWorker(env, "int8detect.openvinoRun"),
        deferred_(Napi::Promise::Deferred::New(env)),
        session_(std::move(session)),
        slot_(slot) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void AddInput(const std::string& name, std::vector<int64_t> dims, const Napi::TypedArray& data) {
    keepAlive_.push_back(Napi::Persistent(data.As<Napi::Object>()));
    auto* base = static_cast<uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
    inputs_.push_back(InputView{name, TypedArrayElementName(data.TypedArrayType()), std::move(dims), base, data.ByteLength()});
  }

  void Execute() override {
    if (!session_->Run(slot_, inputs_, &error_)) SetError(error_);
  }

  // Outputs are copied once, from the request's tensors into JavaScript memory; the slot is still
  // held by this run (TypeScript releases it when the promise settles), so nothing overwrites them.
  void OnOK() override {
    const Napi::Env env = Env();
    const std::vector<PortDescription>& ports = session_->outputs();
    Napi::Array outputs = Napi::Array::New(env, ports.size());
    for (uint32_t i = 0; i < ports.size(); i++) {
      const ov::Tensor tensor = session_->Output(slot_, i);
      Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, tensor.get_byte_size());
      if (tensor.get_byte_size() > 0) std::memcpy(buffer.Data(), tensor.data(), tensor.get_byte_size());
      std::vector<int64_t> dims;
      for (size_t dim : tensor.get_shape()) dims.push_back(static_cast<int64_t>(dim));
      Napi::Object out = Napi::Object::New(env);
      out.Set("name", ports[i].name);
      out.Set("type", ElementTypeName(tensor.get_element_type()));
      out.Set("dims", DimsArray(env, dims));
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
  std::shared_ptr<CompiledSession> session_;
  const int slot_;
  std::vector<Napi::ObjectReference> keepAlive_;
  std::vector<InputView> inputs_;
  std::string error_;
};

std::shared_ptr<CompiledSession> LiveSession(Napi::Env env, const std::shared_ptr<SessionHolder>& holder) {
  std::shared_ptr<CompiledSession> session = holder->Get();
  if (!session) throw NativeError(env, "This OpenVINO model has been disposed", "ERR_DISPOSED");
  return session;
}

Napi::Value Run(const Napi::CallbackInfo& info, const std::shared_ptr<SessionHolder>& holder) {
  const Napi::Env env = info.Env();
  std::shared_ptr<CompiledSession> session = LiveSession(env, holder);
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsArray()) {
    throw NativeError(env, "Expected run(slot, [{ name, dims, data }])", "ERR_ARGUMENT");
  }
  auto worker = std::make_unique<RunWorker>(env, session, info[0].As<Napi::Number>().Int32Value());
  const Napi::Array inputs = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < inputs.Length(); i++) {
    const std::string where = "inputs[" + std::to_string(i) + "]";
    if (!inputs.Get(i).IsObject()) throw NativeError(env, "Expected an object { name, dims, data } for " + where, "ERR_ARGUMENT");
    const Napi::Object input = inputs.Get(i).As<Napi::Object>();
    const OptionReader reader(input, where);
    const Napi::Value data = input.Get("data");
    if (!data.IsTypedArray()) reader.Throw("data", "a typed array");
    const Napi::Value dimsValue = input.Get("dims");
    if (!dimsValue.IsArray()) reader.Throw("dims", "an array of integers");
    const Napi::Array dimsArray = dimsValue.As<Napi::Array>();
    std::vector<int64_t> dims;
    for (uint32_t d = 0; d < dimsArray.Length(); d++) {
      if (!dimsArray.Get(d).IsNumber()) reader.Throw("dims", "an array of integers");
      dims.push_back(dimsArray.Get(d).As<Napi::Number>().Int64Value());
    }
    worker->AddInput(reader.String("name"), std::move(dims), data.As<Napi::TypedArray>());
  }
  const Napi::Promise promise = worker->Promise();
  worker.release()->Queue();  // AsyncWorker deletes itself once it has settled.
  return promise;
}

Napi::Value PerfCounters(const Napi::CallbackInfo& info, const std::shared_ptr<SessionHolder>& holder) {
  const Napi::Env env = info.Env();
  std::shared_ptr<CompiledSession> session = LiveSession(env, holder);
  const bool reset = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  int64_t runs = 0;
  const std::vector<LayerCounter> layers = session->perfCounters().Snapshot(reset, &runs);
  Napi::Object out = Napi::Object::New(env);
  out.Set("enabled", session->profiling());
  out.Set("runs", Napi::Number::New(env, static_cast<double>(runs)));
  Napi::Array array = Napi::Array::New(env, layers.size());
  for (uint32_t i = 0; i < layers.size(); i++) {
    Napi::Object layer = Napi::Object::New(env);
    layer.Set("name", layers[i].name);
    layer.Set("nodeType", layers[i].nodeType);
    layer.Set("execType", layers[i].execType);
    layer.Set("status", layers[i].status);
    layer.Set("realTimeUs", Napi::Number::New(env, static_cast<double>(layers[i].realTimeUs)));
    layer.Set("cpuTimeUs", Napi::Number::New(env, static_cast<double>(layers[i].cpuTimeUs)));
    layer.Set("runs", Napi::Number::New(env, static_cast<double>(layers[i].runs)));
    array.Set(i, layer);
  }
  out.Set("layers", array);
  return out;
}

Napi::Value ExecGraph(const Napi::CallbackInfo& info, const std::shared_ptr<SessionHolder>& holder) {
  const Napi::Env env = info.Env();
  std::shared_ptr<CompiledSession> session = LiveSession(env, holder);
  std::vector<ExecNode> nodes;
  try {
    nodes = session->ExecGraph();
  } catch (const std::exception& err) {
    throw NativeError(env, std::string("OpenVINO could not describe the compiled graph: ") + err.what(), "ERR_NATIVE");
  }
  Napi::Array array = Napi::Array::New(env, nodes.size());
  for (uint32_t i = 0; i < nodes.size(); i++) {
    Napi::Object node = Napi::Object::New(env);
    node.Set("name", nodes[i].name);
    node.Set("layerType", nodes[i].layerType);
    node.Set("primitiveType", nodes[i].primitiveType);
    node.Set("runtimePrecision", nodes[i].runtimePrecision);
    array.Set(i, node);
  }
  return array;
}

Napi::Object MakeHandle(Napi::Env env, std::shared_ptr<CompiledSession> session) {
  auto holder = std::make_shared<SessionHolder>();
  holder->session = session;
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("inputs", PortsArray(env, session->inputs()));
  handle.Set("outputs", PortsArray(env, session->outputs()));
  handle.Set("slots", session->slots());
  handle.Set("device", session->device());
  handle.Set("executionDevices", StringArray(env, session->executionDevices()));
  handle.Set("inferencePrecision", session->inferencePrecision());
  handle.Set("performanceHint", session->performanceHint());
  handle.Set("optimalRequests", session->optimalRequests());
  handle.Set("fakeQuantizeNodes", session->fakeQuantizeNodes());
  handle.Set("run", Napi::Function::New(env, [holder](const Napi::CallbackInfo& info) { return Run(info, holder); }, "run"));
  handle.Set("perfCounters",
             Napi::Function::New(env, [holder](const Napi::CallbackInfo& info) { return PerfCounters(info, holder); }, "perfCounters"));
  handle.Set("execGraph", Napi::Function::New(env, [holder](const Napi::CallbackInfo& info) { return ExecGraph(info, holder); }, "execGraph"));
  handle.Set("dispose", Napi::Function::New(
                            env,
                            [holder](const Napi::CallbackInfo&) {
                              std::lock_guard<std::mutex> lock(holder->mutex);
                              holder->session.reset();
                            },
                            "dispose"));
  return handle;
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, ModelSource source, CompileSettings settings)
      : Napi::AsyncWorker(env, "int8detect.openvinoLoad"),
        deferred_(Napi::Promise::Deferred::New(env)),
        source_(std::move(source)),
        settings_(std::move(settings)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    std::string error = CheckDevice(settings_.device);
    if (!error.empty()) {
      code_ = "ERR_ARGUMENT";
      SetError("Cannot run " + source_.path + " on OpenVINO: " + error);
      return;
    }
    std::shared_ptr<ov::Model> model = ReadModel(source_, &error);
    source_.bytes.clear();
    source_.bytes.shrink_to_fit();
    if (!model) {
      code_ = "ERR_MODEL";
      SetError(error);
      return;
    }
    session_ = std::shared_ptr<CompiledSession>(CompiledSession::Compile(model, settings_, &error).release());
    if (!session_) {
      code_ = "ERR_ENGINE_BUILD";
      SetError(error);
    }
  }

  void OnOK() override { deferred_.Resolve(MakeHandle(Env(), session_)); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(NativeError(Env(), error.Message(), code_).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  ModelSource source_;
  const CompileSettings settings_;
  std::shared_ptr<CompiledSession> session_;
  const char* code_ = "ERR_NATIVE";
};

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw NativeError(env, "Expected an options object for loadModel(options)", "ERR_ARGUMENT");
  const Napi::Object options = info[0].As<Napi::Object>();
  const OptionReader reader(options, "options");
  ModelSource source;
  source.path = reader.String("modelPath");
  if (reader.Has("model")) {
    const Napi::Value model = options.Get("model");
    if (!model.IsTypedArray()) reader.Throw("model", "a Uint8Array or null");
    const Napi::TypedArray bytes = model.As<Napi::TypedArray>();
    const auto* base = static_cast<const uint8_t*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset();
    source.bytes.assign(base, base + bytes.ByteLength());
  }
  CompileSettings settings;
  settings.device = reader.String("device");
  settings.performanceHint = reader.String("performanceHint");
  if (settings.performanceHint != "LATENCY" && settings.performanceHint != "THROUGHPUT") {
    reader.Throw("performanceHint", "'LATENCY' or 'THROUGHPUT'");
  }
  settings.requests = static_cast<int>(reader.Integer("requests", 1, 256));
  settings.threads = static_cast<int>(reader.Integer("threads", 0, 4096));
  settings.cacheDir = reader.OptionalString("cacheDir");
  settings.inferencePrecision = reader.OptionalString("inferencePrecision");
  settings.perfCounters = reader.Boolean("perfCounters");
  auto* worker = new LoadWorker(env, std::move(source), std::move(settings));
  const Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitSession(Napi::Env env, Napi::Object exports) {
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
}

}  // namespace ov_backend
}  // namespace int8detect
