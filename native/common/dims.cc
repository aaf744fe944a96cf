#include "common/dims.h"

#include <cstring>
#include <limits>

namespace int8detect {

Napi::Array DimsToArray(Napi::Env env, const std::vector<int64_t>& dims) {
  Napi::Array array = Napi::Array::New(env, dims.size());
  for (uint32_t i = 0; i < dims.size(); i++) array.Set(i, Napi::Number::New(env, static_cast<double>(dims[i])));
  return array;
}

Napi::Array StringsToArray(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); i++) array.Set(i, values[i]);
  return array;
}

Napi::Object TensorObject(Napi::Env env, const std::string& name, const std::string& type, const std::vector<int64_t>& dims,
                          const void* data, size_t bytes) {
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) std::memcpy(buffer.Data(), data, bytes);
  Napi::Object tensor = Napi::Object::New(env);
  tensor.Set("name", name);
  tensor.Set("type", type);
  tensor.Set("dims", DimsToArray(env, dims));
  tensor.Set("data", buffer);
  return tensor;
}

std::string DimsText(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); i++) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

int64_t ElementCount(const std::vector<int64_t>& dims) {
  int64_t count = 1;
  for (const int64_t d : dims) {
    if (d < 0) return -1;
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) return -1;
    count *= d;
  }
  return count;
}

}  // namespace int8detect
