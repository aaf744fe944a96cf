// Preprocessing kernels. Each output row is made in two passes with no per-pixel branch on a
// run-time choice: its two source rows are blended vertically over the whole row (contiguous,
// so the compiler vectorises it), then the blended row is sampled horizontally with per-column
// taps computed once per call, normalised and stored. Packed 8-bit sources are blended straight
// from their bytes; YUV rows are first converted to planar RGB floats, each source row once.
// Resampling follows OpenCV's INTER_LINEAR: half-pixel centres, coordinates clamped at the
// borders, no antialiasing when shrinking.
#include "core/preprocess.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <type_traits>
#include <vector>

namespace int8detect {
namespace {

// Large enough for any camera or panorama, small enough that x * bytes-per-pixel stays an int.
constexpr int kMaxDimension = 1 << 24;

// BT.601 luma weights, used for every colour-to-gray conversion whatever the YUV matrix.
constexpr float kLumaR = 0.299f;
constexpr float kLumaG = 0.587f;
constexpr float kLumaB = 0.114f;

// Written as comparisons rather than std::min/max: this form vectorises to fewer instructions.
inline float ClampPixel(float v) {
  v = v > 0.0f ? v : 0.0f;
  return v < 255.0f ? v : 255.0f;
}

// One output coordinate's two source neighbours: value = s[i0] + (s[i1] - s[i0]) * w.
struct Tap {
  int i0;
  int i1;
  float w;
};

Tap LinearTap(int d, int srcSize, int dstSize) {
  const double s = (d + 0.5) * (static_cast<double>(srcSize) / dstSize) - 0.5;
  int i0 = static_cast<int>(std::floor(s));
  double w = s - i0;
  // Outside the outermost pixel centres the edge pixel is repeated (OpenCV's clamping).
  if (i0 < 0) {
    i0 = 0;
    w = 0.0;
  }
  if (i0 >= srcSize - 1) {
    i0 = srcSize - 1;
    w = 0.0;
  }
  return Tap{i0, std::min(i0 + 1, srcSize - 1), static_cast<float>(w)};
}

// The horizontal taps of every output column, as positions in a blended row whose pixels lie
// `pixelStride` floats apart; kept as separate arrays for the inner loops.
struct ColumnTaps {
  std::vector<int> i0;
  std::vector<int> i1;
  std::vector<float> w;
};

ColumnTaps MakeColumnTaps(int srcWidth, int dstWidth, int pixelStride) {
  ColumnTaps taps;
  const size_t n = static_cast<size_t>(dstWidth);
  taps.i0.resize(n);
  taps.i1.resize(n);
  taps.w.resize(n);
  for (int d = 0; d < dstWidth; ++d) {
    const Tap t = LinearTap(d, srcWidth, dstWidth);
    taps.i0[static_cast<size_t>(d)] = t.i0 * pixelStride;
    taps.i1[static_cast<size_t>(d)] = t.i1 * pixelStride;
    taps.w[static_cast<size_t>(d)] = t.w;
  }
  return taps;
}

// ---- Row sources: a source row as the values the vertical blend reads. ----

// Packed 8-bit pixels (RGB, BGR, RGBA, BGRA, gray) are read in place: kBytesPerPixel values
// per pixel, in memory order.
template <int kBytesPerPixel>
class PackedRows {
 public:
  using Value = uint8_t;
  static constexpr int kPixelStride = kBytesPerPixel;
  explicit PackedRows(const SourceFrame& src) : src_(src) {}
  size_t Length() const { return static_cast<size_t>(src_.width) * kBytesPerPixel; }
  const uint8_t* Row(int y, int /*keep*/) { return src_.data + static_cast<size_t>(y) * src_.stride; }

 private:
  const SourceFrame& src_;
};

// YUV -> RGB as R = Y' + a*Cr, G = Y' + b*Cb + c*Cr, B = Y' + d*Cb with Y' and the chroma
// differences already expanded to full range.
struct YuvCoefficients {
  float yGain;
  float yBias;
  float crToR;
  float cbToG;
  float crToG;
  float cbToB;
};

YuvCoefficients MakeYuvCoefficients(ColorMatrix matrix, ColorRange range) {
  const double kr = matrix == ColorMatrix::kBt709 ? 0.2126 : 0.299;
  const double kb = matrix == ColorMatrix::kBt709 ? 0.0722 : 0.114;
  const double kg = 1.0 - kr - kb;
  const bool limited = range == ColorRange::kLimited;
  // Limited ("video") range puts luma in 16..235 and chroma in 16..240 around 128.
  const double yGain = limited ? 255.0 / 219.0 : 1.0;
  const double cGain = limited ? 255.0 / 224.0 : 1.0;
  return YuvCoefficients{
      static_cast<float>(yGain),
      static_cast<float>(limited ? -16.0 * yGain : 0.0),
      static_cast<float>(2.0 * (1.0 - kr) * cGain),
      static_cast<float>(-2.0 * kb * (1.0 - kb) / kg * cGain),
      static_cast<float>(-2.0 * kr * (1.0 - kr) / kg * cGain),
      static_cast<float>(2.0 * (1.0 - kb) * cGain),
  };
}

// YUV rows converted to planar RGB floats (R, G, B planes of `width` values; one luma plane when
// kLuma). Conversion comes before interpolation, as decoding to RGB and then resizing would,
// and chroma is shared by its 2x2 luma block (OpenCV's cvtColor). kChromaStep: 2 for NV12
// (U and V interleaved), 1 for I420. The two most recently converted rows are kept, so each
// source row is converted once per call.
template <int kChromaStep, bool kLuma>
class YuvRows {
 public:
  using Value = float;
  static constexpr int kPixelStride = 1;
  static constexpr int kPlanes = kLuma ? 1 : 3;

  explicit YuvRows(const SourceFrame& src)
      : src_(src),
        k_(MakeYuvCoefficients(src.colorMatrix, src.colorRange)),
        width_(static_cast<size_t>(src.width)),
        chroma_(3 * width_),
        luma_(width_),
        storage_(2 * kPlanes * width_) {
    slot_[0] = storage_.data();
    slot_[1] = storage_.data() + kPlanes * width_;
  }

  size_t Length() const { return kPlanes * width_; }

  // Row y, converted into the slot that does not hold row `keep` (unless already held).
  const float* Row(int y, int keep) {
    if (held_[0] == y) return slot_[0];
    if (held_[1] == y) return slot_[1];
    const int s = held_[0] == keep ? 1 : 0;
    Convert(y, slot_[s]);
    held_[s] = y;
    return slot_[s];
  }

 private:
  // Each chroma sample's contribution to R, G and B, written once per pixel it covers.
  void ExpandChroma(int chromaRow) {
    const size_t rowStart = static_cast<size_t>(chromaRow) * src_.uvStride;
    const uint8_t* u = src_.data + src_.uvOffset + rowStart;
    const uint8_t* v = kChromaStep == 2 ? u + 1 : src_.data + src_.vOffset + rowStart;
    float* rc = chroma_.data();
    float* gc = rc + width_;
    float* bc = gc + width_;
    const float crToR = k_.crToR, cbToG = k_.cbToG, crToG = k_.crToG, cbToB = k_.cbToB;
    const size_t pairs = width_ / 2;
    for (size_t i = 0; i < pairs; ++i) {
      const float cb = static_cast<float>(u[i * kChromaStep]) - 128.0f;
      const float cr = static_cast<float>(v[i * kChromaStep]) - 128.0f;
      const float r = crToR * cr;
      const float g = cbToG * cb + crToG * cr;
      const float b = cbToB * cb;
      rc[2 * i] = r;
      rc[2 * i + 1] = r;
      gc[2 * i] = g;
      gc[2 * i + 1] = g;
      bc[2 * i] = b;
      bc[2 * i + 1] = b;
    }
    chromaRow_ = chromaRow;
  }

  void Convert(int y, float* out) {
    if (y / 2 != chromaRow_) ExpandChroma(y / 2);
    const uint8_t* luma = src_.data + static_cast<size_t>(y) * src_.stride;
    const float* rc = chroma_.data();
    const float* gc = rc + width_;
    const float* bc = gc + width_;
    const float yGain = k_.yGain, yBias = k_.yBias;
    const size_t n = width_;
    // Loops with one store each: the compiler can prove those free of aliasing and vectorise
    // them, which it declines to do for one loop writing all three planes.
    float* l = luma_.data();
    for (size_t x = 0; x < n; ++x) l[x] = static_cast<float>(luma[x]) * yGain + yBias;
    if constexpr (kLuma) {
      for (size_t x = 0; x < n; ++x) out[x] = kLumaR * ClampPixel(l[x] + rc[x]);
      for (size_t x = 0; x < n; ++x) out[x] += kLumaG * ClampPixel(l[x] + gc[x]);
      for (size_t x = 0; x < n; ++x) out[x] += kLumaB * ClampPixel(l[x] + bc[x]);
    } else {
      const float* chroma[3] = {rc, gc, bc};
      for (size_t p = 0; p < 3; ++p) {
        float* plane = out + p * n;
        const float* c = chroma[p];
        for (size_t x = 0; x < n; ++x) plane[x] = ClampPixel(l[x] + c[x]);
      }
    }
  }

  const SourceFrame& src_;
  const YuvCoefficients k_;
  const size_t width_;
  std::vector<float> chroma_;
  std::vector<float> luma_;  // the row being converted, as full-range floats
  int chromaRow_ = -1;
  std::vector<float> storage_;
  float* slot_[2];
  int held_[2] = {-1, -1};
};

// Vertical pass: a + (b - a) * w over a whole row. Float rows that need no blending are used
// as they are.
template <typename S>
const float* BlendRows(const S* a, const S* b, float w, size_t n, float* out) {
  if constexpr (std::is_same_v<S, float>) {
    if (w == 0.0f) return a;
  }
  if (w == 0.0f) {
    for (size_t j = 0; j < n; ++j) out[j] = static_cast<float>(a[j]);
  } else {
    for (size_t j = 0; j < n; ++j) {
      const float fa = static_cast<float>(a[j]);
      out[j] = fa + (static_cast<float>(b[j]) - fa) * w;
    }
  }
  return out;
}

// ---- Writer: horizontal pass, channel order, normalisation, layout. ----

template <typename T>
struct Store;

template <>
struct Store<float> {
  static float Apply(float v, float gain, float bias) { return v * gain + bias; }
};

template <>
struct Store<uint8_t> {
  static uint8_t Apply(float v, float, float) { return static_cast<uint8_t>(ClampPixel(v) + 0.5f); }
};

// Samples a blended row at the column taps and stores one row of the resized image. Output
// channel k reads the values starting at offset[k] of the blended row; with kLuma the single
// output channel is the BT.601 luma of the three channels at offset[0..2] (R, G, B).
template <typename T, bool kNhwc, bool kLuma>
class RowWriter {
 public:
  RowWriter(const TensorTarget& dst, const ColumnTaps& taps, const int offset[3])
      : data_(static_cast<T*>(dst.data)),
        taps_(taps),
        width_(static_cast<size_t>(dst.width)),
        planeSize_(static_cast<size_t>(dst.width) * static_cast<size_t>(dst.height)),
        channels_(OutputChannels(dst.channelOrder)),
        offsetX_(static_cast<size_t>(dst.offsetX)),
        offsetY_(static_cast<size_t>(dst.offsetY)) {
    for (int k = 0; k < 3; ++k) {
      offset_[k] = offset[k];
      gain_[k] = static_cast<float>(dst.scale / dst.std[k]);
      bias_[k] = static_cast<float>(-dst.mean[k] / dst.std[k]);
    }
  }

  void Write(int y, const float* row) const {
    const size_t pixel = (offsetY_ + static_cast<size_t>(y)) * width_ + offsetX_;
    const int* i0 = taps_.i0.data();
    const int* i1 = taps_.i1.data();
    const float* w = taps_.w.data();
    const size_t n = taps_.w.size();
    if constexpr (kLuma) {
      const float* r = row + offset_[0];
      const float* g = row + offset_[1];
      const float* b = row + offset_[2];
      const float gain = gain_[0], bias = bias_[0];
      T* out = data_ + pixel;  // one channel: the same index in both layouts
      for (size_t i = 0; i < n; ++i) {
        const float vr = r[i0[i]] + (r[i1[i]] - r[i0[i]]) * w[i];
        const float vg = g[i0[i]] + (g[i1[i]] - g[i0[i]]) * w[i];
        const float vb = b[i0[i]] + (b[i1[i]] - b[i0[i]]) * w[i];
        out[i] = Store<T>::Apply(kLumaR * vr + kLumaG * vg + kLumaB * vb, gain, bias);
      }
    } else if (kNhwc && channels_ == 3) {
      const float* c0 = row + offset_[0];
      const float* c1 = row + offset_[1];
      const float* c2 = row + offset_[2];
      T* out = data_ + pixel * 3;
      for (size_t i = 0; i < n; ++i) {
        out[3 * i] = Store<T>::Apply(c0[i0[i]] + (c0[i1[i]] - c0[i0[i]]) * w[i], gain_[0], bias_[0]);
        out[3 * i + 1] = Store<T>::Apply(c1[i0[i]] + (c1[i1[i]] - c1[i0[i]]) * w[i], gain_[1], bias_[1]);
        out[3 * i + 2] = Store<T>::Apply(c2[i0[i]] + (c2[i1[i]] - c2[i0[i]]) * w[i], gain_[2], bias_[2]);
      }
    } else {
      // Planar output, or a single channel (where both layouts index alike).
      for (int k = 0; k < channels_; ++k) {
        const float* c = row + offset_[k];
        const float gain = gain_[k], bias = bias_[k];
        T* out = data_ + static_cast<size_t>(k) * planeSize_ + pixel;
        for (size_t i = 0; i < n; ++i) out[i] = Store<T>::Apply(c[i0[i]] + (c[i1[i]] - c[i0[i]]) * w[i], gain, bias);
      }
    }
  }

 private:
  T* data_;
  const ColumnTaps& taps_;
  size_t width_;
  size_t planeSize_;
  int channels_;
  size_t offsetX_;
  size_t offsetY_;
  int offset_[3];
  float gain_[3];
  float bias_[3];
};

// The pad value per output channel, computed in double exactly as JavaScript would.
template <typename T>
void PadValues(const TensorTarget& dst, T pad[3]);

template <>
void PadValues<float>(const TensorTarget& dst, float pad[3]) {
  for (int k = 0; k < 3; ++k) pad[k] = static_cast<float>((dst.padValue * dst.scale - dst.mean[k]) / dst.std[k]);
}

template <>
void PadValues<uint8_t>(const TensorTarget& dst, uint8_t pad[3]) {
  pad[0] = pad[1] = pad[2] = static_cast<uint8_t>(std::lround(dst.padValue));
}

// `pixels` consecutive pixels of an interleaved tensor, set to the pad colour.
template <typename T>
void FillInterleaved(T* out, size_t pixels, int channels, const T pad[3]) {
  if (channels == 1 || (pad[0] == pad[1] && pad[1] == pad[2])) {
    std::fill(out, out + pixels * static_cast<size_t>(channels), pad[0]);
    return;
  }
  for (size_t i = 0; i < pixels; ++i) {
    for (int k = 0; k < channels; ++k) out[i * static_cast<size_t>(channels) + static_cast<size_t>(k)] = pad[k];
  }
}

// Everything outside the resized box: the bands above and below it, and left and right of it.
template <typename T, bool kNhwc>
void FillPad(const TensorTarget& dst) {
  T pad[3];
  PadValues<T>(dst, pad);
  T* data = static_cast<T*>(dst.data);
  const int channels = OutputChannels(dst.channelOrder);
  const size_t W = static_cast<size_t>(dst.width);
  const size_t H = static_cast<size_t>(dst.height);
  const size_t x0 = static_cast<size_t>(dst.offsetX);
  const size_t x1 = x0 + static_cast<size_t>(dst.resizedWidth);
  const size_t y0 = static_cast<size_t>(dst.offsetY);
  const size_t y1 = y0 + static_cast<size_t>(dst.resizedHeight);
  if constexpr (kNhwc) {
    const size_t C = static_cast<size_t>(channels);
    FillInterleaved(data, y0 * W, channels, pad);
    for (size_t y = y0; y < y1; ++y) {
      FillInterleaved(data + y * W * C, x0, channels, pad);
      FillInterleaved(data + (y * W + x1) * C, W - x1, channels, pad);
    }
    FillInterleaved(data + y1 * W * C, (H - y1) * W, channels, pad);
  } else {
    for (int k = 0; k < channels; ++k) {
      T* plane = data + static_cast<size_t>(k) * W * H;
      std::fill(plane, plane + y0 * W, pad[k]);
      for (size_t y = y0; y < y1; ++y) {
        std::fill(plane + y * W, plane + y * W + x0, pad[k]);
        std::fill(plane + y * W + x1, plane + (y + 1) * W, pad[k]);
      }
      std::fill(plane + y1 * W, plane + H * W, pad[k]);
    }
  }
}

template <class Rows, typename T, bool kNhwc, bool kLuma>
void ResizeRows(const PreprocessJob& job, const int offset[3]) {
  const SourceFrame& src = job.src;
  const TensorTarget& dst = job.dst;
  Rows rows(src);
  const ColumnTaps columns = MakeColumnTaps(src.width, dst.resizedWidth, Rows::kPixelStride);
  const RowWriter<T, kNhwc, kLuma> writer(dst, columns, offset);
  std::vector<float> blended(rows.Length());
  for (int y = 0; y < dst.resizedHeight; ++y) {
    const Tap t = LinearTap(y, src.height, dst.resizedHeight);
    const typename Rows::Value* a = rows.Row(t.i0, t.i1);
    const typename Rows::Value* b = rows.Row(t.i1, t.i0);
    writer.Write(y, BlendRows(a, b, t.w, rows.Length(), blended.data()));
  }
}

// Where each output channel's values start in a blended row: R, G, B sit at byte offsets
// (r, g, b) of a packed pixel, or in planes `plane` floats apart for converted YUV rows.
void ChannelOffsets(ChannelOrder order, int r, int g, int b, int out[3]) {
  if (order == ChannelOrder::kBgr) {
    out[0] = b;
    out[1] = g;
    out[2] = r;
  } else {
    out[0] = r;
    out[1] = g;
    out[2] = b;
  }
}

template <int kBytesPerPixel, typename T, bool kNhwc>
void ResizePackedColor(const PreprocessJob& job, int r, int g, int b) {
  int offset[3];
  if (job.dst.channelOrder == ChannelOrder::kGray) {
    offset[0] = r;
    offset[1] = g;
    offset[2] = b;
    return ResizeRows<PackedRows<kBytesPerPixel>, T, kNhwc, true>(job, offset);
  }
  ChannelOffsets(job.dst.channelOrder, r, g, b, offset);
  ResizeRows<PackedRows<kBytesPerPixel>, T, kNhwc, false>(job, offset);
}

template <int kChromaStep, typename T, bool kNhwc>
void ResizeYuv(const PreprocessJob& job) {
  if (job.dst.channelOrder == ChannelOrder::kGray) {
    const int offset[3] = {0, 0, 0};
    return ResizeRows<YuvRows<kChromaStep, true>, T, kNhwc, false>(job, offset);
  }
  const int plane = job.src.width;
  int offset[3];
  ChannelOffsets(job.dst.channelOrder, 0, plane, 2 * plane, offset);
  ResizeRows<YuvRows<kChromaStep, false>, T, kNhwc, false>(job, offset);
}

template <typename T, bool kNhwc>
void RunTyped(const PreprocessJob& job) {
  FillPad<T, kNhwc>(job.dst);
  switch (job.src.format) {
    case PixelFormat::kRgb: return ResizePackedColor<3, T, kNhwc>(job, 0, 1, 2);
    case PixelFormat::kBgr: return ResizePackedColor<3, T, kNhwc>(job, 2, 1, 0);
    case PixelFormat::kRgba: return ResizePackedColor<4, T, kNhwc>(job, 0, 1, 2);
    case PixelFormat::kBgra: return ResizePackedColor<4, T, kNhwc>(job, 2, 1, 0);
    case PixelFormat::kGray: {
      // One source channel: replicated into every output channel.
      const int offset[3] = {0, 0, 0};
      return ResizeRows<PackedRows<1>, T, kNhwc, false>(job, offset);
    }
    case PixelFormat::kNv12: return ResizeYuv<2, T, kNhwc>(job);
    case PixelFormat::kI420: return ResizeYuv<1, T, kNhwc>(job);
  }
}

// ---- Validation ----

template <typename... Parts>
std::string Concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// offset + stride * (rows - 1) + rowBytes: the end of a plane, or nothing if it overflows.
std::optional<size_t> PlaneEnd(size_t offset, size_t stride, size_t rows, size_t rowBytes) {
  constexpr size_t kMax = std::numeric_limits<size_t>::max();
  size_t span = rowBytes;
  if (rows > 1) {
    if (stride > (kMax - rowBytes) / (rows - 1)) return std::nullopt;
    span += stride * (rows - 1);
  }
  if (offset > kMax - span) return std::nullopt;
  return offset + span;
}

std::optional<JobProblem> SourceProblem(std::string message) {
  return JobProblem{JobProblem::Subject::kSource, std::move(message)};
}

std::optional<JobProblem> TargetProblem(std::string message) {
  return JobProblem{JobProblem::Subject::kTarget, std::move(message)};
}

// One plane (`rows` rows of `rowBytes` bytes, `stride` apart, from `offset`) must lie in src.
std::optional<JobProblem> CheckPlane(const SourceFrame& src, const char* plane, const char* offsetName, size_t offset,
                                     const char* strideName, size_t stride, size_t rows, size_t rowBytes) {
  const char* format = PixelFormatName(src.format);
  if (stride < rowBytes) {
    return SourceProblem(Concat("job.", strideName, " is ", stride, " but a ", src.width, "-pixel ", format, " frame's ",
                                plane, " rows need at least ", rowBytes, " bytes"));
  }
  const std::optional<size_t> end = PlaneEnd(offset, stride, rows, rowBytes);
  if (!end || *end > src.byteLength) {
    std::string needed = end ? Concat(*end, " bytes") : std::string("more bytes than memory can hold");
    std::string at = offsetName[0] != '\0' ? Concat(" at job.", offsetName, " ", offset) : std::string();
    return SourceProblem(Concat("job.src is too small: the ", plane, " plane of a ", src.width, "x", src.height, " ",
                                format, " frame", at, " with job.", strideName, " ", stride, " needs ", needed,
                                " but job.src has ", src.byteLength, " bytes"));
  }
  return std::nullopt;
}

std::optional<JobProblem> FindSourceProblem(const SourceFrame& src) {
  if (src.width < 1 || src.width > kMaxDimension) {
    return SourceProblem(Concat("job.width must be between 1 and ", kMaxDimension, " but is ", src.width));
  }
  if (src.height < 1 || src.height > kMaxDimension) {
    return SourceProblem(Concat("job.height must be between 1 and ", kMaxDimension, " but is ", src.height));
  }
  const size_t w = static_cast<size_t>(src.width);
  const size_t h = static_cast<size_t>(src.height);
  switch (src.format) {
    case PixelFormat::kRgb:
    case PixelFormat::kBgr:
      return CheckPlane(src, "pixel", "", 0, "stride", src.stride, h, w * 3);
    case PixelFormat::kRgba:
    case PixelFormat::kBgra:
      return CheckPlane(src, "pixel", "", 0, "stride", src.stride, h, w * 4);
    case PixelFormat::kGray:
      return CheckPlane(src, "pixel", "", 0, "stride", src.stride, h, w);
    case PixelFormat::kNv12:
    case PixelFormat::kI420: {
      if (src.width % 2 != 0 || src.height % 2 != 0) {
        return SourceProblem(Concat("a ", PixelFormatName(src.format), " frame needs an even job.width and job.height but is ",
                                    src.width, "x", src.height));
      }
      if (auto p = CheckPlane(src, "luma", "", 0, "stride", src.stride, h, w)) return p;
      if (src.format == PixelFormat::kNv12) return CheckPlane(src, "UV", "uvOffset", src.uvOffset, "uvStride", src.uvStride, h / 2, w);
      if (auto p = CheckPlane(src, "U", "uvOffset", src.uvOffset, "uvStride", src.uvStride, h / 2, w / 2)) return p;
      return CheckPlane(src, "V", "vOffset", src.vOffset, "uvStride", src.uvStride, h / 2, w / 2);
    }
  }
  return SourceProblem("job.format is not a known pixel format");
}

std::optional<JobProblem> FindTargetProblem(const TensorTarget& dst) {
  if (dst.width < 1 || dst.width > kMaxDimension) {
    return TargetProblem(Concat("job.dstWidth must be between 1 and ", kMaxDimension, " but is ", dst.width));
  }
  if (dst.height < 1 || dst.height > kMaxDimension) {
    return TargetProblem(Concat("job.dstHeight must be between 1 and ", kMaxDimension, " but is ", dst.height));
  }
  const size_t channels = static_cast<size_t>(OutputChannels(dst.channelOrder));
  const size_t needed = static_cast<size_t>(dst.width) * static_cast<size_t>(dst.height) * channels;
  if (dst.elementCount != needed) {
    return TargetProblem(Concat("job.dst has ", dst.elementCount, " elements but dstWidth x dstHeight x channels = ", dst.width,
                                " x ", dst.height, " x ", channels, " = ", needed));
  }
  if (dst.resizedWidth < 1 || dst.offsetX < 0 || dst.resizedWidth > dst.width - dst.offsetX) {
    return TargetProblem(Concat("the resized box (job.offsetX ", dst.offsetX, ", job.resizedWidth ", dst.resizedWidth,
                                ") must lie inside job.dstWidth ", dst.width));
  }
  if (dst.resizedHeight < 1 || dst.offsetY < 0 || dst.resizedHeight > dst.height - dst.offsetY) {
    return TargetProblem(Concat("the resized box (job.offsetY ", dst.offsetY, ", job.resizedHeight ", dst.resizedHeight,
                                ") must lie inside job.dstHeight ", dst.height));
  }
  if (!std::isfinite(dst.padValue) || dst.padValue < 0.0 || dst.padValue > 255.0) {
    return TargetProblem(Concat("job.padValue must be a pixel value in 0..255 but is ", dst.padValue));
  }
  if (!std::isfinite(dst.scale)) return TargetProblem(Concat("job.scale must be finite but is ", dst.scale));
  for (int k = 0; k < 3; ++k) {
    if (!std::isfinite(dst.mean[k])) return TargetProblem(Concat("job.mean[", k, "] must be finite but is ", dst.mean[k]));
    if (!std::isfinite(dst.std[k]) || dst.std[k] == 0.0) {
      return TargetProblem(Concat("job.std[", k, "] must be finite and non-zero but is ", dst.std[k]));
    }
  }
  return std::nullopt;
}

size_t ElementBytes(ElementType type) { return type == ElementType::kFloat32 ? sizeof(float) : sizeof(uint8_t); }

}  // namespace

int OutputChannels(ChannelOrder order) { return order == ChannelOrder::kGray ? 1 : 3; }

const char* PixelFormatName(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRgb: return "rgb";
    case PixelFormat::kBgr: return "bgr";
    case PixelFormat::kRgba: return "rgba";
    case PixelFormat::kBgra: return "bgra";
    case PixelFormat::kGray: return "gray";
    case PixelFormat::kNv12: return "nv12";
    case PixelFormat::kI420: return "i420";
  }
  return "unknown";
}

std::optional<JobProblem> FindJobProblem(const PreprocessJob& job) {
  if (auto p = FindSourceProblem(job.src)) return p;
  if (auto p = FindTargetProblem(job.dst)) return p;
  // The worker reads src while it writes dst: they must not share bytes.
  const uintptr_t srcBegin = reinterpret_cast<uintptr_t>(job.src.data);
  const uintptr_t dstBegin = reinterpret_cast<uintptr_t>(job.dst.data);
  const uintptr_t srcEnd = srcBegin + job.src.byteLength;
  const uintptr_t dstEnd = dstBegin + job.dst.elementCount * ElementBytes(job.dst.type);
  if (srcBegin < dstEnd && dstBegin < srcEnd) return TargetProblem("job.dst shares memory with job.src");
  return std::nullopt;
}

void RunPreprocess(const PreprocessJob& job) {
  const bool nhwc = job.dst.layout == TensorLayout::kNhwc;
  if (job.dst.type == ElementType::kFloat32) {
    nhwc ? RunTyped<float, true>(job) : RunTyped<float, false>(job);
  } else {
    nhwc ? RunTyped<uint8_t, true>(job) : RunTyped<uint8_t, false>(job);
  }
}

}  // namespace int8detect
