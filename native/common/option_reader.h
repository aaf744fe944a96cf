// The one reader of what JavaScript hands native code: an options object's fields, a positional
// argument, an array's elements. Every check that fails throws a NativeError (ERR_ARGUMENT unless
// the reader was given another code) reading "Expected X for Y but received Z", in the words of
// lib/util/errors.ts invalidArgument. TypeScript validates and fills every option first; these checks
// stop a malformed value from reaching a runtime and say which one it was.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/native_error.h"

namespace int8detect {

// The largest integer a JavaScript number holds exactly (Number.MAX_SAFE_INTEGER).
constexpr int64_t kMaxSafeInteger = 9007199254740991;

class OptionReader;

// One received value and the name it goes by in messages: "options.device", "inputs[0].dims", "bins".
class Received {
 public:
  Received(Napi::Value value, std::string name, ErrorCode code = ErrorCode::kArgument)
      : value_(value), name_(std::move(name)), code_(code) {}

  const Napi::Value& value() const { return value_; }
  const std::string& name() const { return name_; }

  // "Expected <expected> for <name> but received <the value>".
  [[noreturn]] void Reject(const std::string& expected) const;

  bool IsAbsent() const { return value_.IsUndefined() || value_.IsNull(); }
  std::string String() const;
  bool Boolean() const;
  double Number() const;  // finite
  // An integer in [minimum, maximum]: "an integer from 1 to 64"; with a limit of 2^31 - 1 or more,
  // "a positive integer" (by the minimum), and "at most <maximum>" only for a value above it.
  int64_t Integer(int64_t minimum, int64_t maximum = kMaxSafeInteger) const;
  // One of `names`, returned as its index.
  size_t Choice(const std::vector<const char*>& names) const;
  Napi::TypedArray TypedArray() const;  // of any element type
  Napi::Uint8Array Uint8Array() const;  // a Buffer is one
  Napi::Float32Array Float32Array() const;
  std::vector<uint8_t> Bytes() const;  // a Uint8Array, copied
  std::vector<float> Floats() const;   // a Float32Array or an array of numbers, copied
  // An array of at most `maxCount` integers, each in [minimum, maximum] (dims: maxCount is a rank limit).
  std::vector<int64_t> Integers(int64_t minimum, int64_t maximum, size_t maxCount = std::numeric_limits<size_t>::max()) const;
  std::vector<std::string> Strings() const;
  Napi::Function Function() const;
  Napi::Array Array() const;
  OptionReader Object() const;  // the value as an object whose fields are named "<name>.<field>"
  Received Element(const Napi::Array& array, uint32_t index) const;  // "<name>[index]"

 private:
  Napi::Value value_;
  std::string name_;
  ErrorCode code_;
};

// The fields of one object, named "<path>.<field>" in messages.
class OptionReader {
 public:
  OptionReader(Napi::Object object, std::string path, ErrorCode code = ErrorCode::kArgument)
      : object_(object), path_(std::move(path)), code_(code) {}

  // info[index] as an object whose fields are named "<path>.<field>"; when it is not one:
  // "Expected <expected> but received 42 (number)", e.g. expected = "an options object for loadModel(options)".
  static OptionReader Argument(const Napi::CallbackInfo& info, size_t index, const std::string& expected,
                               const std::string& path = "options");

  Received Field(const char* field) const { return Received(object_.Get(field), path_ + "." + field, code_); }
  bool Has(const char* field) const { return !Field(field).IsAbsent(); }
  // The same object, its failures carrying another code (ERR_FRAME for a frame's own fields).
  OptionReader WithCode(ErrorCode code) const { return OptionReader(object_, path_, code); }
  const Napi::Object& object() const { return object_; }
  const std::string& path() const { return path_; }

  // Shorthands for the checks bindings use most.
  std::string String(const char* field) const { return Field(field).String(); }
  std::string OptionalString(const char* field) const;  // "" when absent or null
  bool Boolean(const char* field) const { return Field(field).Boolean(); }
  int64_t Integer(const char* field, int64_t minimum, int64_t maximum = kMaxSafeInteger) const {
    return Field(field).Integer(minimum, maximum);
  }
  std::vector<uint8_t> Bytes(const char* field) const { return Field(field).Bytes(); }
  std::vector<uint8_t> OptionalBytes(const char* field) const;  // empty when absent or null
  Napi::Function OptionalFunction(const char* field) const;     // empty when absent or null
  Napi::Array Array(const char* field) const { return Field(field).Array(); }

 private:
  Napi::Object object_;
  std::string path_;
  ErrorCode code_;
};

// Positional argument `index` of a call, named `name` in messages.
inline Received Argument(const Napi::CallbackInfo& info, size_t index, const std::string& name) {
  return Received(info[index], name);
}

// One model input of a run() call: {name, dims, data}, as the TypeScript slot sessions send it.
struct RunInput {
  std::string name;
  std::vector<int64_t> dims;
  Napi::TypedArray data;
};

// Reads run()'s input list; dims are non-negative integers, at most `maxRank` of them.
std::vector<RunInput> ReadRunInputs(const Received& inputs, size_t maxRank = std::numeric_limits<size_t>::max());

// "float32", "uint8", ... for a typed array's elements: the names TypeScript's tensors use.
const char* TypedArrayElementName(napi_typedarray_type type);

}  // namespace int8detect
