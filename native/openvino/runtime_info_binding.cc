// Synchronous on purpose: probe() calls it once per process, and listing devices takes milliseconds.
#include "openvino/runtime_info_binding.h"

#include <openvino/core/version.hpp>

#include "common/dims.h"
#include "openvino/ov_core.h"

namespace int8detect {
namespace ov_backend {
namespace {

Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  const ov::Version version = ov::get_openvino_version();
  out.Set("buildNumber", version.buildNumber ? version.buildNumber : "");
  out.Set("description", version.description ? version.description : "");
  Napi::Array devices = Napi::Array::New(env);
  try {
    const std::vector<DeviceDescription> found = AvailableDevices();
    for (uint32_t i = 0; i < found.size(); i++) {
      Napi::Object device = Napi::Object::New(env);
      device.Set("name", found[i].name);
      device.Set("fullName", found[i].fullName);
      device.Set("capabilities", StringsToArray(env, found[i].capabilities));
      devices.Set(i, device);
    }
  } catch (const std::exception& err) {
    out.Set("devicesError", "OpenVINO could not list its devices: " + OpenVinoMessage(err));
  }
  out.Set("devices", devices);
  return out;
}

}  // namespace

void InitRuntimeInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
}

}  // namespace ov_backend
}  // namespace int8detect
