// CUDA runtime error text and RAII owners for the few CUDA resources the module holds.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

namespace int8detect {
namespace trt {

// "cudaMalloc failed: out of memory (cudaErrorMemoryAllocation, 2)"; empty when `status` is success.
std::string CudaFailure(cudaError_t status, const char* what);

// CUDA memory that grows on demand and is freed once: device memory (cudaMalloc) or page-locked
// host memory (cudaMallocHost, so copies to and from the GPU run asynchronously at full speed).
enum class MemoryKind { kDevice, kPinnedHost };

template <MemoryKind kKind>
class CudaBuffer {
 public:
  CudaBuffer() = default;
  ~CudaBuffer() { Free(); }
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;
  // Makes room for `bytes`; keeps the old memory when it is large enough. Empty string on success.
  std::string Reserve(size_t bytes);
  void* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  void Free();
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

using DeviceBuffer = CudaBuffer<MemoryKind::kDevice>;
using PinnedBuffer = CudaBuffer<MemoryKind::kPinnedHost>;

template <MemoryKind kKind>
void CudaBuffer<kKind>::Free() {
  if (data_ == nullptr) return;
  if (kKind == MemoryKind::kDevice) cudaFree(data_);
  else cudaFreeHost(data_);
  data_ = nullptr;
  capacity_ = 0;
}

template <MemoryKind kKind>
std::string CudaBuffer<kKind>::Reserve(size_t bytes) {
  if (bytes <= capacity_) return std::string();
  Free();
  const std::string failure = kKind == MemoryKind::kDevice ? CudaFailure(cudaMalloc(&data_, bytes), "cudaMalloc")
                                                          : CudaFailure(cudaMallocHost(&data_, bytes), "cudaMallocHost");
  if (failure.empty()) capacity_ = bytes;
  else data_ = nullptr;
  return failure;
}

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
