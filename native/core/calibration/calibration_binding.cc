#include "core/calibration/calibration_binding.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/calibration/histogram.h"
#include "core/calibration/qparams.h"
#include "core/calibration/ranges.h"
#include "core/calibration/weights.h"

namespace int8detect {
namespace {

using calibration::ActivationMode;
using calibration::Histogram;
using calibration::Range;

// Marks objects made by this class, so merge() can tell one from any other wrapped object.
constexpr napi_type_tag kHistogramTag = {0x6d1f3a8b2c4e4f10ULL, 0x9a7c5e3b1d2f4a68ULL};

[[noreturn]] void ThrowArgument(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::TypeError::New(env, message);
  error.Set("code", "ERR_ARGUMENT");
  throw error;
}

double NumberArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber()) ThrowArgument(info.Env(), std::string("Expected a number for ") + name);
  const double value = info[index].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(value)) ThrowArgument(info.Env(), std::string("Expected a finite number for ") + name);
  return value;
}

bool BooleanArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsBoolean()) ThrowArgument(info.Env(), std::string("Expected a boolean for ") + name);
  return info[index].As<Napi::Boolean>().Value();
}

Napi::Float32Array Float32Argument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowArgument(info.Env(), std::string("Expected a Float32Array for ") + name);
  }
  return info[index].As<Napi::Float32Array>();
}

size_t BinsArgument(const Napi::CallbackInfo& info) {
  const double bins = NumberArgument(info, 0, "bins");
  if (bins < 2 || bins > (1 << 24) || std::floor(bins) != bins) ThrowArgument(info.Env(), "Expected an integer in [2, 16777216] for bins");
  return static_cast<size_t>(bins);
}

Napi::Object RangeObject(Napi::Env env, const Range& range) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("min", range.lo);
  object.Set("max", range.hi);
  return object;
}

class HistogramWrap : public Napi::ObjectWrap<HistogramWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Histogram",
                       {
                           InstanceMethod<&HistogramWrap::Add>("add"),
                           InstanceMethod<&HistogramWrap::Merge>("merge"),
                           InstanceMethod<&HistogramWrap::MinMax>("rangeMinMax"),
                           InstanceMethod<&HistogramWrap::Percentile>("rangePercentile"),
                           InstanceMethod<&HistogramWrap::Entropy>("rangeEntropy"),
                           InstanceMethod<&HistogramWrap::Error>("quantizationError"),
                           InstanceMethod<&HistogramWrap::Bins>("histogram"),
                           InstanceAccessor<&HistogramWrap::Count>("count"),
                           InstanceAccessor<&HistogramWrap::Min>("min"),
                           InstanceAccessor<&HistogramWrap::Max>("max"),
                       });
  }

  explicit HistogramWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<HistogramWrap>(info), histogram_(BinsArgument(info)) {
    info.This().As<Napi::Object>().TypeTag(&kHistogramTag);
  }

 private:
  // Returns how many values were NaN or infinite; when not 0, nothing was counted.
  Napi::Value Add(const Napi::CallbackInfo& info) {
    const Napi::Float32Array values = Float32Argument(info, 0, "values");
    return Napi::Number::New(info.Env(), static_cast<double>(histogram_.Add(values.Data(), values.ElementLength())));
  }

  Napi::Value Merge(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().CheckTypeTag(&kHistogramTag)) {
      ThrowArgument(info.Env(), "Expected a native Histogram for other");
    }
    const HistogramWrap* other = Unwrap(info[0].As<Napi::Object>());
    if (other->histogram_.bins() != histogram_.bins()) ThrowArgument(info.Env(), "Expected a Histogram with as many bins");
    if (other != this) {
      histogram_.Merge(other->histogram_);
    } else {
      const Histogram copy = histogram_;
      histogram_.Merge(copy);
    }
    return info.Env().Undefined();
  }

  void RequireValues(Napi::Env env) const {
    if (histogram_.count() == 0) ThrowArgument(env, "The histogram has no values yet");
  }

  Napi::Value MinMax(const Napi::CallbackInfo& info) {
    RequireValues(info.Env());
    return RangeObject(info.Env(), calibration::MinMaxRange(histogram_, BooleanArgument(info, 0, "symmetric")));
  }

  Napi::Value Percentile(const Napi::CallbackInfo& info) {
    RequireValues(info.Env());
    const double percentile = NumberArgument(info, 0, "percentile");
    if (!(percentile > 0 && percentile <= 100)) ThrowArgument(info.Env(), "Expected a percentile in (0, 100]");
    return RangeObject(info.Env(),
                       calibration::PercentileRange(histogram_, percentile, BooleanArgument(info, 1, "symmetric")));
  }

  Napi::Value Entropy(const Napi::CallbackInfo& info) {
    RequireValues(info.Env());
    return RangeObject(info.Env(), calibration::EntropyRange(histogram_, BooleanArgument(info, 0, "symmetric")));
  }

  Napi::Value Error(const Napi::CallbackInfo& info) {
    RequireValues(info.Env());
    const Range range{NumberArgument(info, 0, "min"), NumberArgument(info, 1, "max")};
    const ActivationMode mode =
        BooleanArgument(info, 2, "symmetric") ? ActivationMode::kInt8Symmetric : ActivationMode::kUint8Asymmetric;
    return Napi::Number::New(info.Env(), calibration::QuantizationError(histogram_, range, mode));
  }

  Napi::Value Bins(const Napi::CallbackInfo& info) {
    RequireValues(info.Env());
    const std::vector<uint64_t>& counts = histogram_.counts();
    Napi::Float64Array array = Napi::Float64Array::New(info.Env(), counts.size());
    for (size_t i = 0; i < counts.size(); ++i) array[i] = static_cast<double>(counts[i]);
    Napi::Object object = Napi::Object::New(info.Env());
    object.Set("start", histogram_.start());
    object.Set("binWidth", histogram_.width());
    object.Set("counts", array);
    return object;
  }

  Napi::Value Count(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(histogram_.count()));
  }
  Napi::Value Min(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), histogram_.count() == 0 ? NAN : histogram_.min());
  }
  Napi::Value Max(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), histogram_.count() == 0 ? NAN : histogram_.max());
  }

  Histogram histogram_;
};

// (weights: Float32Array, dims: number[], axis: number) -> the layout, or a thrown ERR_ARGUMENT.
calibration::ChannelLayout LayoutArguments(const Napi::CallbackInfo& info, const Napi::Float32Array& weights) {
  if (info.Length() < 2 || !info[1].IsArray()) ThrowArgument(info.Env(), "Expected an array of dimensions for dims");
  const Napi::Array dimsArray = info[1].As<Napi::Array>();
  std::vector<int64_t> dims;
  for (uint32_t i = 0; i < dimsArray.Length(); ++i) {
    const Napi::Value d = dimsArray.Get(i);
    if (!d.IsNumber()) ThrowArgument(info.Env(), "Expected non-negative integers in dims");
    const double v = d.As<Napi::Number>().DoubleValue();
    if (!(v >= 0 && v <= 9007199254740991.0) || std::floor(v) != v) ThrowArgument(info.Env(), "Expected non-negative integers in dims");
    dims.push_back(static_cast<int64_t>(v));
  }
  const double axis = NumberArgument(info, 2, "axis");
  if (axis < 0 || std::floor(axis) != axis) ThrowArgument(info.Env(), "Expected a non-negative integer for axis");
  try {
    return calibration::LayoutFor(dims, static_cast<size_t>(axis), weights.ElementLength());
  } catch (const std::invalid_argument& e) {
    ThrowArgument(info.Env(), e.what());
  }
}

void ThrowNonFinite(Napi::Env env, size_t count) {
  Napi::Error error = Napi::Error::New(env, std::to_string(count) + " weights are NaN or infinite");
  error.Set("code", "ERR_ARGUMENT");
  error.Set("nonFinite", static_cast<double>(count));
  throw error;
}

Napi::Value PerChannelScales(const Napi::CallbackInfo& info) {
  const Napi::Float32Array weights = Float32Argument(info, 0, "weights");
  const calibration::ChannelLayout layout = LayoutArguments(info, weights);
  Napi::Float32Array scales = Napi::Float32Array::New(info.Env(), layout.channels);
  const size_t bad = calibration::PerChannelScales(weights.Data(), layout, scales.Data());
  if (bad != 0) ThrowNonFinite(info.Env(), bad);
  return scales;
}

Napi::Value QuantizePerChannel(const Napi::CallbackInfo& info) {
  const Napi::Float32Array weights = Float32Argument(info, 0, "weights");
  const calibration::ChannelLayout layout = LayoutArguments(info, weights);
  const Napi::Float32Array scales = Float32Argument(info, 3, "scales");
  if (scales.ElementLength() != layout.channels) ThrowArgument(info.Env(), "Expected one scale per channel");
  for (size_t c = 0; c < layout.channels; ++c) {
    if (!(scales[c] > 0) || !std::isfinite(scales[c])) ThrowArgument(info.Env(), "Expected positive finite scales");
  }
  Napi::Int8Array out = Napi::Int8Array::New(info.Env(), weights.ElementLength());
  const size_t bad = calibration::QuantizePerChannel(weights.Data(), layout, scales.Data(), out.Data());
  if (bad != 0) ThrowNonFinite(info.Env(), bad);
  return out;
}

}  // namespace

void InitCalibration(Napi::Env env, Napi::Object exports) {
  exports.Set("Histogram", HistogramWrap::Define(env));
  exports.Set("perChannelScales", Napi::Function::New(env, PerChannelScales, "perChannelScales"));
  exports.Set("quantizePerChannel", Napi::Function::New(env, QuantizePerChannel, "quantizePerChannel"));
}

}  // namespace int8detect
