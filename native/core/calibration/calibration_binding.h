// N-API glue for the calibration maths: the Histogram class (one streaming collector per
// tensor) and the per-channel weight functions. lib/quantize/*.ts validates every argument
// first; the checks here only keep a wrong call from reaching the maths.
#pragma once
#include <napi.h>

namespace int8detect {
void InitCalibration(Napi::Env env, Napi::Object exports);
}  // namespace int8detect
