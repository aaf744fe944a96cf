// Finds NVIDIA GPUs through the CUDA driver API, loaded at run time: the addon builds and
// loads on machines without CUDA, and every failure becomes a reason, never a crash.
#include "core/cuda_probe.h"

#include <cstddef>
#include <string>
#include <vector>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#define INT8_DETECT_CUDAAPI __stdcall
#else
#include <dlfcn.h>
#define INT8_DETECT_CUDAAPI
#endif

namespace int8detect {
namespace {

// The driver API is a stable C ABI; these are the few types and values cuda.h would give us.
using CUresult = int;
using CUdevice = int;
constexpr CUresult kCudaSuccess = 0;
constexpr int kAttributeMultiprocessorCount = 16;
constexpr int kAttributeComputeCapabilityMajor = 75;
constexpr int kAttributeComputeCapabilityMinor = 76;

using CuInit = CUresult(INT8_DETECT_CUDAAPI*)(unsigned int flags);
using CuDriverGetVersion = CUresult(INT8_DETECT_CUDAAPI*)(int* version);
using CuDeviceGetCount = CUresult(INT8_DETECT_CUDAAPI*)(int* count);
using CuDeviceGet = CUresult(INT8_DETECT_CUDAAPI*)(CUdevice* device, int ordinal);
using CuDeviceGetName = CUresult(INT8_DETECT_CUDAAPI*)(char* name, int length, CUdevice device);
using CuDeviceGetAttribute = CUresult(INT8_DETECT_CUDAAPI*)(int* value, int attribute, CUdevice device);
using CuDeviceTotalMem = CUresult(INT8_DETECT_CUDAAPI*)(size_t* bytes, CUdevice device);
using CuGetErrorText = CUresult(INT8_DETECT_CUDAAPI*)(CUresult error, const char** text);

struct CudaDevice {
  int index = 0;
  std::string name;
  int computeMajor = 0;
  int computeMinor = 0;
  size_t totalMemoryBytes = 0;
  int multiprocessors = 0;
};

struct CudaProbeResult {
  bool available = false;
  std::string reason;
  std::string library;
  bool hasDriverVersion = false;
  int driverVersion = 0;
  std::vector<CudaDevice> devices;
};

// The handle is deliberately never closed: the driver does not support being unloaded, and
// the probe runs once per process, so it is opened at most once.
struct DriverLibrary {
  void* handle = nullptr;
  std::string name;
};

#if defined(_WIN32)

std::string LastLoaderError() {
  const DWORD code = GetLastError();
  char text[512] = {0};
  const DWORD length = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code, 0, text,
                                      static_cast<DWORD>(sizeof(text)), nullptr);
  std::string message = length > 0 ? std::string(text, length) : std::string("unknown error");
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == ' ')) message.pop_back();
  return message + " (Windows error " + std::to_string(code) + ")";
}

bool OpenDriverLibrary(DriverLibrary* library, std::string* error) {
  const char* name = "nvcuda.dll";
  HMODULE module = LoadLibraryA(name);
  if (module == nullptr) {
    *error = std::string(name) + ": " + LastLoaderError();
    return false;
  }
  library->handle = reinterpret_cast<void*>(module);
  library->name = name;
  return true;
}

void* FindSymbol(const DriverLibrary& library, const char* symbol) {
  return reinterpret_cast<void*>(GetProcAddress(reinterpret_cast<HMODULE>(library.handle), symbol));
}

#else

std::string LastLoaderError() {
  const char* message = dlerror();
  return message != nullptr ? std::string(message) : std::string("unknown error");
}

bool OpenDriverLibrary(DriverLibrary* library, std::string* error) {
  // libcuda.so.1 is what the driver installs; the unversioned name exists only with dev packages.
  const char* const candidates[] = {"libcuda.so.1", "libcuda.so"};
  std::string failures;
  for (const char* name : candidates) {
    void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) {
      library->handle = handle;
      library->name = name;
      return true;
    }
    if (!failures.empty()) failures += "; ";
    failures += LastLoaderError();
  }
  *error = failures;
  return false;
}

void* FindSymbol(const DriverLibrary& library, const char* symbol) {
  dlerror();  // clear any stale error so a null result can be told apart
  return dlsym(library.handle, symbol);
}

#endif

struct DriverApi {
  CuInit init = nullptr;
  CuDriverGetVersion driverGetVersion = nullptr;
  CuDeviceGetCount deviceGetCount = nullptr;
  CuDeviceGet deviceGet = nullptr;
  CuDeviceGetName deviceGetName = nullptr;
  CuDeviceGetAttribute deviceGetAttribute = nullptr;
  CuDeviceTotalMem deviceTotalMem = nullptr;
  // Optional: only used to turn error codes into words.
  CuGetErrorText getErrorName = nullptr;
  CuGetErrorText getErrorString = nullptr;
};

template <typename Fn>
void Resolve(const DriverLibrary& library, const char* symbol, Fn* out, std::vector<std::string>* missing) {
  *out = reinterpret_cast<Fn>(FindSymbol(library, symbol));
  if (*out == nullptr && missing != nullptr) missing->push_back(symbol);
}

bool ResolveDriverApi(const DriverLibrary& library, DriverApi* api, std::string* error) {
  std::vector<std::string> missing;
  Resolve(library, "cuInit", &api->init, &missing);
  Resolve(library, "cuDriverGetVersion", &api->driverGetVersion, &missing);
  Resolve(library, "cuDeviceGetCount", &api->deviceGetCount, &missing);
  Resolve(library, "cuDeviceGet", &api->deviceGet, &missing);
  Resolve(library, "cuDeviceGetName", &api->deviceGetName, &missing);
  Resolve(library, "cuDeviceGetAttribute", &api->deviceGetAttribute, &missing);
  Resolve(library, "cuDeviceTotalMem_v2", &api->deviceTotalMem, &missing);
  Resolve(library, "cuGetErrorName", &api->getErrorName, nullptr);
  Resolve(library, "cuGetErrorString", &api->getErrorString, nullptr);
  if (missing.empty()) return true;
  std::string list;
  for (const std::string& symbol : missing) list += (list.empty() ? "" : ", ") + symbol;
  *error = "it does not export " + list;
  return false;
}

// "CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected", or "error 100" from an old driver.
std::string DescribeError(const DriverApi& api, CUresult code) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (api.getErrorName != nullptr && api.getErrorName(code, &name) != kCudaSuccess) name = nullptr;
  if (api.getErrorString != nullptr && api.getErrorString(code, &text) != kCudaSuccess) text = nullptr;
  std::string description = name != nullptr ? std::string(name) + " (" + std::to_string(code) + ")" : "error " + std::to_string(code);
  if (text != nullptr) description += std::string(": ") + text;
  return description;
}

bool QueryDevice(const DriverApi& api, int index, CudaDevice* device, std::string* error) {
  CUdevice handle = 0;
  CUresult rc = api.deviceGet(&handle, index);
  if (rc != kCudaSuccess) {
    *error = "cuDeviceGet(" + std::to_string(index) + ") failed with " + DescribeError(api, rc);
    return false;
  }
  char name[256] = {0};
  rc = api.deviceGetName(name, static_cast<int>(sizeof(name) - 1), handle);
  if (rc != kCudaSuccess) {
    *error = "cuDeviceGetName for device " + std::to_string(index) + " failed with " + DescribeError(api, rc);
    return false;
  }
  struct Attribute {
    int id;
    const char* what;
    int* out;
  };
  const Attribute attributes[] = {
      {kAttributeComputeCapabilityMajor, "compute capability major", &device->computeMajor},
      {kAttributeComputeCapabilityMinor, "compute capability minor", &device->computeMinor},
      {kAttributeMultiprocessorCount, "multiprocessor count", &device->multiprocessors},
  };
  for (const Attribute& attribute : attributes) {
    rc = api.deviceGetAttribute(attribute.out, attribute.id, handle);
    if (rc != kCudaSuccess) {
      *error = std::string("cuDeviceGetAttribute(") + attribute.what + ") for device " + std::to_string(index) +
               " failed with " + DescribeError(api, rc);
      return false;
    }
  }
  rc = api.deviceTotalMem(&device->totalMemoryBytes, handle);
  if (rc != kCudaSuccess) {
    *error = "cuDeviceTotalMem_v2 for device " + std::to_string(index) + " failed with " + DescribeError(api, rc);
    return false;
  }
  device->index = index;
  device->name = name;
  return true;
}

CudaProbeResult RunProbe() {
  CudaProbeResult result;
  DriverLibrary library;
  std::string error;
  if (!OpenDriverLibrary(&library, &error)) {
    result.reason = "no NVIDIA driver found (" + error + ")";
    return result;
  }
  result.library = library.name;
  DriverApi api;
  if (!ResolveDriverApi(library, &api, &error)) {
    result.reason = library.name + " is not a usable CUDA driver: " + error;
    return result;
  }
  // Asked before cuInit so the version is known even when initialisation fails.
  int version = 0;
  if (api.driverGetVersion(&version) == kCudaSuccess) {
    result.hasDriverVersion = true;
    result.driverVersion = version;
  }
  CUresult rc = api.init(0);
  if (rc != kCudaSuccess) {
    result.reason = library.name + " loaded, but cuInit failed with " + DescribeError(api, rc);
    return result;
  }
  int count = 0;
  rc = api.deviceGetCount(&count);
  if (rc != kCudaSuccess) {
    result.reason = library.name + " loaded, but cuDeviceGetCount failed with " + DescribeError(api, rc);
    return result;
  }
  if (count <= 0) {
    result.reason = library.name + " loaded and initialised, but it reports no CUDA devices";
    return result;
  }
  for (int index = 0; index < count; ++index) {
    CudaDevice device;
    if (!QueryDevice(api, index, &device, &error)) {
      result.devices.clear();
      result.reason = library.name + " loaded, but " + error;
      return result;
    }
    result.devices.push_back(device);
  }
  result.available = true;
  return result;
}

// Once per process (thread-safe static initialisation), shared by every worker thread's addon instance.
const CudaProbeResult& CachedProbe() {
  static const CudaProbeResult result = RunProbe();
  return result;
}

Napi::Object ToJavaScript(Napi::Env env, const CudaProbeResult& result) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("available", result.available);
  if (!result.reason.empty()) out.Set("reason", result.reason);
  if (!result.library.empty()) out.Set("library", result.library);
  if (result.hasDriverVersion) out.Set("driverVersion", result.driverVersion);
  Napi::Array devices = Napi::Array::New(env, result.devices.size());
  for (size_t i = 0; i < result.devices.size(); ++i) {
    const CudaDevice& device = result.devices[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("index", device.index);
    entry.Set("name", device.name);
    entry.Set("computeCapability", std::to_string(device.computeMajor) + "." + std::to_string(device.computeMinor));
    entry.Set("totalMemoryBytes", static_cast<double>(device.totalMemoryBytes));
    entry.Set("multiprocessors", device.multiprocessors);
    devices.Set(static_cast<uint32_t>(i), entry);
  }
  out.Set("devices", devices);
  return out;
}

Napi::Value CudaProbe(const Napi::CallbackInfo& info) {
  return ToJavaScript(info.Env(), CachedProbe());
}

}  // namespace

void InitCudaProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaProbe", Napi::Function::New(env, CudaProbe, "cudaProbe"));
}

}  // namespace int8detect
