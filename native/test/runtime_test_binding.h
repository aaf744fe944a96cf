// Exports into the test-only module the TensorRT runtime's pieces that need no TensorRT:
// testSlotThreads (one thread per execution slot), testHalf (float32 <-> FP16 as Run converts
// inputs and outputs) and testReadTensorRtDims (the shape reader that bounds dims at 8).
#pragma once
#include <napi.h>

namespace int8detect {
void InitRuntimeTest(Napi::Env env, Napi::Object exports);
}  // namespace int8detect
