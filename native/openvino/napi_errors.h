// JavaScript errors and option reading for int8_detect_openvino.node. TypeScript validates and fills
// every option; these checks only stop a malformed object from reaching OpenVINO.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

namespace int8detect {
namespace ov_backend {

// An Error whose `code` TypeScript maps onto Int8DetectError codes.
Napi::Error NativeError(Napi::Env env, const std::string& message, const char* code);

// Reads fields of an options object, throwing "Expected X for options.field" on a bad type.
class OptionReader {
 public:
  OptionReader(const Napi::Object& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}
  [[noreturn]] void Throw(const std::string& field, const std::string& expected) const;
  bool Has(const char* field) const;
  std::string String(const char* field) const;
  std::string OptionalString(const char* field) const;  // "" when absent or null
  bool Boolean(const char* field) const;
  int64_t Integer(const char* field, int64_t minimum, int64_t maximum) const;
  Napi::Value Get(const char* field) const { return object_.Get(field); }

 private:
  Napi::Object object_;
  std::string prefix_;
};

}  // namespace ov_backend
}  // namespace int8detect
