// Per-frame preprocessing kernels: letterbox + bilinear resize + colour conversion + layout +
// normalisation, from a raw frame straight into a model input tensor. Plain C++ with no Node
// dependency, so the kernels can be unit-tested and run under sanitizers on their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace int8detect {

enum class PixelFormat { kRgb, kBgr, kRgba, kBgra, kGray, kNv12, kI420 };
enum class ColorMatrix { kBt601, kBt709 };
enum class ColorRange { kLimited, kFull };
enum class TensorLayout { kNchw, kNhwc };
enum class ChannelOrder { kRgb, kBgr, kGray };
enum class ElementType { kFloat32, kUint8 };

// The source frame as it lies in memory. Byte offsets and strides are relative to `data`.
struct SourceFrame {
  const uint8_t* data = nullptr;
  size_t byteLength = 0;
  int width = 0;
  int height = 0;
  PixelFormat format = PixelFormat::kRgb;
  size_t stride = 0;    // bytes per row of the first plane (luma for NV12/I420)
  size_t uvOffset = 0;  // NV12: interleaved UV plane; I420: U plane
  size_t uvStride = 0;  // bytes per chroma row (both chroma planes for I420)
  size_t vOffset = 0;   // I420: V plane
  ColorMatrix colorMatrix = ColorMatrix::kBt601;
  ColorRange colorRange = ColorRange::kLimited;
};

// The destination tensor and where the resized frame sits inside it.
struct TensorTarget {
  void* data = nullptr;
  size_t elementCount = 0;
  ElementType type = ElementType::kFloat32;
  int width = 0;
  int height = 0;
  TensorLayout layout = TensorLayout::kNchw;
  ChannelOrder channelOrder = ChannelOrder::kRgb;
  int resizedWidth = 0;
  int resizedHeight = 0;
  int offsetX = 0;
  int offsetY = 0;
  // Pixel units (0..255). Float output: (pixel * scale - mean[c]) / std[c]; uint8 ignores these.
  // Kept in double, as JavaScript gives them, so pad values come out exactly as
  // Math.fround((padValue * scale - mean[c]) / std[c]).
  double padValue = 0.0;
  double scale = 1.0;
  double mean[3] = {0.0, 0.0, 0.0};
  double std[3] = {1.0, 1.0, 1.0};
};

struct PreprocessJob {
  SourceFrame src;
  TensorTarget dst;
};

// What is wrong with a job, and whether it is the source frame (the caller's data) or the
// destination and its parameters that are at fault.
struct JobProblem {
  enum class Subject { kSource, kTarget };
  Subject subject;
  std::string message;
};

// Checks every size, offset and value that the kernels rely on, so that a job that passes can
// never read or write out of bounds. The message names the field and the values.
std::optional<JobProblem> FindJobProblem(const PreprocessJob& job);

// Executes a job that FindJobProblem accepted. Deterministic: the same job gives the same bytes
// on any thread. Touches only job.src (read) and job.dst (write).
void RunPreprocess(const PreprocessJob& job);

int OutputChannels(ChannelOrder order);

const char* PixelFormatName(PixelFormat format);

}  // namespace int8detect
