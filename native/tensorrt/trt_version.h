// The one place that knows which TensorRT this module is compiled against. Every version
// difference in the sources is a named capability from here, never a bare NV_TENSORRT_MAJOR test.
#pragma once
#include <NvInfer.h>
#include <NvInferVersion.h>

#if !defined(NV_TENSORRT_MAJOR) || !defined(NV_TENSORRT_MINOR) || !defined(NV_TENSORRT_PATCH)
#error "NvInferVersion.h did not define NV_TENSORRT_MAJOR/MINOR/PATCH: these are not TensorRT headers"
#endif

#if NV_TENSORRT_MAJOR < 8 || (NV_TENSORRT_MAJOR == 8 && NV_TENSORRT_MINOR < 6)
#error "int8-detect needs TensorRT 8.6 or newer (name-based tensor API, enqueueV3)"
#endif

#if NV_TENSORRT_MAJOR > 11
#error "int8-detect has not been checked against TensorRT 12 or newer: run scripts/check-tensorrt.sh and extend trt_version.h"
#endif

// TensorRT 11 removed implicit quantization (IInt8Calibrator, BuilderFlag::kINT8/kFP16): every
// network is strongly typed, and INT8 comes only from Q/DQ nodes in the model.
#if NV_TENSORRT_MAJOR <= 10
#define INT8_DETECT_TRT_IMPLICIT_INT8 1
#define INT8_DETECT_TRT_PRECISION_FLAGS 1
#else
#define INT8_DETECT_TRT_IMPLICIT_INT8 0
#define INT8_DETECT_TRT_PRECISION_FLAGS 0
#endif

// TensorRT 8.x still needs the kEXPLICIT_BATCH creation flag; 10 made it the only mode.
#if NV_TENSORRT_MAJOR < 10
#define INT8_DETECT_TRT_EXPLICIT_BATCH_FLAG 1
#else
#define INT8_DETECT_TRT_EXPLICIT_BATCH_FLAG 0
#endif

// IProgressMonitor (build progress and cancellation) arrived in TensorRT 10.0.
#if NV_TENSORRT_MAJOR >= 10
#define INT8_DETECT_TRT_PROGRESS_MONITOR 1
#else
#define INT8_DETECT_TRT_PROGRESS_MONITOR 0
#endif


// Implicit INT8 is deprecated in 10.x but is still the only way to use a calibration cache;
// these bracket the few lines that touch it, so -Werror keeps catching every other deprecation.
#if defined(__GNUC__) || defined(__clang__)
#define INT8_DETECT_ALLOW_DEPRECATED_BEGIN \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wdeprecated-declarations\"")
#define INT8_DETECT_ALLOW_DEPRECATED_END _Pragma("GCC diagnostic pop")
#elif defined(_MSC_VER)
#define INT8_DETECT_ALLOW_DEPRECATED_BEGIN __pragma(warning(push)) __pragma(warning(disable : 4996))
#define INT8_DETECT_ALLOW_DEPRECATED_END __pragma(warning(pop))
#else
#define INT8_DETECT_ALLOW_DEPRECATED_BEGIN
#define INT8_DETECT_ALLOW_DEPRECATED_END
#endif

namespace int8detect {
namespace trt {

constexpr int kCompiledMajor = NV_TENSORRT_MAJOR;
constexpr int kCompiledMinor = NV_TENSORRT_MINOR;
constexpr int kCompiledPatch = NV_TENSORRT_PATCH;
constexpr bool kHasImplicitInt8 = INT8_DETECT_TRT_IMPLICIT_INT8 != 0;
constexpr bool kHasPrecisionFlags = INT8_DETECT_TRT_PRECISION_FLAGS != 0;
constexpr bool kHasProgressMonitor = INT8_DETECT_TRT_PROGRESS_MONITOR != 0;
constexpr bool kAlwaysStronglyTyped = NV_TENSORRT_MAJOR >= 11;

}  // namespace trt
}  // namespace int8detect
