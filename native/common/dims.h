// Shapes between native code and JavaScript: dims as plain vectors, as JavaScript arrays, as text.
// Runtime-specific conversions (nvinfer1::Dims, ov::Shape) live beside each runtime and use these.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace int8detect {

// [1, 3, 640, 640] as a JavaScript array of numbers.
Napi::Array DimsToArray(Napi::Env env, const std::vector<int64_t>& dims);
Napi::Array StringsToArray(Napi::Env env, const std::vector<std::string>& values);

// { name, type, dims, data }: one output tensor as the runtimes' run() resolves it, its bytes
// copied once into a new ArrayBuffer.
Napi::Object TensorObject(Napi::Env env, const std::string& name, const std::string& type, const std::vector<int64_t>& dims,
                          const void* data, size_t bytes);

// "[1, 3, 640, 640]", for messages.
std::string DimsText(const std::vector<int64_t>& dims);

// The number of elements of a tensor of these dims; -1 when a dim is negative (dynamic) or the
// product does not fit in int64 (dims from JavaScript are never trusted to be small).
int64_t ElementCount(const std::vector<int64_t>& dims);

}  // namespace int8detect
