// The one ov::Core of the process, and the device list every error about devices quotes.
#pragma once
#include <openvino/runtime/core.hpp>

#include <string>
#include <vector>

namespace int8detect {
namespace ov_backend {

// ov::Core is thread-safe; one instance shares plugins and the compiled-model cache across engines.
ov::Core& SharedCore();

struct DeviceDescription {
  std::string name;      // "CPU", "GPU.0", "NPU"
  std::string fullName;  // FULL_DEVICE_NAME, e.g. "Intel(R) Core(TM) i7 ..."
  std::vector<std::string> capabilities;  // OPTIMIZATION_CAPABILITIES: "FP32", "INT8", "BF16", ...
};

// Every device OpenVINO's plugins find here; a device whose properties fail to read keeps its name.
std::vector<DeviceDescription> AvailableDevices();

// "CPU (AMD EPYC ...), GPU.0 (Intel(R) UHD ...)" for messages.
std::string DescribeDevices(const std::vector<DeviceDescription>& devices);

// OpenVINO's exception text without its source-location lines ("Exception from src/...:84:",
// "Check '...' failed at src/...:219:"), on one line: what a user can act on.
std::string OpenVinoMessage(const std::exception& err);

// Empty when `device` can compile here, else the reason naming the available devices. Virtual
// devices (AUTO, MULTI, HETERO, BATCH) are checked by the devices they list after ':'.
std::string CheckDevice(const std::string& device);

}  // namespace ov_backend
}  // namespace int8detect
