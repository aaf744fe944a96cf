#include "openvino/napi_errors.h"

namespace int8detect {
namespace ov_backend {

Napi::Error NativeError(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", code);
  return error;
}

void OptionReader::Throw(const std::string& field, const std::string& expected) const {
  throw NativeError(object_.Env(), "Expected " + expected + " for " + prefix_ + "." + field, "ERR_ARGUMENT");
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

std::string OptionReader::OptionalString(const char* field) const { return Has(field) ? String(field) : std::string(); }

bool OptionReader::Boolean(const char* field) const {
  const Napi::Value value = Get(field);
  if (!value.IsBoolean()) Throw(field, "a boolean");
  return value.As<Napi::Boolean>().Value();
}

int64_t OptionReader::Integer(const char* field, int64_t minimum, int64_t maximum) const {
  const Napi::Value value = Get(field);
  if (!value.IsNumber()) Throw(field, "an integer");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (number != static_cast<double>(static_cast<int64_t>(number)) || number < static_cast<double>(minimum) ||
      number > static_cast<double>(maximum)) {
    Throw(field, "an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum));
  }
  return static_cast<int64_t>(number);
}

}  // namespace ov_backend
}  // namespace int8detect
