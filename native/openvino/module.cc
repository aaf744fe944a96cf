// Registration only for int8_detect_openvino.node, the separately built, lazily loaded OpenVINO
// module: each concern exports its functions from its own file; quantization lives in quantize/.
#include <napi.h>

#include "openvino/convert_binding.h"
#include "openvino/quantize/quantize_binding.h"
#include "openvino/runtime_info_binding.h"
#include "openvino/session_binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  int8detect::ov_backend::InitRuntimeInfo(env, exports);
  int8detect::ov_backend::InitSession(env, exports);
  int8detect::ov_backend::InitConvert(env, exports);
  RegisterQuantizeBindings(env, exports);
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(int8_detect_openvino, Init)
