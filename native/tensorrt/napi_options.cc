#include "tensorrt/napi_options.h"

#include <cmath>

namespace int8detect {
namespace trt {

void OptionReader::Throw(const std::string& field, const std::string& expected) const {
  Napi::Error error = Napi::TypeError::New(object_.Env(), "Expected " + expected + " for " + prefix_ + "." + field);
  error.Set("code", "ERR_ARGUMENT");
  throw error;
}

bool OptionReader::Has(const char* field) const {
  const Napi::Value value = Get(field);
  return !value.IsUndefined() && !value.IsNull();
}

std::string OptionReader::String(const char* field) const {
  const Napi::Value value = Get(field);
  if (!value.IsString()) Throw(field, "a string");
  return value.As<Napi::String>().Utf8Value();
}

bool OptionReader::Boolean(const char* field) const {
  const Napi::Value value = Get(field);
  if (!value.IsBoolean()) Throw(field, "a boolean");
  return value.As<Napi::Boolean>().Value();
}

int64_t OptionReader::Integer(const char* field, int64_t minimum, int64_t maximum) const {
  const Napi::Value value = Get(field);
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(minimum) ||
      number > static_cast<double>(maximum)) {
    Throw(field, "an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum));
  }
  return static_cast<int64_t>(number);
}

std::vector<uint8_t> OptionReader::Bytes(const char* field, bool optional) const {
  const Napi::Value value = Get(field);
  if (optional && (value.IsNull() || value.IsUndefined())) return {};
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Throw(field, optional ? "a Uint8Array or null" : "a Uint8Array");
  }
  const Napi::Uint8Array array = value.As<Napi::Uint8Array>();
  return std::vector<uint8_t>(array.Data(), array.Data() + array.ElementLength());
}

std::vector<int64_t> OptionReader::IntegerList(const char* field) const {
  const Napi::Value value = Get(field);
  if (!value.IsArray()) Throw(field, "an array of integers");
  const Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> list;
  for (uint32_t i = 0; i < array.Length(); i++) {
    const Napi::Value item = array.Get(i);
    const double number = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(number) || std::floor(number) != number) Throw(field, "an array of integers");
    list.push_back(static_cast<int64_t>(number));
  }
  return list;
}

Napi::Function OptionReader::Function(const char* field) const {
  const Napi::Value value = Get(field);
  if (value.IsNull() || value.IsUndefined()) return Napi::Function();
  if (!value.IsFunction()) Throw(field, "a function or null");
  return value.As<Napi::Function>();
}

Napi::Array OptionReader::Array(const char* field) const {
  const Napi::Value value = Get(field);
  if (!value.IsArray()) Throw(field, "an array");
  return value.As<Napi::Array>();
}

Napi::Object OptionReader::Object(const char* field) const {
  const Napi::Value value = Get(field);
  if (!value.IsObject()) Throw(field, "an object");
  return value.As<Napi::Object>();
}

}  // namespace trt
}  // namespace int8detect
