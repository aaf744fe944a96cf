// limitMallocArenas(count) -> boolean: glibc gives each thread that meets contention an arena of
// its own (up to 8 per core), and a long-running server whose inference, decoder and HTTP threads
// each hold one keeps tens of MiB of freed memory it never returns. MALLOC_ARENA_MAX does the same
// but only when set before the process starts; mallopt(M_ARENA_MAX) applies from the call on, to
// threads that have no arena yet. False where the C library is not glibc (musl, macOS, Windows:
// their allocators have no such arenas), or where the allocator in use refuses it (AddressSanitizer's
// or a preloaded jemalloc answers mallopt in glibc's place).
#include "core/malloc_arenas.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common/option_reader.h"

namespace int8detect {
namespace {

Napi::Value LimitMallocArenas(const Napi::CallbackInfo& info) {
  const int64_t count = Argument(info, 0, "count").Integer(1, 64);
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), mallopt(M_ARENA_MAX, static_cast<int>(count)) == 1);
#else
  (void)count;
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace

void InitMallocArenas(Napi::Env env, Napi::Object exports) {
  exports.Set("limitMallocArenas", Napi::Function::New(env, LimitMallocArenas, "limitMallocArenas"));
}

}  // namespace int8detect
