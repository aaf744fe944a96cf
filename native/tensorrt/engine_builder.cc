// One build, start to end: parse, configure, build, collect what the caller keeps. Every failure
// returns a message naming what was wrong, with TensorRT's own last error where it gave one.
#include "tensorrt/engine_builder.h"

#include <NvOnnxParser.h>

#include <algorithm>
#include <map>
#include <type_traits>
#include <vector>

#include "calibration_bridge/calibration_feed.h"
#include "tensorrt/calibrator.h"
#include "tensorrt/cuda_util.h"
#include "tensorrt/trt_dims.h"
#include "tensorrt/trt_logger.h"
#include "tensorrt/trt_version.h"

namespace int8detect {
namespace trt {
namespace {

#if INT8_DETECT_TRT_PRECISION_FLAGS
// BuilderFlag::kFP16 and kINT8 are deprecated from TensorRT 10.12 (weakly typed networks are on
// their way out) and gone in 11, but 10.x still needs them for FP16 and implicit INT8 builds: the
// deprecation is silenced for these two calls only, so -Werror catches every other one.
void EnableFp16(nvinfer1::IBuilderConfig& config) {
  INT8_DETECT_ALLOW_DEPRECATED_BEGIN
  config.setFlag(nvinfer1::BuilderFlag::kFP16);
  INT8_DETECT_ALLOW_DEPRECATED_END
}

void EnableInt8(nvinfer1::IBuilderConfig& config) {
  INT8_DETECT_ALLOW_DEPRECATED_BEGIN
  config.setFlag(nvinfer1::BuilderFlag::kINT8);
  INT8_DETECT_ALLOW_DEPRECATED_END
}
#endif

#if INT8_DETECT_TRT_PROGRESS_MONITOR
// TensorRT's progress callbacks, passed on; returning false from stepComplete cancels the build,
// which the monitor asks for once the build is aborted or the calibration feed has failed.
class ProgressAdapter final : public nvinfer1::IProgressMonitor {
 public:
  explicit ProgressAdapter(BuildMonitor* monitor) : monitor_(monitor) {}
  void phaseStart(char const* phase, char const* parent, int32_t steps) noexcept override {
    try {
      monitor_->PhaseStart(phase ? phase : "", parent ? parent : "", steps);
    } catch (...) {
    }
  }
  bool stepComplete(char const* phase, int32_t step) noexcept override {
    try {
      return monitor_->StepComplete(phase ? phase : "", step);
    } catch (...) {
      return false;
    }
  }
  void phaseFinish(char const* phase) noexcept override {
    try {
      monitor_->PhaseFinish(phase ? phase : "");
    } catch (...) {
    }
  }

 private:
  BuildMonitor* monitor_;
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
  PlanBuilder(const BuildSettings& settings, BuildMonitor* monitor) : settings_(settings), monitor_(monitor) {}

  BuildResult Run() {
    std::string failure = CudaFailure(cudaSetDevice(settings_.device), "cudaSetDevice");
    if (!failure.empty()) return Fail(BuildFailure::kBuild, failure);
    builder_.reset(nvinfer1::createInferBuilder(logger_));
    if (!builder_) return Fail(BuildFailure::kBuild, "TensorRT could not create a builder");
    uint32_t flags = 0;
#if INT8_DETECT_TRT_EXPLICIT_BATCH_FLAG
    flags |= 1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
#endif
    network_.reset(builder_->createNetworkV2(flags));
    if (!network_) return Fail(BuildFailure::kBuild, "TensorRT could not create a network definition");
    parser_.reset(nvonnxparser::createParser(*network_, logger_));
    if (!parser_) return Fail(BuildFailure::kBuild, "TensorRT could not create its ONNX parser");
    if (!parser_->parse(settings_.model.data(), settings_.model.size(),
                        settings_.modelPath.empty() ? nullptr : settings_.modelPath.c_str())) {
      return Fail(BuildFailure::kBuild, "TensorRT's ONNX parser rejected " + settings_.modelPath + ": " + ParserErrors());
    }
    config_.reset(builder_->createBuilderConfig());
    if (!config_) return Fail(BuildFailure::kBuild, "TensorRT could not create a builder config");
    if (settings_.workspaceBytes > 0) {
      config_->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, settings_.workspaceBytes);
    }
    if (!(failure = ConfigureShapes()).empty()) return Fail(BuildFailure::kSettings, failure);
    if (!(failure = ConfigurePrecision()).empty()) return Fail(BuildFailure::kSettings, failure);
    if (!(failure = ConfigureDla()).empty()) return Fail(BuildFailure::kSettings, failure);
    ConfigureTimingCache();
#if INT8_DETECT_TRT_PROGRESS_MONITOR
    ProgressAdapter progress(monitor_);
    config_->setProgressMonitor(&progress);
#endif
    std::unique_ptr<nvinfer1::IHostMemory> plan(builder_->buildSerializedNetwork(*network_, *config_));
#if INT8_DETECT_TRT_PROGRESS_MONITOR
    config_->setProgressMonitor(nullptr);
#endif
    // An abort, or a calibrator failure (TensorRT read it as the end of the data and went on with
    // the batches it had), fails the build even when TensorRT finished it (TensorRT 8.6 has no
    // progress monitor to stop it early).
    const std::string aborted = monitor_->AbortReason();
    if (!aborted.empty()) return Fail(BuildFailure::kAborted, "the build was aborted: " + aborted);
    if (!(failure = CalibrationFailure()).empty()) return Fail(BuildFailure::kCalibration, failure);
    if (!plan || plan->size() == 0) {
      const std::string last = logger_.LastError();
      return Fail(BuildFailure::kBuild, std::string("TensorRT could not build a ") + PrecisionName(settings_.precision) +
                                            " engine of " + settings_.modelPath + (last.empty() ? "" : ": " + last));
    }
    BuildResult result;
    result.ok = true;
    const auto* bytes = static_cast<const uint8_t*>(plan->data());
    result.plan.assign(bytes, bytes + plan->size());
    CollectTimingCache(&result);
    if (feed_) {
      result.calibrationCache = feed_->WrittenCache();
      result.calibrationBatches = feed_->Batches();
    }
    result.log = logger_.Messages();
    return result;
  }

 private:
  BuildResult Fail(BuildFailure failure, const std::string& message) {
    BuildResult result;
    result.failure = failure;
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
        nvinfer1::Dims min, opt, max;
        // ConfigureShapes checked the ranks against the network's, which TensorRT bounds at MAX_DIMS.
        if (!ToDims(shape->min, &min) || !ToDims(shape->opt, &opt) || !ToDims(shape->max, &max) ||
            !profile->setDimensions(name.c_str(), nvinfer1::OptProfileSelector::kMIN, min) ||
            !profile->setDimensions(name.c_str(), nvinfer1::OptProfileSelector::kOPT, opt) ||
            !profile->setDimensions(name.c_str(), nvinfer1::OptProfileSelector::kMAX, max)) {
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
        EnableFp16(*config_);
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
      EnableInt8(*config_);
      EnableFp16(*config_);
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
    const std::shared_ptr<CalibrationBridge>& bridge = monitor_->bridge();
    if (bridge && static_cast<int64_t>(bridge->elementsPerBatch()) != ElementCount(shape)) {
      return "the calibrator's batches hold " + std::to_string(bridge->elementsPerBatch()) + " values, but input '" +
             inputName + "' of shape " + DimsText(shape) + " needs " + std::to_string(ElementCount(shape));
    }
    if (!bridge && settings_.calibrationCache.empty()) {
      return "implicit INT8 needs a calibrator or a calibration cache, and neither was given";
    }
    if (settings_.dlaCore >= 0 && settings_.calibrator != CalibratorKind::kEntropy2) {
      return "DLA core " + std::to_string(settings_.dlaCore) +
             " needs the Entropy2 calibrator (IInt8EntropyCalibrator2), the only one DLA accepts: calibrate with "
             "'entropy2', or build for the GPU";
    }
    feed_ = std::make_shared<CalibrationFeed>(bridge, inputName, settings_.calibrationCache);
    monitor_->Watch(feed_);
    deviceFeed_ = std::make_unique<DeviceBatchFeed>(feed_);
    calibrator_ = MakeCalibrator(settings_.calibrator, deviceFeed_.get());
    EnableInt8(*config_);
    EnableFp16(*config_);
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
  // TensorRT logs the refusal as an error, which must not become the "last error" quoted by an
  // unrelated failure later in the build: it is forgotten, and a warning says what happened.
  void ConfigureTimingCache() {
    const void* blob = settings_.timingCache.empty() ? nullptr : settings_.timingCache.data();
    timingCache_.reset(config_->createTimingCache(blob, settings_.timingCache.size()));
    if (timingCache_ && config_->setTimingCache(*timingCache_, false)) return;
    if (!settings_.timingCache.empty()) {
      logger_.ForgetLastError();
      logger_.log(nvinfer1::ILogger::Severity::kWARNING,
                  ("the timing cache (" + std::to_string(settings_.timingCache.size()) +
                   " bytes) was refused (another TensorRT version or GPU?): the build starts with an empty one")
                      .c_str());
    }
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

  std::string CalibrationFailure() const { return feed_ ? feed_->Failure() : std::string(); }

  const BuildSettings& settings_;
  BuildMonitor* monitor_;
  CollectingLogger logger_;
  // Declared in the order TensorRT needs them destroyed in reverse: parser and network before the builder.
  std::unique_ptr<nvinfer1::IBuilder> builder_;
  std::unique_ptr<nvinfer1::INetworkDefinition> network_;
  std::unique_ptr<nvonnxparser::IParser> parser_;
  std::unique_ptr<nvinfer1::IBuilderConfig> config_;
  std::unique_ptr<nvinfer1::ITimingCache> timingCache_;
  nvinfer1::IOptimizationProfile* firstProfile_ = nullptr;  // owned by the builder
  std::map<std::string, std::vector<int64_t>> calibrationShape_;
  std::shared_ptr<CalibrationFeed> feed_;
#if INT8_DETECT_TRT_IMPLICIT_INT8
  std::unique_ptr<DeviceBatchFeed> deviceFeed_;
  INT8_DETECT_ALLOW_DEPRECATED_BEGIN
  std::unique_ptr<nvinfer1::IInt8Calibrator> calibrator_;
  INT8_DETECT_ALLOW_DEPRECATED_END
#endif
};

}  // namespace

BuildResult BuildPlan(const BuildSettings& settings, BuildMonitor* monitor) {
  try {
    return PlanBuilder(settings, monitor).Run();
  } catch (const std::exception& error) {
    BuildResult result;
    result.failure = BuildFailure::kBuild;
    result.error = std::string("the TensorRT build failed: ") + error.what();
    return result;
  }
}

}  // namespace trt
}  // namespace int8detect
