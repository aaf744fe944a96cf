#pragma once
// nvinfer1::Dims to and from plain vectors, for the builder (profiles) and the runtime (bindings).
#include <NvInfer.h>

#include "common/dims.h"
#include "tensorrt/tensor_shape.h"

#include <cstdint>
#include <type_traits>
#include <vector>

namespace int8detect {
namespace trt {

// Dims::d is int32_t before TensorRT 10 and int64_t from 10 on.
using DimValue = std::remove_reference_t<decltype(nvinfer1::Dims{}.d[0])>;

inline std::vector<int64_t> FromDims(const nvinfer1::Dims& dims) {
  std::vector<int64_t> values;
  for (int32_t i = 0; i < dims.nbDims; i++) values.push_back(static_cast<int64_t>(dims.d[i]));
  return values;
}

static_assert(nvinfer1::Dims::MAX_DIMS == static_cast<int32_t>(kMaxTensorRtDims),
              "tensor_shape.h must bound shapes from JavaScript at nvinfer1::Dims::MAX_DIMS");

// False (and `dims` untouched) for more dims than nvinfer1::Dims holds: never writes past Dims::d.
inline bool ToDims(const std::vector<int64_t>& values, nvinfer1::Dims* dims) {
  if (values.size() > kMaxTensorRtDims) return false;
  *dims = nvinfer1::Dims{};
  dims->nbDims = static_cast<int32_t>(values.size());
  for (size_t i = 0; i < values.size(); i++) dims->d[i] = static_cast<DimValue>(values[i]);
  return true;
}

}  // namespace trt
}  // namespace int8detect
