#include "tensorrt/device_binding.h"

#include <string>

#include "tensorrt/cuda_util.h"
#include "tensorrt/trt_version.h"

namespace int8detect {
namespace trt {
namespace {

Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  // The library that was loaded may be newer than the headers this module was compiled with.
  out.Set("libraryVersion", Napi::Number::New(env, getInferLibVersion()));
  Napi::Object compiled = Napi::Object::New(env);
  compiled.Set("major", kCompiledMajor);
  compiled.Set("minor", kCompiledMinor);
  compiled.Set("patch", kCompiledPatch);
  out.Set("compiled", compiled);
  Napi::Object capabilities = Napi::Object::New(env);
  capabilities.Set("implicitInt8", kHasImplicitInt8);
  capabilities.Set("precisionFlags", kHasPrecisionFlags);
  capabilities.Set("progressMonitor", kHasProgressMonitor);
  capabilities.Set("alwaysStronglyTyped", kAlwaysStronglyTyped);
  out.Set("capabilities", capabilities);

  int runtimeVersion = 0;
  int driverVersion = 0;
  std::string failure = CudaFailure(cudaRuntimeGetVersion(&runtimeVersion), "cudaRuntimeGetVersion");
  if (failure.empty()) failure = CudaFailure(cudaDriverGetVersion(&driverVersion), "cudaDriverGetVersion");
  out.Set("cudaRuntimeVersion", runtimeVersion);
  out.Set("cudaDriverVersion", driverVersion);
  int count = 0;
  if (failure.empty()) failure = CudaFailure(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  Napi::Array devices = Napi::Array::New(env);
  for (int i = 0; failure.empty() && i < count; i++) {
    cudaDeviceProp properties{};
    failure = CudaFailure(cudaGetDeviceProperties(&properties, i), "cudaGetDeviceProperties");
    if (!failure.empty()) break;
    Napi::Object device = Napi::Object::New(env);
    device.Set("index", i);
    device.Set("name", std::string(properties.name));
    device.Set("computeCapability", std::to_string(properties.major) + "." + std::to_string(properties.minor));
    device.Set("totalMemoryBytes", Napi::Number::New(env, static_cast<double>(properties.totalGlobalMem)));
    // Every Orin module reports "Orin" and 8.7: the SM count tells an AGX from an NX from a Nano,
    // and a plan tuned for one is not the best for another.
    device.Set("multiprocessors", properties.multiProcessorCount);
    device.Set("integrated", properties.integrated != 0);
    devices.Set(static_cast<uint32_t>(i), device);
  }
  out.Set("devices", devices);
  if (!failure.empty()) out.Set("cudaError", failure);
  return out;
}

}  // namespace

void InitDeviceInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
}

}  // namespace trt
}  // namespace int8detect
