#include "openvino/convert_binding.h"

#include <openvino/core/graph_util.hpp>

#include <filesystem>
#include <random>
#include <string>

#include "common/option_reader.h"
#include "common/promise_job.h"
#include "openvino/model_source.h"
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

class ConvertJob final : public PromiseJob {
 public:
  ConvertJob(ModelSource source, std::string xmlPath, bool compressToFp16)
      : source_(std::move(source)), xmlPath_(std::move(xmlPath)), compressToFp16_(compressToFp16) {}

  void Execute() override {
    const std::shared_ptr<ov::Model> model = ReadModelOrFail(source_);
    std::string error;
    if (!SaveIrAtomically(model, xmlPath_, compressToFp16_, &error)) throw NativeFailure(ErrorCode::kNative, error);
  }

  Napi::Value Resolve(Napi::Env env) override { return env.Undefined(); }

 private:
  const ModelSource source_;
  const std::string xmlPath_;
  const bool compressToFp16_;
};

Napi::Value ConvertToIr(const Napi::CallbackInfo& info) {
  const OptionReader options = OptionReader::Argument(info, 0, "an options object for convertToIr(options)");
  ModelSource source = ReadModelSourceOptions(options);
  const Received xmlPath = options.Field("xmlPath");
  if (!IsIrPath(xmlPath.String())) xmlPath.Reject("a path ending in .xml");
  return QueueOnPool(info.Env(), std::make_unique<ConvertJob>(std::move(source), xmlPath.String(), options.Boolean("compressToFp16")),
                     "int8detect.openvinoConvert");
}

}  // namespace

void InitConvert(Napi::Env env, Napi::Object exports) {
  exports.Set("convertToIr", Napi::Function::New(env, ConvertToIr, "convertToIr"));
}

}  // namespace ov_backend
}  // namespace int8detect
