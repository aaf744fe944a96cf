#include "openvino/convert_binding.h"

#include <openvino/core/graph_util.hpp>

#include <filesystem>
#include <random>
#include <string>

#include "openvino/model_source.h"
#include "openvino/napi_errors.h"
#include "openvino/ov_core.h"

namespace int8detect {
namespace ov_backend {
namespace {

// The .bin is renamed into place before the .xml: a reader that finds the .xml finds its weights.
bool SaveIrAtomically(const std::shared_ptr<ov::Model>& model, const std::string& xmlPath, bool compressToFp16, std::string* error) {
  std::random_device random;
  const std::string tmpXml = xmlPath + ".tmp-" + std::to_string(random()) + ".xml";
  const std::string tmpBin = WeightsPathOf(tmpXml);
  std::error_code ignored;
  try {
    ov::save_model(model, tmpXml, compressToFp16);
    std::filesystem::rename(tmpBin, WeightsPathOf(xmlPath));
    std::filesystem::rename(tmpXml, xmlPath);
  } catch (const std::exception& err) {
    std::filesystem::remove(tmpXml, ignored);
    std::filesystem::remove(tmpBin, ignored);
    *error = "Cannot save the OpenVINO IR " + xmlPath + ": " + OpenVinoMessage(err);
    return false;
  }
  return true;
}

class ConvertWorker : public Napi::AsyncWorker {
 public:
  ConvertWorker(Napi::Env env, ModelSource source, std::string xmlPath, bool compressToFp16)
      : Napi::AsyncWorker(env, "int8detect.openvinoConvert"),
        deferred_(Napi::Promise::Deferred::New(env)),
        source_(std::move(source)),
        xmlPath_(std::move(xmlPath)),
        compressToFp16_(compressToFp16) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    std::string error;
    const std::shared_ptr<ov::Model> model = ReadModel(source_, &error);
    if (!model) {
      code_ = "ERR_MODEL";
      SetError(error);
    } else if (!SaveIrAtomically(model, xmlPath_, compressToFp16_, &error)) {
      code_ = "ERR_NATIVE";
      SetError(error);
    }
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(NativeError(Env(), error.Message(), code_).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  ModelSource source_;
  const std::string xmlPath_;
  const bool compressToFp16_;
  const char* code_ = "ERR_NATIVE";
};

Napi::Value ConvertToIr(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw NativeError(env, "Expected an options object for convertToIr(options)", "ERR_ARGUMENT");
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
  const std::string xmlPath = reader.String("xmlPath");
  if (!IsIrPath(xmlPath)) reader.Throw("xmlPath", "a path ending in .xml");
  auto* worker = new ConvertWorker(env, std::move(source), xmlPath, reader.Boolean("compressToFp16"));
  const Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitConvert(Napi::Env env, Napi::Object exports) {
  exports.Set("convertToIr", Napi::Function::New(env, ConvertToIr, "convertToIr"));
}

}  // namespace ov_backend
}  // namespace int8detect
