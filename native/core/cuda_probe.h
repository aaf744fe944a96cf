#pragma once
#include <napi.h>

namespace int8detect {
// Exports cudaProbe(): the CUDA driver is loaded at run time, so the addon never needs CUDA to build or load.
void InitCudaProbe(Napi::Env env, Napi::Object exports);
}  // namespace int8detect
