// N-API glue for the preprocessing kernels. The job object is read and checked on the main
// thread into a plain PreprocessJob; the worker then only runs the kernels. Errors are JS Errors
// whose message names the field and the values; those about the source frame carry
// code 'ERR_FRAME', the others 'ERR_ARGUMENT', so the TypeScript wrapper can tell them apart.
#include "core/preprocess_binding.h"

#include "core/describe_value.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/preprocess.h"

namespace int8detect {
namespace {

enum class Subject { kSource, kTarget };

[[noreturn]] void ThrowJobError(Napi::Env env, const std::string& message, Subject subject) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", subject == Subject::kSource ? "ERR_FRAME" : "ERR_ARGUMENT");
  throw error;
}


[[noreturn]] void ThrowExpected(Napi::Env env, const char* expected, const char* field, const Napi::Value& value,
                                Subject subject) {
  ThrowJobError(env, std::string("Expected ") + expected + " for job." + field + " but received " + DescribeValue(value), subject);
}

// Reads the fields of the job object with the checks each kind of field needs.
class JobReader {
 public:
  explicit JobReader(const Napi::Object& job) : env_(job.Env()), job_(job) {}

  // An integer in [minimum, maximum]; maximum defaults to the largest exactly representable one.
  double Integer(const char* field, double minimum, Subject subject, double maximum = 9007199254740991.0) {
    const Napi::Value value = job_.Get(field);
    const char* expected = minimum > 0 ? "a positive integer" : "a non-negative integer";
    if (!value.IsNumber()) ThrowExpected(env_, expected, field, value, subject);
    const double v = value.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(v) || std::floor(v) != v || v < minimum) ThrowExpected(env_, expected, field, value, subject);
    if (v > maximum) {
      ThrowJobError(env_, "Expected at most " + Napi::Number::New(env_, maximum).ToString().Utf8Value() + " for job." +
                              field + " but received " + DescribeValue(value), subject);
    }
    return v;
  }

  int Dimension(const char* field, double minimum, Subject subject) {
    return static_cast<int>(Integer(field, minimum, subject, std::numeric_limits<int>::max()));
  }

  size_t ByteCount(const char* field, Subject subject) { return static_cast<size_t>(Integer(field, 0, subject)); }

  double Finite(const Napi::Value& value, const char* field) {
    if (!value.IsNumber() || !std::isfinite(value.As<Napi::Number>().DoubleValue())) {
      ThrowExpected(env_, "a finite number", field, value, Subject::kTarget);
    }
    return value.As<Napi::Number>().DoubleValue();
  }

  double Finite(const char* field) { return Finite(job_.Get(field), field); }

  void Triple(const char* field, double out[3]) {
    const Napi::Value value = job_.Get(field);
    if (!value.IsArray() || value.As<Napi::Array>().Length() != 3) {
      ThrowExpected(env_, "an array of 3 numbers", field, value, Subject::kTarget);
    }
    const Napi::Array array = value.As<Napi::Array>();
    for (uint32_t i = 0; i < 3; ++i) {
      const std::string element = std::string(field) + "[" + std::to_string(i) + "]";
      out[i] = Finite(array.Get(i), element.c_str());
    }
  }

  // One of `names`; returns its index.
  template <size_t N>
  size_t Choice(const char* field, const char* const (&names)[N], Subject subject) {
    const Napi::Value value = job_.Get(field);
    if (value.IsString()) {
      const std::string s = value.As<Napi::String>().Utf8Value();
      for (size_t i = 0; i < N; ++i) {
        if (s == names[i]) return i;
      }
    }
    std::string expected = "one of ";
    for (size_t i = 0; i < N; ++i) expected += std::string(i == 0 ? "'" : ", '") + names[i] + "'";
    ThrowExpected(env_, expected.c_str(), field, value, subject);
  }

  Napi::Value Get(const char* field) const { return job_.Get(field); }
  Napi::Env Env() const { return env_; }

 private:
  Napi::Env env_;
  Napi::Object job_;
};

// The job's fields, read and checked, and the two buffers to keep alive while it runs.
struct ParsedJob {
  PreprocessJob job;
  Napi::Object src;
  Napi::Object dst;
};

ParsedJob ParseJob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    ThrowJobError(env, "Expected a preprocessing job object but received " + DescribeValue(info[0]), Subject::kTarget);
  }
  JobReader reader(info[0].As<Napi::Object>());
  ParsedJob parsed;
  SourceFrame& src = parsed.job.src;
  TensorTarget& dst = parsed.job.dst;

  const Napi::Value srcValue = reader.Get("src");
  if (!srcValue.IsTypedArray() || srcValue.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowExpected(env, "a Buffer or Uint8Array", "src", srcValue, Subject::kSource);
  }
  const Napi::Uint8Array srcArray = srcValue.As<Napi::Uint8Array>();
  src.data = srcArray.Data();
  src.byteLength = srcArray.ByteLength();
  parsed.src = srcArray;

  static const char* const kFormats[] = {"rgb", "bgr", "rgba", "bgra", "gray", "nv12", "i420"};
  static const PixelFormat kFormatValues[] = {PixelFormat::kRgb,  PixelFormat::kBgr,  PixelFormat::kRgba, PixelFormat::kBgra,
                                              PixelFormat::kGray, PixelFormat::kNv12, PixelFormat::kI420};
  src.format = kFormatValues[reader.Choice("format", kFormats, Subject::kSource)];
  src.width = reader.Dimension("width", 1, Subject::kSource);
  src.height = reader.Dimension("height", 1, Subject::kSource);
  src.stride = reader.ByteCount("stride", Subject::kSource);
  src.uvOffset = reader.ByteCount("uvOffset", Subject::kSource);
  src.uvStride = reader.ByteCount("uvStride", Subject::kSource);
  src.vOffset = reader.ByteCount("vOffset", Subject::kSource);
  static const char* const kMatrices[] = {"bt601", "bt709"};
  src.colorMatrix = reader.Choice("colorMatrix", kMatrices, Subject::kSource) == 0 ? ColorMatrix::kBt601 : ColorMatrix::kBt709;
  static const char* const kRanges[] = {"limited", "full"};
  src.colorRange = reader.Choice("colorRange", kRanges, Subject::kSource) == 0 ? ColorRange::kLimited : ColorRange::kFull;

  const Napi::Value dstValue = reader.Get("dst");
  const napi_typedarray_type dstType =
      dstValue.IsTypedArray() ? dstValue.As<Napi::TypedArray>().TypedArrayType() : napi_int8_array;
  if (dstType == napi_float32_array) {
    Napi::Float32Array array = dstValue.As<Napi::Float32Array>();
    dst.data = array.Data();
    dst.elementCount = array.ElementLength();
    dst.type = ElementType::kFloat32;
  } else if (dstType == napi_uint8_array) {
    Napi::Uint8Array array = dstValue.As<Napi::Uint8Array>();
    dst.data = array.Data();
    dst.elementCount = array.ElementLength();
    dst.type = ElementType::kUint8;
  } else {
    ThrowExpected(env, "a Float32Array or Uint8Array", "dst", dstValue, Subject::kTarget);
  }
  parsed.dst = dstValue.As<Napi::Object>();

  dst.width = reader.Dimension("dstWidth", 1, Subject::kTarget);
  dst.height = reader.Dimension("dstHeight", 1, Subject::kTarget);
  static const char* const kLayouts[] = {"nchw", "nhwc"};
  dst.layout = reader.Choice("layout", kLayouts, Subject::kTarget) == 0 ? TensorLayout::kNchw : TensorLayout::kNhwc;
  static const char* const kOrders[] = {"rgb", "bgr", "gray"};
  static const ChannelOrder kOrderValues[] = {ChannelOrder::kRgb, ChannelOrder::kBgr, ChannelOrder::kGray};
  dst.channelOrder = kOrderValues[reader.Choice("channelOrder", kOrders, Subject::kTarget)];
  dst.resizedWidth = reader.Dimension("resizedWidth", 1, Subject::kTarget);
  dst.resizedHeight = reader.Dimension("resizedHeight", 1, Subject::kTarget);
  dst.offsetX = reader.Dimension("offsetX", 0, Subject::kTarget);
  dst.offsetY = reader.Dimension("offsetY", 0, Subject::kTarget);
  dst.padValue = reader.Finite("padValue");
  dst.scale = reader.Finite("scale");
  reader.Triple("mean", dst.mean);
  reader.Triple("std", dst.std);

  if (const std::optional<JobProblem> problem = FindJobProblem(parsed.job)) {
    ThrowJobError(env, problem->message,
                  problem->subject == JobProblem::Subject::kSource ? Subject::kSource : Subject::kTarget);
  }
  return parsed;
}

// Runs one checked job off the main thread. The references keep the source and destination
// alive (and their memory in place) until the promise settles; Execute never touches JS.
class PreprocessWorker : public Napi::AsyncWorker {
 public:
  PreprocessWorker(Napi::Env env, const ParsedJob& parsed)
      : Napi::AsyncWorker(env, "int8detect.preprocess"),
        job_(parsed.job),
        deferred_(Napi::Promise::Deferred::New(env)),
        src_(Napi::Persistent(parsed.src)),
        dst_(Napi::Persistent(parsed.dst)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { RunPreprocess(job_); }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  const PreprocessJob job_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference src_;
  Napi::ObjectReference dst_;
};

Napi::Value PreprocessSync(const Napi::CallbackInfo& info) {
  const ParsedJob parsed = ParseJob(info);
  RunPreprocess(parsed.job);
  return info.Env().Undefined();
}

Napi::Value PreprocessAsync(const Napi::CallbackInfo& info) {
  const ParsedJob parsed = ParseJob(info);
  // The worker deletes itself after OnOK/OnError, on the main thread.
  auto* worker = new PreprocessWorker(info.Env(), parsed);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitPreprocess(Napi::Env env, Napi::Object exports) {
  exports.Set("preprocessSync", Napi::Function::New(env, PreprocessSync, "preprocessSync"));
  exports.Set("preprocess", Napi::Function::New(env, PreprocessAsync, "preprocess"));
}

}  // namespace int8detect
