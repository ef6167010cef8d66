// The only fil backend file that includes XGBoost.
#include "backends/fil/xgboost_model.h"

#include <xgboost/c_api.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/common/model_config_util.h"
#include "backends/fil/fil_options.h"
#include "inference/model_config.pb.h"
#include "sonic/common/data_type.h"
#include "sonic/common/status.h"

namespace sonic::backends::fil {

struct FilModel::State {
  std::string name;
  FilOptions options;
  std::filesystem::path file;
  std::string model_bytes;  // the file's contents; each instance loads its booster from them
  std::string input_name;
  std::string output_name;
  bool batched = false;         // max_batch_size > 0: dims exclude the rows
  int64_t features = 0;         // per row, from the model
  int64_t predicted_width = 0;  // XGBoost's values per row
  int64_t output_width = 0;
  int64_t nthread = 0;  // 0: XGBoost's default
};

namespace {

struct BoosterDeleter {
  void operator()(void* handle) const { XGBoosterFree(handle); }
};
using Booster = std::unique_ptr<void, BoosterDeleter>;

// XGBoost's last error without the stack trace it appends.
std::string XgboostError() {
  const char* message = XGBGetLastError();
  if (message == nullptr || *message == '\0') return "unknown XGBoost error";
  std::string text = message;
  const size_t trace = text.find("\nStack trace:");
  if (trace != std::string::npos) text.resize(trace);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

absl::StatusOr<Booster> LoadBooster(const FilModel::State& state) {
  BoosterHandle handle = nullptr;
  if (XGBoosterCreate(nullptr, 0, &handle) != 0) {
    return absl::InternalError(
        absl::StrCat("fil model '", state.name, "': XGBoosterCreate: ", XgboostError()));
  }
  Booster booster(handle);
  if (XGBoosterLoadModelFromBuffer(handle, state.model_bytes.data(), state.model_bytes.size()) !=
      0) {
    return absl::InvalidArgumentError(absl::StrCat("fil model '", state.name, "': cannot load ",
                                                   state.file.string(),
                                                   " as an XGBoost model: ", XgboostError()));
  }
  if (state.nthread > 0 &&
      XGBoosterSetParam(handle, "nthread", std::to_string(state.nthread).c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("fil model '", state.name, "': setting nthread: ", XgboostError()));
  }
  return booster;
}

// XGBoost's prediction for `rows` rows of `features` floats at `data` (read in place), its
// objective's transform applied; valid until the booster's next call. Sets `*width` to the values
// per row.
absl::StatusOr<std::span<const float>> Predict(const FilModel::State& state, void* booster,
                                               const float* data, int64_t rows, int64_t features,
                                               int64_t* width) {
  const std::string array =
      absl::StrCat("{\"data\": [", reinterpret_cast<uintptr_t>(data), ", true], \"shape\": [", rows,
                   ", ", features, "], \"typestr\": \"<f4\", \"version\": 3}");
  static constexpr char kConfig[] =
      "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
      "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDense(booster, array.c_str(), kConfig, nullptr, &shape, &dims, &result) !=
      0) {
    return absl::InternalError(
        absl::StrCat("fil model '", state.name, "': XGBoost prediction failed: ", XgboostError()));
  }
  uint64_t total = 1;
  for (bst_ulong i = 0; i < dims; ++i) total *= shape[i];
  if (rows == 0 || total % static_cast<uint64_t>(rows) != 0) {
    return absl::InternalError(absl::StrCat("fil model '", state.name, "': XGBoost returned ",
                                            total, " values for ", rows, " rows"));
  }
  *width = static_cast<int64_t>(total / static_cast<uint64_t>(rows));
  return std::span<const float>(result, total);
}

absl::StatusOr<std::string> ReadFile(const FilModel::State& state) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(state.file, error)) {
    return absl::InvalidArgumentError(absl::StrCat("fil model '", state.name, "': model file ",
                                                   state.file.string(), " does not exist"));
  }
  std::ifstream in(state.file, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("fil model '", state.name, "': cannot read ", state.file.string()));
  }
  return std::move(bytes).str();
}

// Whether `bytes` look like the format model_type names: XGBoost's JSON is an object whose keys
// are quoted, its UBJSON an object whose keys are length-prefixed, its binary format no object.
bool FormatMatches(ModelType type, std::string_view bytes) {
  size_t first = 0;
  while (first < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[first]))) ++first;
  const bool object = first < bytes.size() && bytes[first] == '{';
  size_t second = first + 1;
  while (second < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[second]))) {
    ++second;
  }
  const bool quoted_key = object && second < bytes.size() && bytes[second] == '"';
  switch (type) {
    case ModelType::kXgboostJson:
      return quoted_key;
    case ModelType::kXgboostUbj:
      return object && first == 0 && !quoted_key;
    case ModelType::kXgboost:
      return !object;
  }
  return false;
}

const char* TypeName(ModelType type) {
  switch (type) {
    case ModelType::kXgboostJson:
      return "xgboost_json (XGBoost JSON)";
    case ModelType::kXgboostUbj:
      return "xgboost_ubj (XGBoost UBJSON)";
    case ModelType::kXgboost:
      return "xgboost (XGBoost's binary format)";
  }
  return "";
}

// The last dim of `dims` (the per-row width), after checking the count: one dim when batched,
// [rows, width] otherwise.
absl::StatusOr<int64_t> RowWidth(const FilModel::State& state, const char* kind,
                                 const std::string& name,
                                 const google::protobuf::RepeatedField<int64_t>& dims) {
  const int expected = state.batched ? 1 : 2;
  if (dims.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fil model '", state.name, "': ", kind, " '", name, "' must have ", expected,
        state.batched ? " dim ([features or width], batch excluded)" : " dims ([rows, width])"));
  }
  return dims[dims.size() - 1];
}

absl::Status ReadTensors(const inference::ModelConfig& config, FilModel::State& state,
                         int64_t* input_width, int64_t* output_width) {
  if (config.input_size() != 1 || config.output_size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("fil model '", state.name, "': needs exactly one input and one output, has ",
                     config.input_size(), " and ", config.output_size()));
  }
  const auto fp32 = static_cast<int32_t>(DataType::kFp32);
  if (config.input(0).data_type() != fp32 || config.output(0).data_type() != fp32) {
    return absl::InvalidArgumentError(
        absl::StrCat("fil model '", state.name, "': input and output must be TYPE_FP32"));
  }
  state.input_name = config.input(0).name();
  state.output_name = config.output(0).name();
  SONIC_ASSIGN_OR_RETURN(*input_width,
                         RowWidth(state, "input", state.input_name, config.input(0).dims()));
  SONIC_ASSIGN_OR_RETURN(*output_width,
                         RowWidth(state, "output", state.output_name, config.output(0).dims()));
  return absl::OkStatus();
}

// Loads the model once to learn its features and prediction width, and checks them against the
// config's dims.
absl::Status InspectModel(FilModel::State& state, int64_t input_width, int64_t config_width) {
  SONIC_ASSIGN_OR_RETURN(Booster booster, LoadBooster(state));
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(booster.get(), &features) != 0) {
    return absl::InternalError(
        absl::StrCat("fil model '", state.name, "': XGBoosterGetNumFeature: ", XgboostError()));
  }
  state.features = static_cast<int64_t>(features);
  if (input_width != -1 && input_width != state.features) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fil model '", state.name, "': input '", state.input_name, "' has ", input_width,
        " features per row but the model in ", state.file.string(), " has ", state.features));
  }
  const std::vector<float> missing(static_cast<size_t>(state.features),
                                   std::numeric_limits<float>::quiet_NaN());
  SONIC_RETURN_IF_ERROR(
      Predict(state, booster.get(), missing.data(), 1, state.features, &state.predicted_width)
          .status());
  state.output_width = OutputWidth(state.options, state.predicted_width, config_width);
  if (config_width != -1 && config_width != state.output_width) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fil model '", state.name, "': output '", state.output_name, "' has width ", config_width,
        " but the model gives ", state.output_width, " value(s) per row with output_class ",
        state.options.output_class ? "true" : "false", " and predict_proba ",
        state.options.predict_proba ? "true" : "false"));
  }
  return absl::OkStatus();
}

}  // namespace

struct FilInstance::State {
  std::shared_ptr<const FilModel::State> model;
  Booster booster;
  std::vector<float> output;  // reused between executions
};

FilModel::FilModel(std::shared_ptr<const State> state) : state_(std::move(state)) {}
FilModel::~FilModel() = default;

absl::StatusOr<std::unique_ptr<FilModel>> FilModel::Create(const SonicBackendModelSpec& spec) {
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig config, ParseModelConfig(spec));
  auto state = std::make_shared<State>();
  state->name = spec.name == nullptr ? "" : spec.name;
  state->batched = config.max_batch_size() > 0;
  SONIC_ASSIGN_OR_RETURN(state->options, ReadFilOptions(config));
  SONIC_ASSIGN_OR_RETURN(state->nthread, GetIntParameter(config, "nthread", 0, 1, 4096));
  state->file = std::filesystem::path(spec.version_path == nullptr ? "" : spec.version_path) /
                state->options.model_file;
  int64_t input_width = 0;
  int64_t config_width = 0;
  SONIC_RETURN_IF_ERROR(ReadTensors(config, *state, &input_width, &config_width));
  SONIC_ASSIGN_OR_RETURN(state->model_bytes, ReadFile(*state));
  if (!FormatMatches(state->options.model_type, state->model_bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("fil model '", state->name, "': ", state->file.string(), " is not in the ",
                     "format model_type names: ", TypeName(state->options.model_type)));
  }
  SONIC_RETURN_IF_ERROR(InspectModel(*state, input_width, config_width));
  return std::unique_ptr<FilModel>(new FilModel(std::move(state)));
}

absl::StatusOr<std::unique_ptr<FilInstance>> FilModel::CreateInstance(
    const SonicBackendInstanceSpec& spec) const {
  if (spec.kind == SONIC_BACKEND_INSTANCE_GPU) {
    return absl::FailedPreconditionError(absl::StrCat(
        "fil model '", state_->name, "' instance '", spec.name == nullptr ? "" : spec.name,
        "': GPU ", spec.device_id, " requested but this fil backend runs on the CPU only"));
  }
  auto instance = std::make_unique<FilInstance::State>();
  instance->model = state_;
  SONIC_ASSIGN_OR_RETURN(instance->booster, LoadBooster(*state_));
  return std::make_unique<FilInstance>(std::move(instance));
}

FilInstance::FilInstance(std::unique_ptr<State> state) : state_(std::move(state)) {}
FilInstance::~FilInstance() = default;

absl::Status FilInstance::Execute(std::span<const SonicBackendTensor> inputs,
                                  std::span<const char* const> output_names,
                                  uint64_t /*batch_size*/,
                                  const SonicBackendOutputAllocator& allocator) {
  const FilModel::State& model = *state_->model;
  const SonicBackendTensor* input = nullptr;
  for (const SonicBackendTensor& tensor : inputs) {
    if (tensor.name != nullptr && model.input_name == tensor.name) input = &tensor;
  }
  if (input == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("fil model '", model.name, "': input '",
                                                   model.input_name, "' was not provided"));
  }
  if (input->data_type != static_cast<int32_t>(DataType::kFp32) || input->rank != 2 ||
      input->shape[1] != model.features ||
      input->byte_size != static_cast<uint64_t>(input->shape[0] * model.features) * sizeof(float)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fil model '", model.name, "': input '", model.input_name, "' must be FP32 [rows, ",
        model.features, "] (", input->byte_size, " bytes given)"));
  }
  const int64_t rows = input->shape[0];
  state_->output.resize(static_cast<size_t>(rows * model.output_width));
  if (rows > 0) {
    int64_t width = 0;
    SONIC_ASSIGN_OR_RETURN(
        std::span<const float> predicted,
        Predict(model, state_->booster.get(), static_cast<const float*>(input->data), rows,
                model.features, &width));
    if (width != model.predicted_width) {
      return absl::InternalError(absl::StrCat("fil model '", model.name, "': XGBoost gave ", width,
                                              " values per row, ", model.predicted_width,
                                              " at load"));
    }
    ShapeOutput(model.options, predicted, rows, width, model.output_width, state_->output);
  }
  for (const char* requested : output_names) {
    if (requested == nullptr || model.output_name != requested) {
      return absl::InvalidArgumentError(absl::StrCat("fil model '", model.name, "' has no output '",
                                                     requested == nullptr ? "" : requested, "'"));
    }
    const int64_t shape[2] = {rows, model.output_width};
    const uint64_t byte_size = state_->output.size() * sizeof(float);
    void* buffer = allocator.allocate(allocator.context, requested,
                                      static_cast<int32_t>(DataType::kFp32), shape, 2, byte_size);
    if (buffer == nullptr && byte_size > 0) {
      return absl::InternalError(absl::StrCat("fil model '", model.name,
                                              "': the server refused to allocate output '",
                                              requested, "' (", byte_size, " bytes)"));
    }
    if (byte_size > 0) std::memcpy(buffer, state_->output.data(), byte_size);
  }
  return absl::OkStatus();
}

}  // namespace sonic::backends::fil
