#include "common/option_reader.h"

#include <cmath>

#include "common/describe_value.h"

namespace int8detect {
namespace {

// Limits this large are there to stop overflow, not to describe the value: such a field is
// described by its minimum ("a positive integer"), and only a value above it names the limit.
constexpr int64_t kLargeLimit = 2147483647;

std::string MinimumPhrase(int64_t minimum) {
  if (minimum == 1) return "a positive integer";
  if (minimum == 0) return "a non-negative integer";
  return "an integer of at least " + std::to_string(minimum);
}

bool IsIntegerIn(const Napi::Value& value, int64_t minimum, int64_t maximum) {
  if (!value.IsNumber()) return false;
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number) return false;
  return number >= static_cast<double>(minimum) && number <= static_cast<double>(maximum);
}

}  // namespace

void Received::Reject(const std::string& expected) const {
  ThrowNativeError(value_.Env(), code_, "Expected " + expected + " for " + name_ + " but received " + DescribeValue(value_));
}

std::string Received::String() const {
  if (!value_.IsString()) Reject("a string");
  return value_.As<Napi::String>().Utf8Value();
}

bool Received::Boolean() const {
  if (!value_.IsBoolean()) Reject("a boolean");
  return value_.As<Napi::Boolean>().Value();
}

double Received::Number() const {
  if (!value_.IsNumber() || !std::isfinite(value_.As<Napi::Number>().DoubleValue())) Reject("a finite number");
  return value_.As<Napi::Number>().DoubleValue();
}

int64_t Received::Integer(int64_t minimum, int64_t maximum) const {
  if (maximum < kLargeLimit) {
    if (!IsIntegerIn(value_, minimum, maximum)) {
      Reject("an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum));
    }
  } else if (!IsIntegerIn(value_, minimum, kMaxSafeInteger)) {
    Reject(MinimumPhrase(minimum));
  } else if (!IsIntegerIn(value_, minimum, maximum)) {
    Reject("at most " + std::to_string(maximum));
  }
  return static_cast<int64_t>(value_.As<Napi::Number>().DoubleValue());
}

size_t Received::Choice(const std::vector<const char*>& names) const {
  if (value_.IsString()) {
    const std::string text = value_.As<Napi::String>().Utf8Value();
    for (size_t i = 0; i < names.size(); i++) {
      if (text == names[i]) return i;
    }
  }
  std::string expected = "one of ";
  for (size_t i = 0; i < names.size(); i++) {
    expected += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + std::string("'") + names[i] + "'";
  }
  Reject(expected);
}

Napi::TypedArray Received::TypedArray() const {
  if (!value_.IsTypedArray()) Reject("a typed array");
  return value_.As<Napi::TypedArray>();
}

Napi::Uint8Array Received::Uint8Array() const {
  if (!value_.IsTypedArray() || value_.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) Reject("a Uint8Array");
  return value_.As<Napi::Uint8Array>();
}

Napi::Float32Array Received::Float32Array() const {
  if (!value_.IsTypedArray() || value_.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Reject("a Float32Array");
  }
  return value_.As<Napi::Float32Array>();
}

std::vector<uint8_t> Received::Bytes() const {
  const Napi::Uint8Array array = Uint8Array();
  return std::vector<uint8_t>(array.Data(), array.Data() + array.ElementLength());
}

std::vector<float> Received::Floats() const {
  if (value_.IsTypedArray() && value_.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    const Napi::Float32Array array = value_.As<Napi::Float32Array>();
    return std::vector<float>(array.Data(), array.Data() + array.ElementLength());
  }
  if (!value_.IsArray()) Reject("a Float32Array or an array of numbers");
  const Napi::Array array = value_.As<Napi::Array>();
  std::vector<float> values;
  values.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) values.push_back(static_cast<float>(Element(array, i).Number()));
  return values;
}

std::vector<int64_t> Received::Integers(int64_t minimum, int64_t maximum, size_t maxCount) const {
  const std::string limit = maxCount == std::numeric_limits<size_t>::max() ? "" : "at most " + std::to_string(maxCount) + " ";
  const std::string expected = "an array of " + limit + "integers";
  if (!value_.IsArray()) Reject(expected);
  const Napi::Array array = value_.As<Napi::Array>();
  if (array.Length() > maxCount) Reject(expected);
  std::vector<int64_t> values;
  values.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) values.push_back(Element(array, i).Integer(minimum, maximum));
  return values;
}

std::vector<std::string> Received::Strings() const {
  if (!value_.IsArray()) Reject("an array of strings");
  const Napi::Array array = value_.As<Napi::Array>();
  std::vector<std::string> values;
  values.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) values.push_back(Element(array, i).String());
  return values;
}

Napi::Function Received::Function() const {
  if (!value_.IsFunction()) Reject("a function");
  return value_.As<Napi::Function>();
}

Napi::Array Received::Array() const {
  if (!value_.IsArray()) Reject("an array");
  return value_.As<Napi::Array>();
}

OptionReader Received::Object() const {
  if (!value_.IsObject() || value_.IsArray() || value_.IsFunction()) Reject("an object");
  return OptionReader(value_.As<Napi::Object>(), name_, code_);
}

Received Received::Element(const Napi::Array& array, uint32_t index) const {
  return Received(array.Get(index), name_ + "[" + std::to_string(index) + "]", code_);
}

OptionReader OptionReader::Argument(const Napi::CallbackInfo& info, size_t index, const std::string& expected,
                                    const std::string& path) {
  const Napi::Value value = info[index];
  if (!value.IsObject() || value.IsArray() || value.IsFunction()) {
    ThrowNativeError(info.Env(), ErrorCode::kArgument, "Expected " + expected + " but received " + DescribeValue(value));
  }
  return OptionReader(value.As<Napi::Object>(), path);
}

std::string OptionReader::OptionalString(const char* field) const {
  const Received value = Field(field);
  return value.IsAbsent() ? std::string() : value.String();
}

std::vector<uint8_t> OptionReader::OptionalBytes(const char* field) const {
  const Received value = Field(field);
  return value.IsAbsent() ? std::vector<uint8_t>() : value.Bytes();
}

Napi::Function OptionReader::OptionalFunction(const char* field) const {
  const Received value = Field(field);
  return value.IsAbsent() ? Napi::Function() : value.Function();
}

std::vector<RunInput> ReadRunInputs(const Received& inputs, size_t maxRank) {
  const Napi::Array list = inputs.Array();
  std::vector<RunInput> read;
  read.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    const OptionReader input = inputs.Element(list, i).Object();
    read.push_back(RunInput{input.String("name"), input.Field("dims").Integers(0, kMaxSafeInteger, maxRank), input.Field("data").TypedArray()});
  }
  return read;
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
    case napi_uint32_array:
      return "uint32";
    case napi_bigint64_array:
      return "int64";
    case napi_biguint64_array:
      return "uint64";
    default:
      return "unsupported";
  }
}

}  // namespace int8detect
