// One build, start to end: parse, configure, build, collect what the caller keeps. Every failure
// returns a message naming what was wrong, with TensorRT's own last error where it gave one.
#include "tensorrt/engine_builder.h"

#include <NvOnnxParser.h>

#include <algorithm>
#include <map>
#include <type_traits>
#include <vector>

#include "tensorrt/calibrator.h"
#include "tensorrt/cuda_util.h"
#include "tensorrt/trt_dims.h"
#include "tensorrt/trt_logger.h"
#include "tensorrt/trt_version.h"

namespace int8detect {
namespace trt {
namespace {

#if INT8_DETECT_TRT_IMPLICIT_INT8
int64_t Elements(const std::vector<int64_t>& dims) {
  int64_t count = 1;
  for (const int64_t d : dims) count *= d;
  return count;
}
#endif

#if INT8_DETECT_TRT_PROGRESS_MONITOR
// TensorRT's progress callbacks, passed on; returning false from stepComplete cancels the build.
class ProgressAdapter final : public nvinfer1::IProgressMonitor {
 public:
  explicit ProgressAdapter(BuildObserver* observer) : observer_(observer) {}
  void phaseStart(char const* phase, char const* parent, int32_t steps) noexcept override {
    try {
      observer_->PhaseStart(phase ? phase : "", parent ? parent : "", steps);
    } catch (...) {
    }
  }
  bool stepComplete(char const* phase, int32_t step) noexcept override {
    try {
      observer_->StepComplete(phase ? phase : "", step);
      return observer_->CancelReason().empty();
    } catch (...) {
      return false;
    }
  }
  void phaseFinish(char const* phase) noexcept override {
    try {
      observer_->PhaseFinish(phase ? phase : "");
    } catch (...) {
    }
  }

 private:
  BuildObserver* observer_;
};
#endif

const char* PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return "fp32";
    case Precision::kFp16:
      return "fp16";
    case Precision::kInt8:
      return "int8";
  }
  return "?";
}

class PlanBuilder {
 public:
  PlanBuilder(const BuildSettings& settings, std::shared_ptr<CalibrationBridge> bridge, BuildObserver* observer)
      : settings_(settings), bridge_(std::move(bridge)), observer_(observer) {}

  BuildResult Run() {
    std::string failure = CudaFailure(cudaSetDevice(settings_.device), "cudaSetDevice");
    if (!failure.empty()) return Fail(failure);
    builder_.reset(nvinfer1::createInferBuilder(logger_));
    if (!builder_) return Fail("TensorRT could not create a builder");
    uint32_t flags = 0;
#if INT8_DETECT_TRT_EXPLICIT_BATCH_FLAG
    flags |= 1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
#endif
    network_.reset(builder_->createNetworkV2(flags));
    if (!network_) return Fail("TensorRT could not create a network definition");
    parser_.reset(nvonnxparser::createParser(*network_, logger_));
    if (!parser_) return Fail("TensorRT could not create its ONNX parser");
    if (!parser_->parse(settings_.model.data(), settings_.model.size(),
                        settings_.modelPath.empty() ? nullptr : settings_.modelPath.c_str())) {
      return Fail("TensorRT's ONNX parser rejected " + settings_.modelPath + ": " + ParserErrors());
    }
    config_.reset(builder_->createBuilderConfig());
    if (!config_) return Fail("TensorRT could not create a builder config");
    if (settings_.workspaceBytes > 0) {
      config_->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, settings_.workspaceBytes);
    }
    if (!(failure = ConfigureShapes()).empty()) return Fail(failure);
    if (!(failure = ConfigurePrecision()).empty()) return Fail(failure);
    if (!(failure = ConfigureDla()).empty()) return Fail(failure);
    ConfigureTimingCache();
#if INT8_DETECT_TRT_PROGRESS_MONITOR
    ProgressAdapter progress(observer_);
    config_->setProgressMonitor(&progress);
#endif
    std::unique_ptr<nvinfer1::IHostMemory> plan(builder_->buildSerializedNetwork(*network_, *config_));
#if INT8_DETECT_TRT_PROGRESS_MONITOR
    config_->setProgressMonitor(nullptr);
#endif
    // A calibrator failure makes TensorRT finish with the batches it had: the build must still fail.
    if (!(failure = CalibrationFailure()).empty()) return Fail(failure);
    const std::string cancelled = observer_->CancelReason();
    if (!cancelled.empty()) return Fail("the build was aborted: " + cancelled);
    if (!plan || plan->size() == 0) {
      const std::string last = logger_.LastError();
      return Fail(std::string("TensorRT could not build a ") + PrecisionName(settings_.precision) + " engine of " +
                  settings_.modelPath + (last.empty() ? "" : ": " + last));
    }
    BuildResult result;
    result.ok = true;
    const auto* bytes = static_cast<const uint8_t*>(plan->data());
    result.plan.assign(bytes, bytes + plan->size());
    CollectTimingCache(&result);
#if INT8_DETECT_TRT_IMPLICIT_INT8
    if (feed_) {
      result.calibrationCache = feed_->WrittenCache();
      result.calibrationBatches = feed_->Batches();
    }
#endif
    result.log = logger_.Messages();
    return result;
  }

 private:
  BuildResult Fail(const std::string& message) {
    BuildResult result;
    result.error = message;
    result.log = logger_.Messages();
    return result;
  }

  std::string ParserErrors() const {
    std::string text;
    const int count = parser_->getNbErrors();
    for (int i = 0; i < count && i < 5; i++) {
      const nvonnxparser::IParserError* error = parser_->getError(i);
      if (error == nullptr) continue;
      text += (i ? "; " : "") + std::string(error->desc()) + " (node " + std::to_string(error->node()) + ")";
    }
    if (count > 5) text += "; and " + std::to_string(count - 5) + " more";
    if (text.empty()) text = logger_.LastError();
    return text.empty() ? "no reason given" : text;
  }

  const InputShape* ShapeOf(const std::string& name) const {
    for (const InputShape& shape : settings_.inputShapes) {
      if (shape.name == name) return &shape;
    }
    return nullptr;
  }

  // Dynamic inputs get `profiles` identical optimization profiles from their min/opt/max shapes.
  std::string ConfigureShapes() {
    std::vector<std::pair<std::string, const InputShape*>> dynamic;
    for (int32_t i = 0; i < network_->getNbInputs(); i++) {
      const nvinfer1::ITensor* input = network_->getInput(i);
      const std::string name = input->getName();
      const std::vector<int64_t> dims = FromDims(input->getDimensions());
      const InputShape* shape = ShapeOf(name);
      const bool isDynamic = std::any_of(dims.begin(), dims.end(), [](int64_t d) { return d < 0; });
      if (shape != nullptr) {
        for (const auto* given : {&shape->min, &shape->opt, &shape->max}) {
          if (given->size() != dims.size()) {
            return "input '" + name + "' has " + std::to_string(dims.size()) + " dimensions " + DimsText(dims) +
                   " but its shape was given as " + DimsText(*given);
          }
          for (size_t d = 0; d < dims.size(); d++) {
            if (dims[d] >= 0 && (*given)[d] != dims[d]) {
              return "input '" + name + "' has the fixed shape " + DimsText(dims) + " but its shape was given as " +
                     DimsText(*given);
            }
          }
        }
      }
      if (isDynamic && shape == nullptr) {
        return "input '" + name + "' has dynamic dimensions " + DimsText(dims) +
               ": give its min, opt and max shapes (inputShapes) to build an optimization profile";
      }
      if (input->getType() == nvinfer1::DataType::kFLOAT) calibrationShape_[name] = isDynamic ? shape->opt : dims;
      if (isDynamic) dynamic.emplace_back(name, shape);
    }
    if (dynamic.empty()) return std::string();
    const int profiles = std::max(1, settings_.profiles);
    for (int p = 0; p < profiles; p++) {
      nvinfer1::IOptimizationProfile* profile = builder_->createOptimizationProfile();
      if (profile == nullptr) return "TensorRT could not create an optimization profile";
      for (const auto& [name, shape] : dynamic) {
        if (!profile->setDimensions(name.c_str(), nvinfer1::OptProfileSelector::kMIN, ToDims(shape->min)) ||
            !profile->setDimensions(name.c_str(), nvinfer1::OptProfileSelector::kOPT, ToDims(shape->opt)) ||
            !profile->setDimensions(name.c_str(), nvinfer1::OptProfileSelector::kMAX, ToDims(shape->max))) {
          return "TensorRT refused the shapes of input '" + name + "': min " + DimsText(shape->min) + ", opt " +
                 DimsText(shape->opt) + ", max " + DimsText(shape->max) + " (each must be <= the next)";
        }
      }
      if (config_->addOptimizationProfile(profile) < 0) return "TensorRT refused optimization profile " + std::to_string(p);
      if (p == 0) firstProfile_ = profile;
    }
    return std::string();
  }

  std::string ConfigurePrecision() {
    switch (settings_.precision) {
      case Precision::kFp32:
        return std::string();
      case Precision::kFp16:
#if INT8_DETECT_TRT_PRECISION_FLAGS
        config_->setFlag(nvinfer1::BuilderFlag::kFP16);
        return std::string();
#else
        return "TensorRT " + std::to_string(kCompiledMajor) +
               " builds strongly typed networks and has no FP16 flag: give an FP16 ONNX model, or build fp32 or int8";
#endif
      case Precision::kInt8:
        break;
    }
    if (settings_.int8Mode == Int8Mode::kExplicit) {
#if INT8_DETECT_TRT_PRECISION_FLAGS
      // Q/DQ nodes fix which tensors are INT8; the rest may run in FP16 rather than FP32.
      config_->setFlag(nvinfer1::BuilderFlag::kINT8);
      config_->setFlag(nvinfer1::BuilderFlag::kFP16);
#endif
      return std::string();
    }
    if (settings_.int8Mode != Int8Mode::kImplicit) return "precision int8 needs an INT8 mode: implicit or explicit";
#if INT8_DETECT_TRT_IMPLICIT_INT8
    if (calibrationShape_.size() != 1 || network_->getNbInputs() != 1) {
      return "implicit INT8 calibration feeds models with one float input; " + settings_.modelPath + " has " +
             std::to_string(network_->getNbInputs()) + " inputs";
    }
    const auto& [inputName, shape] = *calibrationShape_.begin();
    if (bridge_ && static_cast<int64_t>(bridge_->elementsPerBatch()) != Elements(shape)) {
      return "the calibrator's batches hold " + std::to_string(bridge_->elementsPerBatch()) + " values, but input '" +
             inputName + "' of shape " + DimsText(shape) + " needs " + std::to_string(Elements(shape));
    }
    if (!bridge_ && settings_.calibrationCache.empty()) {
      return "implicit INT8 needs a calibrator or a calibration cache, and neither was given";
    }
    feed_ = std::make_unique<BatchFeed>(bridge_, inputName, settings_.calibrationCache);
    calibrator_ = MakeCalibrator(settings_.calibrator, feed_.get());
    config_->setFlag(nvinfer1::BuilderFlag::kINT8);
    config_->setFlag(nvinfer1::BuilderFlag::kFP16);
    INT8_DETECT_ALLOW_DEPRECATED_BEGIN
    config_->setInt8Calibrator(calibrator_.get());
    if (firstProfile_ != nullptr && !config_->setCalibrationProfile(firstProfile_)) {
      return "TensorRT refused the calibration profile";
    }
    INT8_DETECT_ALLOW_DEPRECATED_END
    return std::string();
#else
    return "TensorRT " + std::to_string(kCompiledMajor) +
           " has no implicit INT8 (calibrators and calibration caches): give a Q/DQ ONNX model for explicit INT8";
#endif
  }

  std::string ConfigureDla() {
    if (settings_.dlaCore < 0) return std::string();
    const int32_t cores = builder_->getNbDLACores();
    if (settings_.dlaCore >= cores) {
      return "DLA core " + std::to_string(settings_.dlaCore) + " was requested, but this device has " +
             std::to_string(cores) + " DLA core" + (cores == 1 ? "" : "s");
    }
    if (settings_.precision == Precision::kFp32) return "DLA runs FP16 and INT8 only: build fp16 or int8 for a DLA core";
    config_->setDefaultDeviceType(nvinfer1::DeviceType::kDLA);
    config_->setDLACore(settings_.dlaCore);
    if (settings_.gpuFallback) config_->setFlag(nvinfer1::BuilderFlag::kGPU_FALLBACK);
    return std::string();
  }

  // A timing cache from another TensorRT version or GPU is refused by TensorRT: start empty then.
  void ConfigureTimingCache() {
    const void* blob = settings_.timingCache.empty() ? nullptr : settings_.timingCache.data();
    timingCache_.reset(config_->createTimingCache(blob, settings_.timingCache.size()));
    if (timingCache_ && config_->setTimingCache(*timingCache_, false)) return;
    timingCache_.reset(config_->createTimingCache(nullptr, 0));
    if (timingCache_) config_->setTimingCache(*timingCache_, false);
  }

  void CollectTimingCache(BuildResult* result) const {
    const nvinfer1::ITimingCache* cache = config_->getTimingCache();
    if (cache == nullptr) return;
    std::unique_ptr<nvinfer1::IHostMemory> serialized(cache->serialize());
    if (!serialized) return;
    const auto* bytes = static_cast<const uint8_t*>(serialized->data());
    result->timingCache.assign(bytes, bytes + serialized->size());
  }

  std::string CalibrationFailure() const {
#if INT8_DETECT_TRT_IMPLICIT_INT8
    if (feed_) return feed_->Failure();
#endif
    return std::string();
  }

  const BuildSettings& settings_;
  std::shared_ptr<CalibrationBridge> bridge_;
  BuildObserver* observer_;
  CollectingLogger logger_;
  // Declared in the order TensorRT needs them destroyed in reverse: parser and network before the builder.
  std::unique_ptr<nvinfer1::IBuilder> builder_;
  std::unique_ptr<nvinfer1::INetworkDefinition> network_;
  std::unique_ptr<nvonnxparser::IParser> parser_;
  std::unique_ptr<nvinfer1::IBuilderConfig> config_;
  std::unique_ptr<nvinfer1::ITimingCache> timingCache_;
  nvinfer1::IOptimizationProfile* firstProfile_ = nullptr;  // owned by the builder
  std::map<std::string, std::vector<int64_t>> calibrationShape_;
#if INT8_DETECT_TRT_IMPLICIT_INT8
  std::unique_ptr<BatchFeed> feed_;
  INT8_DETECT_ALLOW_DEPRECATED_BEGIN
  std::unique_ptr<nvinfer1::IInt8Calibrator> calibrator_;
  INT8_DETECT_ALLOW_DEPRECATED_END
#endif
};

}  // namespace

BuildResult BuildPlan(const BuildSettings& settings, std::shared_ptr<CalibrationBridge> bridge, BuildObserver* observer) {
  try {
    return PlanBuilder(settings, std::move(bridge), observer).Run();
  } catch (const std::exception& error) {
    BuildResult result;
    result.error = std::string("the TensorRT build failed: ") + error.what();
    return result;
  }
}

}  // namespace trt
}  // namespace int8detect
