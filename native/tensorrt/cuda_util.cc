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

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) cudaFree(data_);
}

std::string DeviceBuffer::Reserve(size_t bytes) {
  if (bytes <= capacity_) return std::string();
  if (data_ != nullptr) cudaFree(data_);
  data_ = nullptr;
  capacity_ = 0;
  const std::string failure = CudaFailure(cudaMalloc(&data_, bytes), "cudaMalloc");
  if (failure.empty()) capacity_ = bytes;
  else data_ = nullptr;
  return failure;
}

PinnedBuffer::~PinnedBuffer() {
  if (data_ != nullptr) cudaFreeHost(data_);
}

std::string PinnedBuffer::Reserve(size_t bytes) {
  if (bytes <= capacity_) return std::string();
  if (data_ != nullptr) cudaFreeHost(data_);
  data_ = nullptr;
  capacity_ = 0;
  const std::string failure = CudaFailure(cudaMallocHost(&data_, bytes), "cudaMallocHost");
  if (failure.empty()) capacity_ = bytes;
  else data_ = nullptr;
  return failure;
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
