// Reads the complete options objects TypeScript hands the TensorRT module. TypeScript validates
// and fills every field; these checks only stop a malformed object from reaching TensorRT.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace int8detect {
namespace trt {

class OptionReader {
 public:
  OptionReader(const Napi::Object& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

  [[noreturn]] void Throw(const std::string& field, const std::string& expected) const;
  bool Has(const char* field) const;
  std::string String(const char* field) const;
  bool Boolean(const char* field) const;
  int64_t Integer(const char* field, int64_t minimum, int64_t maximum) const;
  std::vector<uint8_t> Bytes(const char* field, bool optional) const;
  std::vector<int64_t> IntegerList(const char* field) const;
  Napi::Function Function(const char* field) const;  // empty when null or absent
  Napi::Array Array(const char* field) const;
  Napi::Object Object(const char* field) const;

 private:
  Napi::Value Get(const char* field) const { return object_.Get(field); }
  Napi::Object object_;
  std::string prefix_;
};

}  // namespace trt
}  // namespace int8detect
