#pragma once
#include <napi.h>

namespace int8detect {
// Exports limitMallocArenas(count): caps glibc's malloc arenas for threads that start later.
void InitMallocArenas(Napi::Env env, Napi::Object exports);
}  // namespace int8detect
