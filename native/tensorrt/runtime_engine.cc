#include "tensorrt/runtime_engine.h"

#include <algorithm>
#include <cstring>

#include "common/half.h"
#include "tensorrt/trt_dims.h"

namespace int8detect {
namespace trt {
namespace {

// Element size and name of the types a detector's inputs and outputs use; false for the rest.
bool ElementType(nvinfer1::DataType type, size_t* size, const char** name) {
  switch (type) {
    case nvinfer1::DataType::kFLOAT:
      *size = 4, *name = "float32";
      return true;
    case nvinfer1::DataType::kHALF:
      *size = 2, *name = "float16";
      return true;
    case nvinfer1::DataType::kINT32:
      *size = 4, *name = "int32";
      return true;
    case nvinfer1::DataType::kINT8:
      *size = 1, *name = "int8";
      return true;
    case nvinfer1::DataType::kUINT8:
      *size = 1, *name = "uint8";
      return true;
    case nvinfer1::DataType::kBOOL:
      *size = 1, *name = "bool";
      return true;
#if NV_TENSORRT_MAJOR >= 10
    case nvinfer1::DataType::kINT64:
      *size = 8, *name = "int64";
      return true;
#endif
    default:
      return false;
  }
}

// The element type JavaScript exchanges for an engine type: FP16 travels as float32.
const char* ExchangeType(const char* engineType) { return std::string(engineType) == "float16" ? "float32" : engineType; }

}  // namespace

class ExecutionSlot {
 public:
  std::unique_ptr<nvinfer1::IExecutionContext> context;
  CudaStream stream;
  std::map<std::string, DeviceBuffer> device;
  std::map<std::string, PinnedBuffer> pinned;
};

std::unique_ptr<RuntimeEngine> RuntimeEngine::Load(const std::vector<uint8_t>& plan, const LoadOptions& options,
                                                   std::string* error) {
  std::unique_ptr<RuntimeEngine> engine(new RuntimeEngine());
  engine->device_ = options.device;
  *error = CudaFailure(cudaSetDevice(options.device), "cudaSetDevice");
  if (!error->empty()) return nullptr;
  engine->runtime_.reset(nvinfer1::createInferRuntime(engine->logger_));
  if (!engine->runtime_) {
    *error = "TensorRT could not create a runtime";
    return nullptr;
  }
  if (options.dlaCore >= 0) {
    if (options.dlaCore >= engine->runtime_->getNbDLACores()) {
      *error = "DLA core " + std::to_string(options.dlaCore) + " was requested, but this device has " +
               std::to_string(engine->runtime_->getNbDLACores());
      return nullptr;
    }
    engine->runtime_->setDLACore(options.dlaCore);
  }
  engine->engine_.reset(engine->runtime_->deserializeCudaEngine(plan.data(), plan.size()));
  if (!engine->engine_) {
    const std::string last = engine->logger_.LastError();
    *error = "TensorRT could not load the plan (built by another TensorRT version, for another GPU, or not a plan)" +
             (last.empty() ? std::string() : ": " + last);
    return nullptr;
  }
  bool dynamic = false;
  for (int32_t i = 0; i < engine->engine_->getNbIOTensors(); i++) {
    const char* name = engine->engine_->getIOTensorName(i);
    TensorDescription tensor;
    tensor.name = name;
    tensor.input = engine->engine_->getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
    size_t size = 0;
    const char* type = nullptr;
    if (!ElementType(engine->engine_->getTensorDataType(name), &size, &type)) {
      *error = "tensor '" + tensor.name + "' has a data type int8-detect cannot exchange (TensorRT DataType " +
               std::to_string(static_cast<int>(engine->engine_->getTensorDataType(name))) + ")";
      return nullptr;
    }
    tensor.engineType = type;
    tensor.type = ExchangeType(type);
    tensor.dims = FromDims(engine->engine_->getTensorShape(name));
    if (tensor.input && std::any_of(tensor.dims.begin(), tensor.dims.end(), [](int64_t d) { return d < 0; })) {
      dynamic = true;
      tensor.min = FromDims(engine->engine_->getProfileShape(name, 0, nvinfer1::OptProfileSelector::kMIN));
      tensor.opt = FromDims(engine->engine_->getProfileShape(name, 0, nvinfer1::OptProfileSelector::kOPT));
      tensor.max = FromDims(engine->engine_->getProfileShape(name, 0, nvinfer1::OptProfileSelector::kMAX));
    }
    engine->tensors_.push_back(std::move(tensor));
  }
  // Contexts of a dynamic-shape engine in concurrent use need a profile each.
  int contexts = std::max(1, options.contexts);
  if (dynamic) contexts = std::min(contexts, engine->engine_->getNbOptimizationProfiles());
  for (int c = 0; c < contexts; c++) {
    auto slot = std::make_unique<ExecutionSlot>();
    *error = slot->stream.Create();
    if (!error->empty()) return nullptr;
    slot->context.reset(engine->engine_->createExecutionContext());
    if (!slot->context) {
      *error = "TensorRT could not create execution context " + std::to_string(c) + " (out of GPU memory?)";
      return nullptr;
    }
    if (dynamic && c > 0) {
      if (!slot->context->setOptimizationProfileAsync(c, slot->stream.get())) {
        *error = "TensorRT refused optimization profile " + std::to_string(c) + " for execution context " + std::to_string(c);
        return nullptr;
      }
      *error = CudaFailure(cudaStreamSynchronize(slot->stream.get()), "cudaStreamSynchronize");
      if (!error->empty()) return nullptr;
    }
    engine->slots_.push_back(std::move(slot));
  }
  return engine;
}

RuntimeEngine::~RuntimeEngine() {
  cudaSetDevice(device_);
  slots_.clear();
  engine_.reset();
  runtime_.reset();
}

bool RuntimeEngine::Run(int slotIndex, const std::vector<InputView>& inputs, std::vector<OutputTensor>* outputs,
                        std::string* error) {
  if (slotIndex < 0 || slotIndex >= slots()) {
    *error = "execution slot " + std::to_string(slotIndex) + " does not exist (the engine has " + std::to_string(slots()) + ")";
    return false;
  }
  if (!(*error = CudaFailure(cudaSetDevice(device_), "cudaSetDevice")).empty()) return false;
  ExecutionSlot& slot = *slots_[static_cast<size_t>(slotIndex)];
  if (Enqueue(slot, inputs, outputs, error)) return true;
  // Copies may still be in flight on the stream: wait for them before the caller reuses (or frees)
  // the slot's buffers, whatever went wrong.
  const std::string pending = CudaFailure(cudaStreamSynchronize(slot.stream.get()), "cudaStreamSynchronize after the failure");
  if (!pending.empty()) *error += "; then " + pending;
  return false;
}

bool RuntimeEngine::Enqueue(ExecutionSlot& slot, const std::vector<InputView>& inputs, std::vector<OutputTensor>* outputs,
                            std::string* error) {
  const cudaStream_t stream = slot.stream.get();
  for (const TensorDescription& tensor : tensors_) {
    if (!tensor.input) continue;
    const auto given = std::find_if(inputs.begin(), inputs.end(), [&](const InputView& v) { return v.name == tensor.name; });
    if (given == inputs.end()) {
      *error = "no data was given for input '" + tensor.name + "'";
      return false;
    }
    nvinfer1::Dims shape;
    if (!ToDims(given->dims, &shape) || !slot.context->setInputShape(tensor.name.c_str(), shape)) {
      *error = "TensorRT refused the shape " + DimsText(given->dims) + " for input '" + tensor.name + "' (the engine has " +
               DimsText(tensor.dims) + (tensor.min.empty() ? "" : ", from " + DimsText(tensor.min) + " to " + DimsText(tensor.max)) + ")";
      return false;
    }
    size_t size = 0;
    const char* type = nullptr;
    ElementType(slot.context->getEngine().getTensorDataType(tensor.name.c_str()), &size, &type);
    const int64_t count = ElementCount(given->dims);
    // An FP16 input takes float32 data (what preprocessing makes), converted here.
    const bool widened = tensor.engineType == "float16" && given->type == "float32";
    const size_t givenElement = widened ? sizeof(float) : size;
    if (count < 0 || static_cast<size_t>(count) * givenElement != given->bytes) {
      *error = "input '" + tensor.name + "' of shape " + DimsText(given->dims) + " needs " +
               std::to_string(count < 0 ? 0 : static_cast<size_t>(count) * givenElement) + " bytes of " + tensor.type + " but " +
               std::to_string(given->bytes) + " were given";
      return false;
    }
    const size_t bytes = static_cast<size_t>(count) * size;
    PinnedBuffer& host = slot.pinned[tensor.name];
    DeviceBuffer& device = slot.device[tensor.name];
    if (!(*error = host.Reserve(std::max<size_t>(bytes, 1))).empty() || !(*error = device.Reserve(std::max<size_t>(bytes, 1))).empty()) {
      return false;
    }
    if (widened) {
      const auto* floats = static_cast<const float*>(given->data);
      auto* halves = static_cast<uint16_t*>(host.data());
      for (int64_t i = 0; i < count; i++) halves[i] = FloatToHalf(floats[i]);
    } else if (bytes > 0) {
      std::memcpy(host.data(), given->data, bytes);
    }
    *error = CudaFailure(cudaMemcpyAsync(device.data(), host.data(), bytes, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync (input)");
    if (!error->empty()) return false;
    if (!slot.context->setTensorAddress(tensor.name.c_str(), device.data())) {
      *error = "TensorRT refused the device address of input '" + tensor.name + "'";
      return false;
    }
  }
  outputs->clear();
  for (const TensorDescription& tensor : tensors_) {
    if (tensor.input) continue;
    OutputTensor output;
    output.name = tensor.name;
    output.dims = FromDims(slot.context->getTensorShape(tensor.name.c_str()));
    const int64_t count = ElementCount(output.dims);
    if (count < 0) {
      *error = "TensorRT could not work out the shape of output '" + tensor.name + "' " + DimsText(output.dims);
      return false;
    }
    size_t size = 0;
    const char* type = nullptr;
    ElementType(slot.context->getEngine().getTensorDataType(tensor.name.c_str()), &size, &type);
    output.type = type;
    output.bytes.resize(static_cast<size_t>(count) * size);
    DeviceBuffer& device = slot.device[tensor.name];
    if (!(*error = device.Reserve(std::max<size_t>(output.bytes.size(), 1))).empty()) return false;
    if (!(*error = slot.pinned[tensor.name].Reserve(std::max<size_t>(output.bytes.size(), 1))).empty()) return false;
    if (!slot.context->setTensorAddress(tensor.name.c_str(), device.data())) {
      *error = "TensorRT refused the device address of output '" + tensor.name + "'";
      return false;
    }
    outputs->push_back(std::move(output));
  }
  if (!slot.context->enqueueV3(stream)) {
    const std::string last = logger_.LastError();
    *error = "TensorRT could not run the engine" + (last.empty() ? std::string() : ": " + last);
    return false;
  }
  for (OutputTensor& output : *outputs) {
    *error = CudaFailure(cudaMemcpyAsync(slot.pinned[output.name].data(), slot.device[output.name].data(), output.bytes.size(),
                                         cudaMemcpyDeviceToHost, stream),
                         "cudaMemcpyAsync (output)");
    if (!error->empty()) return false;
  }
  if (!(*error = CudaFailure(cudaStreamSynchronize(stream), "cudaStreamSynchronize")).empty()) return false;
  for (OutputTensor& output : *outputs) {
    const void* host = slot.pinned[output.name].data();
    if (output.type != "float16") {
      if (!output.bytes.empty()) std::memcpy(output.bytes.data(), host, output.bytes.size());
      continue;
    }
    // FP16 outputs are returned as the float32 they are reported as (TensorDescription::type).
    const size_t count = output.bytes.size() / 2;
    std::vector<uint8_t> widened(count * sizeof(float));
    const auto* halves = static_cast<const uint16_t*>(host);
    for (size_t i = 0; i < count; i++) {
      const float value = HalfToFloat(halves[i]);
      std::memcpy(widened.data() + i * sizeof(float), &value, sizeof(float));
    }
    output.bytes.swap(widened);
    output.type = "float32";
  }
  return true;
}

}  // namespace trt
}  // namespace int8detect
