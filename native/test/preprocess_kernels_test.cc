// Standalone test of the preprocessing kernels, meant to run under AddressSanitizer and
// UndefinedBehaviorSanitizer (scripts/asan-preprocess.sh). Every source buffer is allocated at
// exactly the size the validation requires, so a kernel reading one byte too far is reported.
// Exact values are the TypeScript suite's job (test/preprocess.test.ts); here: uniform frames
// give their colour, pads are exact, and the validation draws the line at the right byte.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/preprocess.h"

using namespace int8detect;

namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  }
}

const PixelFormat kFormats[] = {PixelFormat::kRgb,  PixelFormat::kBgr,  PixelFormat::kRgba, PixelFormat::kBgra,
                                PixelFormat::kGray, PixelFormat::kNv12, PixelFormat::kI420};

bool IsYuv(PixelFormat f) { return f == PixelFormat::kNv12 || f == PixelFormat::kI420; }

int BytesPerPixel(PixelFormat f) {
  switch (f) {
    case PixelFormat::kRgba:
    case PixelFormat::kBgra: return 4;
    case PixelFormat::kRgb:
    case PixelFormat::kBgr: return 3;
    default: return 1;
  }
}

// A uniform frame of one colour, laid out with padded strides, in a buffer of exactly the
// required size. YUV frames use full-range BT.601 codes (Y, U, V) = (128, 128, 128): mid grey.
struct Frame {
  std::vector<uint8_t> bytes;
  SourceFrame src;
};

Frame UniformFrame(PixelFormat format, int width, int height, int padding, const uint8_t rgb[3]) {
  Frame frame;
  SourceFrame& s = frame.src;
  s.width = width;
  s.height = height;
  s.format = format;
  s.colorMatrix = ColorMatrix::kBt601;
  s.colorRange = ColorRange::kFull;
  const size_t w = static_cast<size_t>(width);
  const size_t h = static_cast<size_t>(height);
  if (IsYuv(format)) {
    s.stride = w + static_cast<size_t>(padding);
    const size_t chromaRow = format == PixelFormat::kNv12 ? w : w / 2;
    s.uvStride = chromaRow + static_cast<size_t>(padding);
    s.uvOffset = s.stride * h;
    s.vOffset = format == PixelFormat::kI420 ? s.uvOffset + s.uvStride * (h / 2) : s.uvOffset;
    const size_t end = (format == PixelFormat::kI420 ? s.vOffset : s.uvOffset) + s.uvStride * (h / 2 - 1) + chromaRow;
    frame.bytes.assign(end, 128);
  } else {
    const size_t bpp = static_cast<size_t>(BytesPerPixel(format));
    s.stride = w * bpp + static_cast<size_t>(padding);
    frame.bytes.assign(s.stride * (h - 1) + w * bpp, 0);
    const bool swap = format == PixelFormat::kBgr || format == PixelFormat::kBgra;
    for (size_t y = 0; y < h; ++y) {
      for (size_t x = 0; x < w; ++x) {
        uint8_t* p = frame.bytes.data() + y * s.stride + x * bpp;
        if (format == PixelFormat::kGray) {
          p[0] = rgb[0];
          continue;
        }
        p[0] = swap ? rgb[2] : rgb[0];
        p[1] = rgb[1];
        p[2] = swap ? rgb[0] : rgb[2];
        if (bpp == 4) p[3] = static_cast<uint8_t>(x * 31 + y);
      }
    }
  }
  s.data = frame.bytes.data();
  s.byteLength = frame.bytes.size();
  return frame;
}

// The pixel values every output channel should hold for a uniform frame.
void ExpectedChannels(PixelFormat format, ChannelOrder order, const uint8_t rgb[3], double out[3]) {
  double r = rgb[0], g = rgb[1], b = rgb[2];
  if (IsYuv(format)) r = g = b = 128.0;
  if (format == PixelFormat::kGray) g = b = r;
  if (order == ChannelOrder::kGray) {
    out[0] = format == PixelFormat::kGray ? r : 0.299 * r + 0.587 * g + 0.114 * b;
  } else if (order == ChannelOrder::kBgr) {
    out[0] = b;
    out[1] = g;
    out[2] = r;
  } else {
    out[0] = r;
    out[1] = g;
    out[2] = b;
  }
}

template <typename T>
void RunUniformCase(PixelFormat format, int w, int h, int padding, ChannelOrder order, TensorLayout layout, int dstW, int dstH,
                    int resizedW, int resizedH, int offX, int offY) {
  const uint8_t rgb[3] = {200, 100, 50};
  Frame frame = UniformFrame(format, w, h, padding, rgb);
  const int channels = OutputChannels(order);
  std::vector<T> out(static_cast<size_t>(dstW) * dstH * channels);
  PreprocessJob job;
  job.src = frame.src;
  job.dst.data = out.data();
  job.dst.elementCount = out.size();
  job.dst.type = std::is_same_v<T, float> ? ElementType::kFloat32 : ElementType::kUint8;
  job.dst.width = dstW;
  job.dst.height = dstH;
  job.dst.layout = layout;
  job.dst.channelOrder = order;
  job.dst.resizedWidth = resizedW;
  job.dst.resizedHeight = resizedH;
  job.dst.offsetX = offX;
  job.dst.offsetY = offY;
  job.dst.padValue = 114;
  job.dst.scale = 1.0 / 255.0;
  const double mean[3] = {0.485, 0.456, 0.406};
  const double stdev[3] = {0.229, 0.224, 0.225};
  for (int k = 0; k < 3; ++k) {
    job.dst.mean[k] = mean[k];
    job.dst.std[k] = stdev[k];
  }
  const std::string label = std::string(PixelFormatName(format)) + " " + std::to_string(w) + "x" + std::to_string(h) + " -> " +
                            std::to_string(dstW) + "x" + std::to_string(dstH) + (layout == TensorLayout::kNhwc ? " nhwc" : " nchw") +
                            " channels " + std::to_string(channels) + (std::is_same_v<T, float> ? " float" : " uint8");
  const auto problem = FindJobProblem(job);
  Check(!problem, label + ": refused: " + (problem ? problem->message : ""));
  if (problem) return;
  RunPreprocess(job);

  double expected[3];
  ExpectedChannels(format, order, rgb, expected);
  int bad = 0;
  for (int y = 0; y < dstH; ++y) {
    for (int x = 0; x < dstW; ++x) {
      const bool inside = x >= offX && x < offX + resizedW && y >= offY && y < offY + resizedH;
      for (int k = 0; k < channels; ++k) {
        const size_t i = layout == TensorLayout::kNchw ? (static_cast<size_t>(k) * dstH + y) * dstW + x
                                                       : (static_cast<size_t>(y) * dstW + x) * channels + k;
        const double pixel = inside ? expected[k] : 114.0;
        double want;
        double tolerance;
        if constexpr (std::is_same_v<T, float>) {
          want = (pixel / 255.0 - mean[k]) / stdev[k];
          tolerance = inside ? 1e-4 : 0.0;
          if (!inside) want = static_cast<float>((114.0 * job.dst.scale - mean[k]) / stdev[k]);
        } else {
          want = std::round(pixel);
          tolerance = inside ? 1.0 : 0.0;
        }
        if (!(std::fabs(static_cast<double>(out[i]) - want) <= tolerance) && bad++ < 3) {
          Check(false, label + ": element " + std::to_string(i) + " is " + std::to_string(static_cast<double>(out[i])) +
                           ", expected " + std::to_string(want));
        }
      }
    }
  }
}

void UniformFrames() {
  for (PixelFormat format : kFormats) {
    const bool yuv = IsYuv(format);
    // Shrink, grow, a 1x1 (or 2x2) source, and boxes touching each edge of the tensor.
    const int sizes[][2] = {{yuv ? 38 : 37, yuv ? 22 : 23}, {yuv ? 2 : 1, yuv ? 2 : 1}, {yuv ? 6 : 5, yuv ? 4 : 3}};
    for (const auto& size : sizes) {
      for (ChannelOrder order : {ChannelOrder::kRgb, ChannelOrder::kBgr, ChannelOrder::kGray}) {
        for (TensorLayout layout : {TensorLayout::kNchw, TensorLayout::kNhwc}) {
          RunUniformCase<float>(format, size[0], size[1], 3, order, layout, 17, 11, 17, 7, 0, 4);
          RunUniformCase<uint8_t>(format, size[0], size[1], 0, order, layout, 17, 11, 9, 11, 8, 0);
          RunUniformCase<float>(format, size[0], size[1], 1, order, layout, 1, 1, 1, 1, 0, 0);
          RunUniformCase<uint8_t>(format, size[0], size[1], 5, order, layout, 64, 48, 20, 13, 44, 35);
        }
      }
    }
  }
}

// Random sizes, strides and boxes: under the sanitizers, any out-of-bounds access shows.
void RandomJobs() {
  std::mt19937 rng(12345);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 400; ++trial) {
    const PixelFormat format = kFormats[uniform(0, 6)];
    const bool yuv = IsYuv(format);
    int w = uniform(1, 90);
    int h = uniform(1, 90);
    if (yuv) {
      w += w % 2;
      h += h % 2;
    }
    const int dstW = uniform(1, 120);
    const int dstH = uniform(1, 120);
    const int rw = uniform(1, dstW);
    const int rh = uniform(1, dstH);
    const int ox = uniform(0, dstW - rw);
    const int oy = uniform(0, dstH - rh);
    const ChannelOrder order = static_cast<ChannelOrder>(uniform(0, 2));
    const TensorLayout layout = static_cast<TensorLayout>(uniform(0, 1));
    if (uniform(0, 1)) {
      RunUniformCase<float>(format, w, h, uniform(0, 9), order, layout, dstW, dstH, rw, rh, ox, oy);
    } else {
      RunUniformCase<uint8_t>(format, w, h, uniform(0, 9), order, layout, dstW, dstH, rw, rh, ox, oy);
    }
  }
}

// The validation accepts a buffer of exactly the required size and refuses one byte less.
void ValidationBoundaries() {
  const uint8_t rgb[3] = {1, 2, 3};
  for (PixelFormat format : kFormats) {
    Frame frame = UniformFrame(format, IsYuv(format) ? 10 : 9, 6, 2, rgb);
    std::vector<float> out(3 * 4 * 4);
    PreprocessJob job;
    job.src = frame.src;
    job.dst.data = out.data();
    job.dst.elementCount = out.size();
    job.dst.width = job.dst.height = job.dst.resizedWidth = job.dst.resizedHeight = 4;
    const std::string name = PixelFormatName(format);
    Check(!FindJobProblem(job), name + ": exact-size buffer refused");
    job.src.byteLength -= 1;
    const auto problem = FindJobProblem(job);
    Check(problem && problem->subject == JobProblem::Subject::kSource &&
              problem->message.find("job.src is too small") != std::string::npos,
          name + ": one byte short accepted");
  }
  // Strides near the top of size_t must not wrap around and pass.
  const uint8_t byte = 0;
  PreprocessJob job;
  job.src.data = &byte;
  job.src.byteLength = 1;
  job.src.width = 1;
  job.src.height = 3;
  job.src.format = PixelFormat::kGray;
  job.src.stride = static_cast<size_t>(-1) / 2 + 1;
  std::vector<float> out(3);
  job.dst.data = out.data();
  job.dst.elementCount = 3;
  job.dst.width = job.dst.height = job.dst.resizedWidth = job.dst.resizedHeight = 1;
  const auto problem = FindJobProblem(job);
  Check(problem && problem->message.find("more bytes than memory can hold") != std::string::npos, "overflowing stride accepted");
}

}  // namespace

int main() {
  UniformFrames();
  RandomJobs();
  ValidationBoundaries();
  if (failures) {
    std::fprintf(stderr, "%d failure(s)\n", failures);
    return 1;
  }
  std::puts("preprocess kernels: all checks passed");
  return 0;
}
