// loadModel(options) reads and compiles the model on libuv's pool and resolves to a handle whose
// run(slot, inputs) executes one infer request there. Inputs are held (alive, unmoved) until
// their run settles, because the infer request reads them in place.
#include "openvino/session_binding.h"

#include <memory>
#include <string>
#include <vector>

#include "common/dims.h"
#include "common/handle.h"
#include "common/option_reader.h"
#include "common/promise_job.h"
#include "openvino/compiled_session.h"
#include "openvino/model_source.h"
#include "openvino/ov_core.h"

namespace int8detect {
namespace ov_backend {
namespace {

using Session = std::shared_ptr<CompiledSession>;

Napi::Array PortsArray(Napi::Env env, const std::vector<PortDescription>& ports) {
  Napi::Array array = Napi::Array::New(env, ports.size());
  for (uint32_t i = 0; i < ports.size(); i++) {
    Napi::Object port = Napi::Object::New(env);
    port.Set("name", ports[i].name);
    port.Set("type", ports[i].type);
    port.Set("dims", DimsToArray(env, ports[i].dims));
    array.Set(i, port);
  }
  return array;
}

// One inference on one slot (infer request). An OpenVINO CPU inference takes milliseconds, and
// OpenVINO runs it on its own threads: libuv's pool only waits for it.
class RunJob final : public PromiseJob {
 public:
  RunJob(Session session, int slot) : session_(std::move(session)), slot_(slot) {}

  void AddInput(std::string name, std::vector<int64_t> dims, const Napi::TypedArray& data) {
    const HeldBytes held = Hold(data);
    inputs_.push_back(InputView{std::move(name), TypedArrayElementName(held.type), std::move(dims),
                                const_cast<uint8_t*>(held.data), held.bytes});
  }

  void Execute() override {
    std::string error;
    if (!session_->Run(slot_, inputs_, &error)) throw NativeFailure(ErrorCode::kInference, error);
  }

  // Outputs are copied once, from the request's tensors into JavaScript memory; the slot is still
  // held by this run (TypeScript releases it when the promise settles), so nothing overwrites them.
  Napi::Value Resolve(Napi::Env env) override {
    const std::vector<PortDescription>& ports = session_->outputs();
    Napi::Array outputs = Napi::Array::New(env, ports.size());
    for (uint32_t i = 0; i < ports.size(); i++) {
      const ov::Tensor tensor = session_->Output(slot_, i);
      std::vector<int64_t> dims;
      for (size_t dim : tensor.get_shape()) dims.push_back(static_cast<int64_t>(dim));
      outputs.Set(i, TensorObject(env, ports[i].name, ElementTypeName(tensor.get_element_type()), dims, tensor.data(),
                                  tensor.get_byte_size()));
    }
    return outputs;
  }

 private:
  Session session_;
  const int slot_;
  std::vector<InputView> inputs_;
};

Napi::Value Run(const Napi::CallbackInfo& info, const Session& session) {
  const int slot = static_cast<int>(Argument(info, 0, "slot").Integer(0, session->slots() - 1));
  auto job = std::make_unique<RunJob>(session, slot);
  for (RunInput& input : ReadRunInputs(Argument(info, 1, "inputs"))) job->AddInput(std::move(input.name), std::move(input.dims), input.data);
  return QueueOnPool(info.Env(), std::move(job), "int8detect.openvinoRun");
}

Napi::Value PerfCounters(const Napi::CallbackInfo& info, const Session& session) {
  const Napi::Env env = info.Env();
  const bool reset = info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
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

Napi::Value ExecGraph(const Napi::CallbackInfo& info, const Session& session) {
  const Napi::Env env = info.Env();
  std::vector<ExecNode> nodes;
  try {
    nodes = session->ExecGraph();
  } catch (const std::exception& err) {
    ThrowNativeError(env, ErrorCode::kNative, std::string("OpenVINO could not describe the compiled graph: ") + err.what());
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

Napi::Object MakeHandle(Napi::Env env, const Session& session) {
  HandleBuilder<CompiledSession> handle(env, session, "This OpenVINO model has been disposed");
  Napi::Object& object = handle.object();
  object.Set("inputs", PortsArray(env, session->inputs()));
  object.Set("outputs", PortsArray(env, session->outputs()));
  object.Set("slots", session->slots());
  object.Set("device", session->device());
  object.Set("executionDevices", StringsToArray(env, session->executionDevices()));
  object.Set("inferencePrecision", session->inferencePrecision());
  object.Set("performanceHint", session->performanceHint());
  object.Set("optimalRequests", session->optimalRequests());
  object.Set("fakeQuantizeNodes", session->fakeQuantizeNodes());
  return handle.Method("run", Run).Method("perfCounters", PerfCounters).Method("execGraph", ExecGraph).Finish();
}

class LoadJob final : public PromiseJob {
 public:
  LoadJob(ModelSource source, CompileSettings settings) : source_(std::move(source)), settings_(std::move(settings)) {}

  void Execute() override {
    std::string error = CheckDevice(settings_.device);
    if (!error.empty()) throw NativeFailure(ErrorCode::kArgument, "Cannot run " + source_.path + " on OpenVINO: " + error);
    const std::shared_ptr<ov::Model> model = ReadModelOrFail(source_);
    source_.bytes.clear();
    source_.bytes.shrink_to_fit();
    session_ = Session(CompiledSession::Compile(model, settings_, &error).release());
    if (!session_) throw NativeFailure(ErrorCode::kEngineBuild, error);
  }

  Napi::Value Resolve(Napi::Env env) override { return MakeHandle(env, session_); }

 private:
  ModelSource source_;
  const CompileSettings settings_;
  Session session_;
};

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  const OptionReader options = OptionReader::Argument(info, 0, "an options object for loadModel(options)");
  ModelSource source = ReadModelSourceOptions(options);
  CompileSettings settings;
  settings.device = options.String("device");
  settings.performanceHint = options.Field("performanceHint").Choice({"LATENCY", "THROUGHPUT"}) == 0 ? "LATENCY" : "THROUGHPUT";
  settings.requests = static_cast<int>(options.Integer("requests", 1, 256));
  settings.threads = static_cast<int>(options.Integer("threads", 0, 4096));
  settings.cacheDir = options.OptionalString("cacheDir");
  settings.inferencePrecision = options.OptionalString("inferencePrecision");
  settings.perfCounters = options.Boolean("perfCounters");
  settings.dynamicBatch = options.Has("dynamicBatch") && options.Boolean("dynamicBatch");
  return QueueOnPool(info.Env(), std::make_unique<LoadJob>(std::move(source), std::move(settings)), "int8detect.openvinoLoad");
}

}  // namespace

void InitSession(Napi::Env env, Napi::Object exports) {
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
}

}  // namespace ov_backend
}  // namespace int8detect
