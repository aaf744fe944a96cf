#include "core/calibration/calibration_binding.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/option_reader.h"
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

size_t BinsArgument(const Napi::CallbackInfo& info) {
  return static_cast<size_t>(Argument(info, 0, "bins").Integer(2, 1 << 24));
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
    const Napi::Float32Array values = Argument(info, 0, "values").Float32Array();
    return Napi::Number::New(info.Env(), static_cast<double>(histogram_.Add(values.Data(), values.ElementLength())));
  }

  Napi::Value Merge(const Napi::CallbackInfo& info) {
    const Received otherValue = Argument(info, 0, "other");
    if (!otherValue.value().IsObject() || !otherValue.value().As<Napi::Object>().CheckTypeTag(&kHistogramTag)) {
      otherValue.Reject("a native Histogram");
    }
    const HistogramWrap* other = Unwrap(otherValue.value().As<Napi::Object>());
    if (other->histogram_.bins() != histogram_.bins()) {
      otherValue.Reject("a Histogram of " + std::to_string(histogram_.bins()) + " bins");
    }
    if (other != this) {
      histogram_.Merge(other->histogram_);
    } else {
      const Histogram copy = histogram_;
      histogram_.Merge(copy);
    }
    return info.Env().Undefined();
  }

  void RequireValues(Napi::Env env) const {
    if (histogram_.count() == 0) ThrowNativeError(env, ErrorCode::kArgument, "The histogram has no values yet");
  }

  Napi::Value MinMax(const Napi::CallbackInfo& info) {
    RequireValues(info.Env());
    return RangeObject(info.Env(), calibration::MinMaxRange(histogram_, Argument(info, 0, "symmetric").Boolean()));
  }

  Napi::Value Percentile(const Napi::CallbackInfo& info) {
    RequireValues(info.Env());
    const Received percentileValue = Argument(info, 0, "percentile");
    const double percentile = percentileValue.Number();
    if (!(percentile > 0 && percentile <= 100)) percentileValue.Reject("a percentile in (0, 100]");
    return RangeObject(info.Env(),
                       calibration::PercentileRange(histogram_, percentile, Argument(info, 1, "symmetric").Boolean()));
  }

  Napi::Value Entropy(const Napi::CallbackInfo& info) {
    RequireValues(info.Env());
    return RangeObject(info.Env(), calibration::EntropyRange(histogram_, Argument(info, 0, "symmetric").Boolean()));
  }

  Napi::Value Error(const Napi::CallbackInfo& info) {
    RequireValues(info.Env());
    const Range range{Argument(info, 0, "min").Number(), Argument(info, 1, "max").Number()};
    const ActivationMode mode =
        Argument(info, 2, "symmetric").Boolean() ? ActivationMode::kInt8Symmetric : ActivationMode::kUint8Asymmetric;
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
  const std::vector<int64_t> dims = Argument(info, 1, "dims").Integers(0, kMaxSafeInteger);
  const auto axis = static_cast<size_t>(Argument(info, 2, "axis").Integer(0));
  try {
    return calibration::LayoutFor(dims, axis, weights.ElementLength());
  } catch (const std::invalid_argument& e) {
    ThrowNativeError(info.Env(), ErrorCode::kArgument, e.what());
  }
}

void ThrowNonFinite(Napi::Env env, size_t count) {
  Napi::Error error = NativeError(env, ErrorCode::kArgument, std::to_string(count) + " weights are NaN or infinite");
  error.Set("nonFinite", static_cast<double>(count));
  throw error;
}

Napi::Value PerChannelScales(const Napi::CallbackInfo& info) {
  const Napi::Float32Array weights = Argument(info, 0, "weights").Float32Array();
  const calibration::ChannelLayout layout = LayoutArguments(info, weights);
  Napi::Float32Array scales = Napi::Float32Array::New(info.Env(), layout.channels);
  const size_t bad = calibration::PerChannelScales(weights.Data(), layout, scales.Data());
  if (bad != 0) ThrowNonFinite(info.Env(), bad);
  return scales;
}

Napi::Value QuantizePerChannel(const Napi::CallbackInfo& info) {
  const Napi::Float32Array weights = Argument(info, 0, "weights").Float32Array();
  const calibration::ChannelLayout layout = LayoutArguments(info, weights);
  const Napi::Float32Array scales = Argument(info, 3, "scales").Float32Array();
  if (scales.ElementLength() != layout.channels) {
    Argument(info, 3, "scales").Reject("a Float32Array of " + std::to_string(layout.channels) + " scales (one per channel)");
  }
  for (size_t c = 0; c < layout.channels; ++c) {
    if (!(scales[c] > 0) || !std::isfinite(scales[c])) {
      Received(Napi::Number::New(info.Env(), scales[c]), "scales[" + std::to_string(c) + "]").Reject("a positive finite scale");
    }
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
