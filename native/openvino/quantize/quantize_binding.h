// JavaScript bindings of OpenVINO post-training quantization, registered by the OpenVINO module's
// init: emitFakeQuantizeIr(job) and createStatisticsRunner(options).
#pragma once

#include <napi.h>

void RegisterQuantizeBindings(Napi::Env env, Napi::Object exports);
