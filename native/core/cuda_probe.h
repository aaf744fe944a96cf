#pragma once
#include <napi.h>

namespace int8detect {
void InitCudaProbe(Napi::Env env, Napi::Object exports);
}  // namespace int8detect
