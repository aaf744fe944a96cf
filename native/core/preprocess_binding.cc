#include "core/preprocess_binding.h"

namespace int8detect {
void InitPreprocess(Napi::Env, Napi::Object) {}
}  // namespace int8detect
