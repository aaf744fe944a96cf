// CUDA runtime error text and RAII owners for the few CUDA resources the module holds.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

namespace int8detect {
namespace trt {

// "cudaMalloc failed: out of memory (cudaErrorMemoryAllocation, 2)"; empty when `status` is success.
std::string CudaFailure(cudaError_t status, const char* what);

// Device memory that grows on demand and is freed once.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  // Makes room for `bytes`; keeps the old memory when it is large enough. Empty string on success.
  std::string Reserve(size_t bytes);
  void* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

// Page-locked host memory, so copies to and from the GPU run asynchronously at full speed.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  std::string Reserve(size_t bytes);
  void* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

class CudaStream {
 public:
  CudaStream() = default;
  ~CudaStream();
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  std::string Create();
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

}  // namespace trt
}  // namespace int8detect
