#include "tensorrt/cuda_util.h"

namespace int8detect {
namespace trt {

std::string CudaFailure(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return std::string();
  const char* name = cudaGetErrorName(status);
  const char* text = cudaGetErrorString(status);
  return std::string(what) + " failed: " + (text ? text : "unknown error") + " (" + (name ? name : "cudaError") + ", " +
         std::to_string(static_cast<int>(status)) + ")";
}

CudaStream::~CudaStream() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

std::string CudaStream::Create() {
  if (stream_ != nullptr) return std::string();
  return CudaFailure(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
}

}  // namespace trt
}  // namespace int8detect
