// N-API glue for the preprocessing kernels: the job object is read and checked on the main thread
// into a plain PreprocessJob, and the kernels run inline (preprocessSync) or on libuv's pool
// (preprocess). Errors about the source frame carry code ERR_FRAME, the others ERR_ARGUMENT, so
// the TypeScript wrapper can tell the caller's bad frame from a job it built wrong.
#include "core/preprocess_binding.h"

#include <limits>
#include <memory>
#include <string>

#include "common/option_reader.h"
#include "common/promise_job.h"
#include "core/preprocess.h"

namespace int8detect {
namespace {

constexpr int64_t kMaxDimension = std::numeric_limits<int>::max();

void ReadTriple(const OptionReader& reader, const char* field, double out[3]) {
  const Received value = reader.Field(field);
  if (!value.value().IsArray() || value.value().As<Napi::Array>().Length() != 3) value.Reject("an array of 3 numbers");
  const Napi::Array array = value.value().As<Napi::Array>();
  for (uint32_t i = 0; i < 3; ++i) out[i] = value.Element(array, i).Number();
}

// The job's fields, read and checked; `src` and `dst` are the typed arrays the kernels read and write.
struct ParsedJob {
  PreprocessJob job;
  Napi::TypedArray src;
  Napi::TypedArray dst;
};

ParsedJob ParseJob(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const OptionReader target = OptionReader::Argument(info, 0, "a preprocessing job object", "job");
  const OptionReader source = target.WithCode(ErrorCode::kFrame);
  ParsedJob parsed;
  SourceFrame& src = parsed.job.src;
  TensorTarget& dst = parsed.job.dst;

  const Received srcValue = source.Field("src");
  if (!srcValue.value().IsTypedArray() || srcValue.value().As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    srcValue.Reject("a Buffer or Uint8Array");
  }
  const Napi::Uint8Array srcArray = srcValue.value().As<Napi::Uint8Array>();
  src.data = srcArray.Data();
  src.byteLength = srcArray.ByteLength();
  parsed.src = srcArray;

  static const PixelFormat kFormats[] = {PixelFormat::kRgb,  PixelFormat::kBgr,  PixelFormat::kRgba, PixelFormat::kBgra,
                                         PixelFormat::kGray, PixelFormat::kNv12, PixelFormat::kI420};
  src.format = kFormats[source.Field("format").Choice({"rgb", "bgr", "rgba", "bgra", "gray", "nv12", "i420"})];
  src.width = static_cast<int>(source.Integer("width", 1, kMaxDimension));
  src.height = static_cast<int>(source.Integer("height", 1, kMaxDimension));
  src.stride = static_cast<size_t>(source.Integer("stride", 0));
  src.uvOffset = static_cast<size_t>(source.Integer("uvOffset", 0));
  src.uvStride = static_cast<size_t>(source.Integer("uvStride", 0));
  src.vOffset = static_cast<size_t>(source.Integer("vOffset", 0));
  src.colorMatrix = source.Field("colorMatrix").Choice({"bt601", "bt709"}) == 0 ? ColorMatrix::kBt601 : ColorMatrix::kBt709;
  src.colorRange = source.Field("colorRange").Choice({"limited", "full"}) == 0 ? ColorRange::kLimited : ColorRange::kFull;

  const Received dstValue = target.Field("dst");
  const napi_typedarray_type dstType =
      dstValue.value().IsTypedArray() ? dstValue.value().As<Napi::TypedArray>().TypedArrayType() : napi_int8_array;
  if (dstType == napi_float32_array) {
    Napi::Float32Array array = dstValue.value().As<Napi::Float32Array>();
    dst.data = array.Data();
    dst.elementCount = array.ElementLength();
    dst.type = ElementType::kFloat32;
  } else if (dstType == napi_uint8_array) {
    Napi::Uint8Array array = dstValue.value().As<Napi::Uint8Array>();
    dst.data = array.Data();
    dst.elementCount = array.ElementLength();
    dst.type = ElementType::kUint8;
  } else {
    dstValue.Reject("a Float32Array or Uint8Array");
  }
  parsed.dst = dstValue.value().As<Napi::TypedArray>();

  dst.width = static_cast<int>(target.Integer("dstWidth", 1, kMaxDimension));
  dst.height = static_cast<int>(target.Integer("dstHeight", 1, kMaxDimension));
  dst.layout = target.Field("layout").Choice({"nchw", "nhwc"}) == 0 ? TensorLayout::kNchw : TensorLayout::kNhwc;
  static const ChannelOrder kOrders[] = {ChannelOrder::kRgb, ChannelOrder::kBgr, ChannelOrder::kGray};
  dst.channelOrder = kOrders[target.Field("channelOrder").Choice({"rgb", "bgr", "gray"})];
  dst.resizedWidth = static_cast<int>(target.Integer("resizedWidth", 1, kMaxDimension));
  dst.resizedHeight = static_cast<int>(target.Integer("resizedHeight", 1, kMaxDimension));
  dst.offsetX = static_cast<int>(target.Integer("offsetX", 0, kMaxDimension));
  dst.offsetY = static_cast<int>(target.Integer("offsetY", 0, kMaxDimension));
  dst.padValue = target.Field("padValue").Number();
  dst.scale = target.Field("scale").Number();
  ReadTriple(target, "mean", dst.mean);
  ReadTriple(target, "std", dst.std);

  if (const std::optional<JobProblem> problem = FindJobProblem(parsed.job)) {
    ThrowNativeError(env, problem->subject == JobProblem::Subject::kSource ? ErrorCode::kFrame : ErrorCode::kArgument,
                     problem->message);
  }
  return parsed;
}

// One checked job; the source and destination stay held (alive, unmoved) until it settles.
class PreprocessJobRun final : public PromiseJob {
 public:
  explicit PreprocessJobRun(const ParsedJob& parsed) : job_(parsed.job) {
    Hold(parsed.src);
    Hold(parsed.dst);
  }
  void Execute() override { RunPreprocess(job_); }
  Napi::Value Resolve(Napi::Env env) override { return env.Undefined(); }

 private:
  const PreprocessJob job_;
};

Napi::Value PreprocessSync(const Napi::CallbackInfo& info) {
  const ParsedJob parsed = ParseJob(info);
  RunPreprocess(parsed.job);
  return info.Env().Undefined();
}

Napi::Value PreprocessAsync(const Napi::CallbackInfo& info) {
  // Milliseconds of work: libuv's pool is the right place.
  return QueueOnPool(info.Env(), std::make_unique<PreprocessJobRun>(ParseJob(info)), "int8detect.preprocess");
}

}  // namespace

void InitPreprocess(Napi::Env env, Napi::Object exports) {
  exports.Set("preprocessSync", Napi::Function::New(env, PreprocessSync, "preprocessSync"));
  exports.Set("preprocess", Napi::Function::New(env, PreprocessAsync, "preprocess"));
}

}  // namespace int8detect
