// Exports runtimeInfo() -> { version, buildNumber, devices: [{ name, fullName, capabilities }], devicesError? }.
#pragma once
#include <napi.h>

namespace int8detect {
namespace ov_backend {
void InitRuntimeInfo(Napi::Env env, Napi::Object exports);
}  // namespace ov_backend
}  // namespace int8detect
