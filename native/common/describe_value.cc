#include "common/describe_value.h"

namespace int8detect {

std::string DescribeValue(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsString()) {
    const std::string s = value.As<Napi::String>().Utf8Value();
    return "\"" + (s.size() > 60 ? s.substr(0, 57) + "..." : s) + "\" (string)";
  }
  if (value.IsNumber()) return value.ToString().Utf8Value() + " (number)";
  if (value.IsBoolean()) return value.ToString().Utf8Value() + " (boolean)";
  if (value.IsTypedArray()) {
    static const char* const kNames[] = {"Int8Array",    "Uint8Array",    "Uint8ClampedArray", "Int16Array",
                                         "Uint16Array",  "Int32Array",    "Uint32Array",       "Float32Array",
                                         "Float64Array", "BigInt64Array", "BigUint64Array"};
    const Napi::TypedArray array = value.As<Napi::TypedArray>();
    const int type = static_cast<int>(array.TypedArrayType());
    const char* name = type >= 0 && type < 11 ? kNames[type] : "TypedArray";
    return std::string(name) + " of " + std::to_string(array.ElementLength()) + " elements";
  }
  if (value.IsArray()) return "an array of length " + std::to_string(value.As<Napi::Array>().Length());
  if (value.IsFunction()) return "a function";
  return "an object";
}

}  // namespace int8detect
