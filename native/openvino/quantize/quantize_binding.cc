// emitFakeQuantizeIr(job) -> Promise<report>: FakeQuantize nodes where the plan says, IR written
// to the (temporary) paths given; TypeScript renames the files into place.
// createStatisticsRunner({ model, tensors, threads }) -> Promise<runner>: the float model with the
// tensors to calibrate as extra outputs; runner.run(data, dims) -> Promise<{ name: { data, dims } }>.
// Arguments are copied into plain structs on the main thread; OpenVINO runs on libuv's pool.
#include "openvino/quantize/quantize_binding.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/dims.h"
#include "common/handle.h"
#include "common/option_reader.h"
#include "common/promise_job.h"
#include "openvino/quantize/fake_quantize_emitter.h"
#include "openvino/quantize/statistics_runner.h"

namespace int8detect {
namespace ovq {
namespace {

// Each element of the array `list` (absent: none) as an object reader.
template <typename Visit>
void ForEachObject(const Received& list, Visit visit) {
  if (list.value().IsUndefined()) return;
  const Napi::Array array = list.Array();
  for (uint32_t i = 0; i < array.Length(); i++) visit(list.Element(array, i).Object());
}

std::vector<std::string> OptionalStrings(const OptionReader& object, const char* field) {
  const Received value = object.Field(field);
  return value.value().IsUndefined() ? std::vector<std::string>() : value.Strings();
}

EmitJob ParseEmitJob(const OptionReader& options) {
  EmitJob job;
  job.model = ov_backend::ReadModelSourceValue(options.Field("model"));
  job.xmlPath = options.String("xmlPath");
  job.binPath = options.String("binPath");
  ForEachObject(options.Field("activations"), [&](const OptionReader& a) {
    job.activations.push_back(ActivationFq{a.String("tensor"), OptionalStrings(a, "consumers"),
                                           static_cast<float>(a.Field("low").Number()), static_cast<float>(a.Field("high").Number()),
                                           static_cast<size_t>(a.Integer("levels", 2, 65536))});
  });
  ForEachObject(options.Field("weights"), [&](const OptionReader& w) {
    job.weights.push_back(WeightFq{w.String("tensor"), w.Integer("axis", -64, 64), w.Field("low").Floats(), w.Field("high").Floats(),
                                   static_cast<size_t>(w.Integer("levels", 2, 65536))});
  });
  ForEachObject(options.Field("biases"), [&](const OptionReader& b) {
    job.biases.push_back(BiasShift{b.String("tensor"), b.Field("delta").Floats()});
  });
  return job;
}

class EmitJobRun final : public PromiseJob {
 public:
  explicit EmitJobRun(EmitJob job) : job_(std::move(job)) {}

  void Execute() override {
    try {
      report_ = EmitFakeQuantizeIr(job_);
    } catch (const NativeFailure&) {
      throw;
    } catch (const std::exception& e) {
      throw NativeFailure(ErrorCode::kNative, std::string("OpenVINO quantization could not emit the IR: ") + e.what());
    }
  }

  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    r.Set("activationFakeQuantizes", static_cast<double>(report_.activationFakeQuantizes));
    r.Set("weightFakeQuantizes", static_cast<double>(report_.weightFakeQuantizes));
    r.Set("biasesShifted", static_cast<double>(report_.biasesShifted));
    Napi::Array warnings = Napi::Array::New(env, report_.warnings.size());
    for (size_t i = 0; i < report_.warnings.size(); i++) warnings.Set(static_cast<uint32_t>(i), report_.warnings[i]);
    r.Set("warnings", warnings);
    return r;
  }

 private:
  EmitJob job_;
  EmitReport report_;
};

Napi::Value EmitFakeQuantizeIrJs(const Napi::CallbackInfo& info) {
  const OptionReader options = OptionReader::Argument(info, 0, "a job object for emitFakeQuantizeIr(job)", "job");
  return QueueOnPool(info.Env(), std::make_unique<EmitJobRun>(ParseEmitJob(options)), "int8detect.openvinoEmitIr");
}

// The compiled runner and the lock that keeps its one infer request to one run at a time.
struct RunnerSession {
  explicit RunnerSession(std::unique_ptr<StatisticsRunner> r) : runner(std::move(r)) {}
  std::unique_ptr<StatisticsRunner> runner;
  std::mutex mutex;
};

class StatisticsRunJob final : public PromiseJob {
 public:
  StatisticsRunJob(std::shared_ptr<RunnerSession> session, const Napi::Float32Array& input, std::vector<size_t> dims)
      : session_(std::move(session)), data_(reinterpret_cast<const float*>(Hold(input).data)), dims_(std::move(dims)) {}

  void Execute() override {
    std::lock_guard<std::mutex> lock(session_->mutex);
    try {
      outputs_ = session_->runner->Run(data_, dims_);
    } catch (const std::exception& e) {
      throw NativeFailure(ErrorCode::kInference, std::string("OpenVINO calibration inference failed: ") + e.what());
    }
  }

  Napi::Value Resolve(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    for (const NamedTensor& t : outputs_) {
      Napi::Float32Array data = Napi::Float32Array::New(env, t.data.size());
      std::copy(t.data.begin(), t.data.end(), data.Data());
      Napi::Array dims = Napi::Array::New(env, t.dims.size());
      for (size_t i = 0; i < t.dims.size(); i++) dims.Set(static_cast<uint32_t>(i), static_cast<double>(t.dims[i]));
      Napi::Object tensor = Napi::Object::New(env);
      tensor.Set("data", data);
      tensor.Set("dims", dims);
      result.Set(t.name, tensor);
    }
    return result;
  }

 private:
  std::shared_ptr<RunnerSession> session_;
  const float* data_;
  std::vector<size_t> dims_;
  std::vector<NamedTensor> outputs_;
};

Napi::Value RunStatistics(const Napi::CallbackInfo& info, const std::shared_ptr<RunnerSession>& session) {
  const Napi::Float32Array input = Argument(info, 0, "data").Float32Array();
  const Received dimsValue = Argument(info, 1, "dims");
  std::vector<size_t> dims;
  size_t elements = 1;
  for (const int64_t d : dimsValue.Integers(1, kMaxSafeInteger)) {
    dims.push_back(static_cast<size_t>(d));
    elements *= dims.back();
  }
  if (elements != input.ElementLength()) {
    dimsValue.Reject("dims of " + std::to_string(input.ElementLength()) + " elements (the data's length)");
  }
  return QueueOnPool(info.Env(), std::make_unique<StatisticsRunJob>(session, input, std::move(dims)), "int8detect.openvinoStatistics");
}

class OpenRunnerJob final : public PromiseJob {
 public:
  OpenRunnerJob(ov_backend::ModelSource source, std::vector<std::string> tensors, int threads)
      : source_(std::move(source)), tensors_(std::move(tensors)), threads_(threads) {}

  void Execute() override {
    try {
      session_ = std::make_shared<RunnerSession>(std::make_unique<StatisticsRunner>(source_, tensors_, threads_));
    } catch (const NativeFailure&) {
      throw;
    } catch (const std::exception& e) {
      throw NativeFailure(ErrorCode::kEngineBuild, std::string("OpenVINO could not compile the model for calibration: ") + e.what());
    }
  }

  Napi::Value Resolve(Napi::Env env) override {
    HandleBuilder<RunnerSession> handle(env, session_, "This OpenVINO statistics runner has been disposed");
    handle.object().Set("inputName", session_->runner->inputName());
    handle.object().Set("outputNames", StringsToArray(env, session_->runner->outputNames()));
    return handle.Method("run", RunStatistics).Finish();
  }

 private:
  ov_backend::ModelSource source_;
  std::vector<std::string> tensors_;
  int threads_;
  std::shared_ptr<RunnerSession> session_;
};

Napi::Value CreateStatisticsRunnerJs(const Napi::CallbackInfo& info) {
  const OptionReader options = OptionReader::Argument(info, 0, "an options object for createStatisticsRunner(options)");
  const Received threads = options.Field("threads");
  auto job = std::make_unique<OpenRunnerJob>(ov_backend::ReadModelSourceValue(options.Field("model")), OptionalStrings(options, "tensors"),
                                             threads.value().IsUndefined() ? 0 : static_cast<int>(threads.Integer(0, 4096)));
  return QueueOnPool(info.Env(), std::move(job), "int8detect.openvinoStatisticsRunner");
}

}  // namespace
}  // namespace ovq
}  // namespace int8detect

void RegisterQuantizeBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("emitFakeQuantizeIr", Napi::Function::New(env, int8detect::ovq::EmitFakeQuantizeIrJs, "emitFakeQuantizeIr"));
  exports.Set("createStatisticsRunner", Napi::Function::New(env, int8detect::ovq::CreateStatisticsRunnerJs, "createStatisticsRunner"));
}
