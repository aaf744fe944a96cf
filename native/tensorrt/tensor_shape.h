// A tensor shape from JavaScript, read for TensorRT: nvinfer1::Dims holds at most 8 dimensions
// (Dims::MAX_DIMS, checked against this at compile time in trt_dims.h), and a longer list from
// JavaScript would write past its end. No TensorRT header here, so the test-only module reads
// shapes with the same function on machines without TensorRT.
#pragma once
#include <cstdint>
#include <vector>

#include "common/option_reader.h"

namespace int8detect {
namespace trt {

constexpr size_t kMaxTensorRtDims = 8;

// Dims of at most kMaxTensorRtDims non-negative integers; "Expected an array of at most 8 integers
// for inputs[0].dims but received an array of length 9" otherwise.
inline std::vector<int64_t> ReadTensorRtDims(const Received& value) {
  return value.Integers(0, kMaxSafeInteger, kMaxTensorRtDims);
}

}  // namespace trt
}  // namespace int8detect
