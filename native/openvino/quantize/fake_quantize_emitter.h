// The OpenVINO emitter of a quantization plan: FakeQuantize nodes on the float ov::Model where the
// plan (computed in TypeScript, runtime-independent) places them, optional bias shifts (fast bias
// correction), then IR (xml + bin) under the paths given. Pure C++: no JavaScript here.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "openvino/model_source.h"

namespace int8detect {
namespace ovq {

// One activation tensor: FakeQuantize(x, low, high, low, high, levels) read by the compute ops
// named in `consumers` (by their weight's tensor name); every compute op reading it when empty.
// Other readers (residual Add, Concat, the head) keep the float value.
struct ActivationFq {
  std::string tensor;
  std::vector<std::string> consumers;
  float low = 0.0f;
  float high = 0.0f;
  size_t levels = 256;
};

// One weight initializer: per-output-channel ranges along `axis` (symmetric), levels 255 or 256.
struct WeightFq {
  std::string tensor;
  int64_t axis = 0;
  std::vector<float> low;
  std::vector<float> high;
  size_t levels = 255;
};

// A bias initializer to which `delta` is added element by element (fast bias correction).
struct BiasShift {
  std::string tensor;
  std::vector<float> delta;
};

struct EmitJob {
  ov_backend::ModelSource model;
  std::vector<ActivationFq> activations;
  std::vector<WeightFq> weights;
  std::vector<BiasShift> biases;
  std::string xmlPath;
  std::string binPath;
};

struct EmitReport {
  size_t activationFakeQuantizes = 0;
  size_t weightFakeQuantizes = 0;
  size_t biasesShifted = 0;
  // Plan entries that had no effect, each with the reason (e.g. no compute op reads the tensor).
  std::vector<std::string> warnings;
};

// Throws std::exception (std::invalid_argument for a plan that does not fit the model) on failure;
// writes nothing but the two files, and those only once every node is in place.
EmitReport EmitFakeQuantizeIr(const EmitJob& job);

}  // namespace ovq
}  // namespace int8detect
