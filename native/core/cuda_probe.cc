#include "core/cuda_probe.h"

namespace int8detect {
void InitCudaProbe(Napi::Env, Napi::Object) {}
}  // namespace int8detect
