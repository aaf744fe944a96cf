// N-API glue for the preprocessing kernels: preprocessSync(job) and preprocess(job) -> Promise.
#pragma once
#include <napi.h>

namespace int8detect {
void InitPreprocess(Napi::Env env, Napi::Object exports);
}  // namespace int8detect
