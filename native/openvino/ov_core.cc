#include "openvino/ov_core.h"

#include <sstream>

namespace int8detect {
namespace ov_backend {

ov::Core& SharedCore() {
  // Never destroyed on purpose: unloading OpenVINO's plugins from a static destructor races with
  // TBB's own teardown at process exit. The pointer stays reachable, so leak checkers accept it.
  static ov::Core* core = new ov::Core();
  return *core;
}

std::vector<DeviceDescription> AvailableDevices() {
  std::vector<DeviceDescription> devices;
  for (const std::string& name : SharedCore().get_available_devices()) {
    DeviceDescription device;
    device.name = name;
    try {
      device.fullName = SharedCore().get_property(name, ov::device::full_name);
      device.capabilities = SharedCore().get_property(name, ov::device::capabilities);
    } catch (const std::exception&) {
      // A device that lists itself but cannot describe itself is still worth naming.
    }
    devices.push_back(std::move(device));
  }
  return devices;
}

std::string OpenVinoMessage(const std::exception& err) {
  std::istringstream in(err.what());
  std::string line;
  std::string out;
  while (std::getline(in, line)) {
    if (line.rfind("Exception from ", 0) == 0) continue;
    if (line.rfind("Check '", 0) == 0 && line.find("' failed at ") != std::string::npos) continue;
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    if (!out.empty()) out += " ";
    out += line.substr(first);
  }
  return out.empty() ? std::string(err.what()) : out;
}

std::string DescribeDevices(const std::vector<DeviceDescription>& devices) {
  if (devices.empty()) return "none";
  std::ostringstream out;
  for (size_t i = 0; i < devices.size(); i++) {
    if (i > 0) out << ", ";
    out << devices[i].name;
    if (!devices[i].fullName.empty()) out << " (" << devices[i].fullName << ")";
  }
  return out.str();
}

namespace {

bool IsVirtualDevice(const std::string& name) {
  return name == "AUTO" || name == "MULTI" || name == "HETERO" || name == "BATCH";
}

// "GPU" names GPU.0 when OpenVINO numbers its GPUs; "GPU.1" must be listed as such.
bool IsPresent(const std::string& name, const std::vector<DeviceDescription>& devices) {
  for (const DeviceDescription& device : devices) {
    if (device.name == name) return true;
    if (device.name.rfind(name + ".", 0) == 0) return true;
  }
  return false;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

}  // namespace

std::string CheckDevice(const std::string& device) {
  const size_t colon = device.find(':');
  const std::string head = device.substr(0, colon);
  std::vector<std::string> wanted;
  if (IsVirtualDevice(head)) {
    if (colon != std::string::npos) wanted = SplitList(device.substr(colon + 1));
  } else {
    wanted.push_back(device);
  }
  if (wanted.empty()) return "";
  const std::vector<DeviceDescription> devices = AvailableDevices();
  for (const std::string& name : wanted) {
    if (!IsPresent(name, devices)) {
      return "the OpenVINO device '" + name + "' is not present here; available devices: " + DescribeDevices(devices);
    }
  }
  return "";
}

}  // namespace ov_backend
}  // namespace int8detect
