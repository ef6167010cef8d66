#include "backends/tensorflow/tf_model.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "backends/common/model_config_util.h"
#include "backends/tensorflow/tf_library.h"
#include "backends/tensorflow/tf_metadata.h"
#include "inference/model_config.pb.h"
#include "nlohmann/json.hpp"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::backends::tensorflow {
namespace {

// One TensorFlow session with the graph it runs. TF_SessionRun may be called concurrently.
struct Session {
  const TfApi* api = nullptr;
  TF_Graph* graph = nullptr;
  TF_Session* session = nullptr;
  std::vector<TF_Output> inputs;   // Config inputs, then batch-input targets.
  std::vector<TF_Output> outputs;  // Config outputs.

  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();
};

// A TF_Status that deletes itself.
class Status {
 public:
  explicit Status(const TfApi& api) : api_(api), status_(api.TF_NewStatus()) {}
  ~Status() { api_.TF_DeleteStatus(status_); }
  Status(const Status&) = delete;
  Status& operator=(const Status&) = delete;

  TF_Status* get() { return status_; }
  bool ok() const { return api_.TF_GetCode(status_) == TF_OK; }
  TF_Code code() const { return api_.TF_GetCode(status_); }
  // TensorFlow's message on one line.
  std::string message() const {
    return absl::StrReplaceAll(api_.TF_Message(status_), {{"\n", "; "}});
  }

 private:
  const TfApi& api_;
  TF_Status* status_;
};

Session::~Session() {
  if (session != nullptr) {
    Status status(*api);
    api->TF_CloseSession(session, status.get());
    api->TF_DeleteSession(session, status.get());
  }
  if (graph != nullptr) api->TF_DeleteGraph(graph);
}

// The TF_Tensors of one run, deleted when it ends.
class TensorList {
 public:
  explicit TensorList(const TfApi& api) : api_(api) {}
  ~TensorList() {
    for (TF_Tensor* tensor : tensors_) {
      if (tensor != nullptr) api_.TF_DeleteTensor(tensor);
    }
  }
  TensorList(const TensorList&) = delete;
  TensorList& operator=(const TensorList&) = delete;

  std::vector<TF_Tensor*>& tensors() { return tensors_; }

 private:
  const TfApi& api_;
  std::vector<TF_Tensor*> tensors_;
};

std::optional<TF_DataType> ToTfType(DataType type) {
  switch (type) {
    case DataType::kBool:
      return TF_BOOL;
    case DataType::kUint8:
      return TF_UINT8;
    case DataType::kUint16:
      return TF_UINT16;
    case DataType::kUint32:
      return TF_UINT32;
    case DataType::kUint64:
      return TF_UINT64;
    case DataType::kInt8:
      return TF_INT8;
    case DataType::kInt16:
      return TF_INT16;
    case DataType::kInt32:
      return TF_INT32;
    case DataType::kInt64:
      return TF_INT64;
    case DataType::kFp16:
      return TF_HALF;
    case DataType::kFp32:
      return TF_FLOAT;
    case DataType::kFp64:
      return TF_DOUBLE;
    case DataType::kBf16:
      return TF_BFLOAT16;
    default:
      return std::nullopt;
  }
}

// absl::StrCat takes absl::string_view, which is not std::string_view in this Abseil build.
std::string TypeName(DataType type) { return std::string(WireName(type)); }

// "FP32" for the config types, TensorFlow's enum number for the others.
std::string TfTypeName(TF_DataType type) {
  for (int32_t number = 1; number <= 14; ++number) {
    std::optional<DataType> candidate = DataTypeFromNumber(number);
    if (candidate.has_value() && ToTfType(*candidate) == type) {
      return TypeName(*candidate);
    }
  }
  return absl::StrCat("TensorFlow type ", static_cast<int>(type));
}

bool IsTrue(std::string text) {
  absl::AsciiStrToLower(&text);
  return text == "1" || text == "true" || text == "yes" || text == "on";
}

}  // namespace

struct TfModel::State {
  const TfApi* api = nullptr;
  std::string name;
  std::filesystem::path file;
  bool saved_model = false;
  int max_batch_size = 0;
  std::string graph_def;  // The GraphDef file's bytes.
  std::string graph_tag = "serve";
  std::string signature_key = "serving_default";
  std::string session_config;  // Serialized ConfigProto.
  std::vector<std::string> init_ops;
  int64_t share_count = 1;
  std::vector<std::string> input_names;
  std::vector<DataType> input_types;
  std::vector<std::string> output_names;
  std::vector<DataType> output_types;
  std::vector<Shape> output_dims;      // reshape.shape when the output has a reshape, else dims.
  std::vector<bool> output_scattered;  // Named by a batch_output: only the type is checked.

  absl::Mutex mutex;
  std::shared_ptr<Session> unused_first ABSL_GUARDED_BY(mutex);  // Made by Create.
  std::shared_ptr<Session> shared ABSL_GUARDED_BY(mutex);
  int64_t shared_users ABSL_GUARDED_BY(mutex) = 0;

  template <typename... Args>
  absl::Status Invalid(const Args&... args) const {
    return absl::InvalidArgumentError(absl::StrCat("tensorflow model '", name, "': ", args...));
  }
};

struct TfInstance::State {
  std::shared_ptr<const TfModel::State> model;
  std::shared_ptr<Session> session;
};

namespace {

using ModelState = TfModel::State;

absl::StatusOr<DataType> SupportedType(const ModelState& state, const char* kind,
                                       const std::string& tensor, int32_t number) {
  std::optional<DataType> type = DataTypeFromNumber(number);
  if (!type.has_value() || !ToTfType(*type).has_value()) {
    return state.Invalid(kind, " '", tensor, "' has type ",
                         type.has_value() ? TypeName(*type) : "unknown",
                         ", which the tensorflow backend does not support");
  }
  return *type;
}

absl::Status ReadTensorConfig(const inference::ModelConfig& config, ModelState& state) {
  for (const inference::ModelInput& input : config.input()) {
    SONIC_ASSIGN_OR_RETURN(DataType type,
                           SupportedType(state, "input", input.name(), input.data_type()));
    state.input_names.push_back(input.name());
    state.input_types.push_back(type);
  }
  for (const inference::BatchInput& batch_input : config.batch_input()) {
    if (batch_input.target_name_size() == 0) continue;
    SONIC_ASSIGN_OR_RETURN(
        DataType type,
        SupportedType(state, "batch input", batch_input.target_name(0), batch_input.data_type()));
    state.input_names.push_back(batch_input.target_name(0));
    state.input_types.push_back(type);
  }
  for (const inference::ModelOutput& output : config.output()) {
    SONIC_ASSIGN_OR_RETURN(DataType type,
                           SupportedType(state, "output", output.name(), output.data_type()));
    state.output_names.push_back(output.name());
    state.output_types.push_back(type);
    const auto& dims = output.has_reshape() ? output.reshape().shape() : output.dims();
    state.output_dims.emplace_back(dims.begin(), dims.end());
    bool scattered = false;
    for (const auto& batch_output : config.batch_output()) {
      for (const auto& target : batch_output.target_name()) scattered |= target == output.name();
    }
    state.output_scattered.push_back(scattered);
  }
  return absl::OkStatus();
}

// The init_ops of TF_INIT_OPS_FILE, looked for in the version directory, then the model's.
absl::Status ReadInitOps(const std::string& file_name, const std::filesystem::path& version_dir,
                         ModelState& state) {
  std::filesystem::path path = version_dir / file_name;
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) path = version_dir.parent_path() / file_name;
  std::ifstream in(path);
  if (!in) return state.Invalid("TF_INIT_OPS_FILE ", path.string(), " cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
  if (!json.is_object() || !json.contains("init_ops") || !json["init_ops"].is_array()) {
    return state.Invalid("TF_INIT_OPS_FILE ", path.string(),
                         " is not a JSON object with an array \"init_ops\"");
  }
  for (const nlohmann::json& op : json["init_ops"]) {
    if (!op.is_string()) {
      return state.Invalid("TF_INIT_OPS_FILE ", path.string(), ": init_ops holds a non-string");
    }
    state.init_ops.push_back(op.get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status ReadParameters(const SonicBackendModelSpec& spec, const inference::ModelConfig& config,
                            ModelState& state) {
  SessionSettings settings;
  SONIC_ASSIGN_OR_RETURN(int64_t intra,
                         GetIntParameter(config, "TF_NUM_INTRA_THREADS", 0, 0, 4096));
  SONIC_ASSIGN_OR_RETURN(int64_t inter,
                         GetIntParameter(config, "TF_NUM_INTER_THREADS", 0, 0, 4096));
  SONIC_ASSIGN_OR_RETURN(state.share_count,
                         GetIntParameter(config, "MAX_SESSION_SHARE_COUNT", 1, 1, 1 << 20));
  settings.intra_op_threads = static_cast<int32_t>(intra);
  settings.inter_op_threads = static_cast<int32_t>(inter);
  settings.per_session_threads =
      IsTrue(GetParameter(config, "TF_USE_PER_SESSION_THREADS").value_or(""));
  for (uint32_t i = 0; i < spec.backend_config_count; ++i) {
    if (std::string_view(spec.backend_config_keys[i]) == "allow-soft-placement") {
      settings.allow_soft_placement = IsTrue(spec.backend_config_values[i]);
    }
  }
  state.session_config = SerializeSessionConfig(settings);
  state.graph_tag = GetParameter(config, "TF_GRAPH_TAG").value_or(state.graph_tag);
  state.signature_key = GetParameter(config, "TF_SIGNATURE_DEF").value_or(state.signature_key);
  if (std::optional<std::string> init_file = GetParameter(config, "TF_INIT_OPS_FILE")) {
    SONIC_RETURN_IF_ERROR(ReadInitOps(*init_file, spec.version_path, state));
  }
  return absl::OkStatus();
}

// Finds the model's files; reads a GraphDef's bytes.
absl::Status LocateModel(const SonicBackendModelSpec& spec, const inference::ModelConfig& config,
                         ModelState& state) {
  std::string file_name = config.default_model_filename();
  if (file_name.empty()) {
    file_name = config.platform() == "tensorflow_savedmodel" ? "model.savedmodel"
                : config.platform() == "tensorflow_graphdef" ? "model.graphdef"
                : std::filesystem::is_directory(std::filesystem::path(spec.version_path) /
                                                "model.savedmodel")
                    ? "model.savedmodel"
                    : "model.graphdef";
  }
  state.file = std::filesystem::path(spec.version_path) / file_name;
  std::error_code error;
  if (config.platform() == "tensorflow_savedmodel" ||
      (config.platform().empty() && std::filesystem::is_directory(state.file, error))) {
    state.saved_model = true;
    if (!std::filesystem::is_directory(state.file, error)) {
      return state.Invalid("SavedModel directory ", state.file.string(), " does not exist");
    }
    return absl::OkStatus();
  }
  std::ifstream in(state.file, std::ios::binary);
  if (!std::filesystem::is_regular_file(state.file, error) || !in) {
    return state.Invalid("GraphDef file ", state.file.string(), " does not exist");
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  state.graph_def = bytes.str();
  return absl::OkStatus();
}

absl::Status ImportGraphDef(const ModelState& state, TF_SessionOptions* options, Session& session) {
  const TfApi& api = *state.api;
  Status status(api);
  TF_Buffer* buffer = api.TF_NewBufferFromString(state.graph_def.data(), state.graph_def.size());
  TF_ImportGraphDefOptions* import_options = api.TF_NewImportGraphDefOptions();
  api.TF_GraphImportGraphDef(session.graph, buffer, import_options, status.get());
  api.TF_DeleteImportGraphDefOptions(import_options);
  api.TF_DeleteBuffer(buffer);
  if (!status.ok()) {
    return state.Invalid("cannot import ", state.file.string(),
                         " as a GraphDef: ", status.message());
  }
  session.session = api.TF_NewSession(session.graph, options, status.get());
  if (!status.ok()) return state.Invalid("cannot create a session: ", status.message());
  return absl::OkStatus();
}

// Loads the SavedModel into `session`; returns its signatures.
absl::StatusOr<std::map<std::string, Signature>> LoadSavedModel(const ModelState& state,
                                                                TF_SessionOptions* options,
                                                                Session& session) {
  const TfApi& api = *state.api;
  Status status(api);
  TF_Buffer* meta_graph = api.TF_NewBuffer();
  const char* tags[] = {state.graph_tag.c_str()};
  session.session = api.TF_LoadSessionFromSavedModel(options, nullptr, state.file.c_str(), tags, 1,
                                                     session.graph, meta_graph, status.get());
  if (!status.ok()) {
    api.TF_DeleteBuffer(meta_graph);
    return state.Invalid("cannot load SavedModel ", state.file.string(), " (tag '", state.graph_tag,
                         "'): ", status.message());
  }
  absl::StatusOr<std::map<std::string, Signature>> signatures = ParseSignatures(
      std::string_view(static_cast<const char*>(meta_graph->data), meta_graph->length));
  api.TF_DeleteBuffer(meta_graph);
  if (!signatures.ok()) return state.Invalid(signatures.status().message());
  return signatures;
}

// The graph tensor a config name stands for: a signature key of `keys` first, else a graph name.
absl::StatusOr<TF_Output> Resolve(const ModelState& state, const Session& session,
                                  const std::map<std::string, std::string>* keys, const char* kind,
                                  const std::string& name, DataType type) {
  const TfApi& api = *state.api;
  std::string tensor = name;
  if (keys != nullptr) {
    if (auto it = keys->find(name); it != keys->end()) tensor = it->second;
  }
  const TensorName parsed = ParseTensorName(tensor);
  TF_Operation* operation = api.TF_GraphOperationByName(session.graph, parsed.operation.c_str());
  if (operation == nullptr) {
    return state.Invalid(kind, " '", name, "' is ",
                         keys != nullptr ? absl::StrCat("neither a key of signature '",
                                                        state.signature_key, "' nor ")
                                         : "not ",
                         "an operation of the graph");
  }
  if (parsed.index >= api.TF_OperationNumOutputs(operation)) {
    return state.Invalid(kind, " '", name, "': operation '", parsed.operation, "' has ",
                         api.TF_OperationNumOutputs(operation), " output(s), not ",
                         parsed.index + 1);
  }
  const TF_Output output{operation, parsed.index};
  const TF_DataType graph_type = api.TF_OperationOutputType(output);
  if (graph_type != *ToTfType(type)) {
    return state.Invalid(kind, " '", name, "' is ", TypeName(type), " in the config but ",
                         TfTypeName(graph_type), " in the graph (", tensor, ")");
  }
  return output;
}

absl::Status RunInitOps(const ModelState& state, Session& session) {
  if (state.init_ops.empty()) return absl::OkStatus();
  const TfApi& api = *state.api;
  std::vector<const TF_Operation*> targets;
  for (const std::string& name : state.init_ops) {
    TF_Operation* operation = api.TF_GraphOperationByName(session.graph, name.c_str());
    if (operation == nullptr) return state.Invalid("init op '", name, "' is not in the graph");
    targets.push_back(operation);
  }
  Status status(api);
  api.TF_SessionRun(session.session, nullptr, nullptr, nullptr, 0, nullptr, nullptr, 0,
                    targets.data(), static_cast<int>(targets.size()), nullptr, status.get());
  if (!status.ok()) return state.Invalid("running the init ops failed: ", status.message());
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Session>> OpenSession(const ModelState& state) {
  const TfApi& api = *state.api;
  auto session = std::make_shared<Session>();
  session->api = &api;
  session->graph = api.TF_NewGraph();
  TF_SessionOptions* options = api.TF_NewSessionOptions();
  Status status(api);
  api.TF_SetConfig(options, state.session_config.data(), state.session_config.size(), status.get());
  absl::Status opened =
      status.ok() ? absl::OkStatus() : state.Invalid("bad session config: ", status.message());
  std::optional<Signature> signature;
  if (opened.ok() && state.saved_model) {
    absl::StatusOr<std::map<std::string, Signature>> signatures =
        LoadSavedModel(state, options, *session);
    opened = signatures.status();
    if (opened.ok() && signatures->count(state.signature_key) > 0) {
      signature = signatures->at(state.signature_key);
    }
  } else if (opened.ok()) {
    opened = ImportGraphDef(state, options, *session);
  }
  api.TF_DeleteSessionOptions(options);
  SONIC_RETURN_IF_ERROR(opened);
  for (size_t i = 0; i < state.input_names.size(); ++i) {
    SONIC_ASSIGN_OR_RETURN(
        TF_Output input, Resolve(state, *session, signature ? &signature->inputs : nullptr, "input",
                                 state.input_names[i], state.input_types[i]));
    session->inputs.push_back(input);
  }
  for (size_t i = 0; i < state.output_names.size(); ++i) {
    SONIC_ASSIGN_OR_RETURN(TF_Output output,
                           Resolve(state, *session, signature ? &signature->outputs : nullptr,
                                   "output", state.output_names[i], state.output_types[i]));
    session->outputs.push_back(output);
  }
  SONIC_RETURN_IF_ERROR(RunInitOps(state, *session));
  return session;
}

const SonicBackendTensor* FindTensor(std::span<const SonicBackendTensor> tensors,
                                     std::string_view name) {
  for (const SonicBackendTensor& tensor : tensors) {
    if (tensor.name != nullptr && name == tensor.name) return &tensor;
  }
  return nullptr;
}

void KeepBuffer(void*, size_t, void*) {}  // The server owns input buffers.

// A TensorFlow tensor over the server's buffer (no copy), after checking type and size.
absl::StatusOr<TF_Tensor*> WrapInput(const ModelState& model, const SonicBackendTensor& input,
                                     DataType expected) {
  if (input.data_type != static_cast<int32_t>(expected)) {
    std::optional<DataType> got = DataTypeFromNumber(input.data_type);
    return model.Invalid("input '", input.name, "' is ",
                         got.has_value() ? TypeName(*got) : "of unknown type", ", expected ",
                         TypeName(expected));
  }
  std::span<const int64_t> shape(input.shape, input.rank);
  absl::StatusOr<int64_t> count = ElementCount(shape);
  if (!count.ok() || static_cast<uint64_t>(*count) * ElementSize(expected) != input.byte_size) {
    return model.Invalid("input '", input.name, "' has ", input.byte_size,
                         " bytes, which does not match ", TypeName(expected), " shape ",
                         ShapeToString(shape));
  }
  TF_Tensor* tensor =
      model.api->TF_NewTensor(*ToTfType(expected), input.shape, static_cast<int>(input.rank),
                              const_cast<void*>(input.data), input.byte_size, &KeepBuffer, nullptr);
  if (tensor == nullptr) return absl::InternalError("TF_NewTensor failed");
  return tensor;
}

absl::Status WriteOutput(const ModelState& model, size_t index, uint64_t batch_size,
                         TF_Tensor* tensor, const SonicBackendOutputAllocator& allocator) {
  const TfApi& api = *model.api;
  const std::string& name = model.output_names[index];
  const DataType type = model.output_types[index];
  if (api.TF_TensorType(tensor) != *ToTfType(type)) {
    return model.Invalid("output '", name, "' should be ", TypeName(type),
                         " but the model produced ", TfTypeName(api.TF_TensorType(tensor)));
  }
  Shape shape(static_cast<size_t>(api.TF_NumDims(tensor)));
  for (size_t d = 0; d < shape.size(); ++d) shape[d] = api.TF_Dim(tensor, static_cast<int>(d));
  Shape expected = model.output_dims[index];
  if (model.max_batch_size > 0) expected.insert(expected.begin(), static_cast<int64_t>(batch_size));
  if (!model.output_scattered[index] && !MatchesDims(expected, shape)) {
    return model.Invalid("output '", name, "' should have shape ", ShapeToString(expected),
                         model.max_batch_size > 0 ? " (batch first)" : "",
                         " but the model produced ", ShapeToString(shape));
  }
  const uint64_t byte_size = api.TF_TensorByteSize(tensor);
  void* buffer = allocator.allocate(allocator.context, name.c_str(), static_cast<int32_t>(type),
                                    shape.data(), static_cast<uint32_t>(shape.size()), byte_size);
  if (buffer == nullptr && byte_size > 0) {
    return absl::InternalError(absl::StrCat("tensorflow model '", model.name,
                                            "': the server refused to allocate output '", name,
                                            "' (", byte_size, " bytes)"));
  }
  if (byte_size > 0) std::memcpy(buffer, api.TF_TensorData(tensor), byte_size);
  return absl::OkStatus();
}

}  // namespace

TfModel::TfModel(std::shared_ptr<State> state) : state_(std::move(state)) {}
TfModel::~TfModel() = default;

absl::StatusOr<std::unique_ptr<TfModel>> TfModel::Create(const SonicBackendModelSpec& spec) {
  SONIC_ASSIGN_OR_RETURN(const TfApi* api, LoadTfApi());
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig config, ParseModelConfig(spec));
  auto state = std::make_shared<State>();
  state->api = api;
  state->name = spec.name == nullptr ? "" : spec.name;
  state->max_batch_size = config.max_batch_size();
  if (spec.version_path == nullptr) return state->Invalid("the server gave no version directory");
  SONIC_RETURN_IF_ERROR(ReadTensorConfig(config, *state));
  SONIC_RETURN_IF_ERROR(ReadParameters(spec, config, *state));
  SONIC_RETURN_IF_ERROR(LocateModel(spec, config, *state));
  SONIC_ASSIGN_OR_RETURN(std::shared_ptr<Session> first, OpenSession(*state));
  {
    absl::MutexLock lock(&state->mutex);
    state->unused_first = std::move(first);
  }
  return std::unique_ptr<TfModel>(new TfModel(std::move(state)));
}

absl::StatusOr<std::unique_ptr<TfInstance>> TfModel::CreateInstance(
    const SonicBackendInstanceSpec& spec) {
  if (spec.kind == SONIC_BACKEND_INSTANCE_GPU) {
    return absl::FailedPreconditionError(absl::StrCat(
        "tensorflow model '", state_->name, "' instance '", spec.name == nullptr ? "" : spec.name,
        "': GPU ", spec.device_id, " requested but this TensorFlow (tensorflow-cpu) has no GPU"));
  }
  absl::MutexLock lock(&state_->mutex);
  if (state_->shared == nullptr || state_->shared_users >= state_->share_count) {
    if (state_->unused_first != nullptr) {
      state_->shared = std::move(state_->unused_first);
    } else {
      SONIC_ASSIGN_OR_RETURN(state_->shared, OpenSession(*state_));
    }
    state_->shared_users = 0;
  }
  ++state_->shared_users;
  auto instance = std::make_unique<TfInstance::State>();
  instance->model = state_;
  instance->session = state_->shared;
  return std::make_unique<TfInstance>(std::move(instance));
}

TfInstance::TfInstance(std::unique_ptr<State> state) : state_(std::move(state)) {}
TfInstance::~TfInstance() = default;

absl::Status TfInstance::Execute(std::span<const SonicBackendTensor> inputs,
                                 std::span<const char* const> output_names, uint64_t batch_size,
                                 const SonicBackendOutputAllocator& allocator) {
  const ModelState& model = *state_->model;
  const Session& session = *state_->session;
  const TfApi& api = *model.api;
  TensorList input_values(api);
  for (size_t i = 0; i < model.input_names.size(); ++i) {
    const SonicBackendTensor* input = FindTensor(inputs, model.input_names[i]);
    if (input == nullptr) {
      return model.Invalid("input '", model.input_names[i], "' was not provided");
    }
    SONIC_ASSIGN_OR_RETURN(TF_Tensor * tensor, WrapInput(model, *input, model.input_types[i]));
    input_values.tensors().push_back(tensor);
  }
  std::vector<size_t> fetched;
  std::vector<TF_Output> fetches;
  for (const char* requested : output_names) {
    const std::string name = requested == nullptr ? "" : requested;
    auto it = std::find(model.output_names.begin(), model.output_names.end(), name);
    if (it == model.output_names.end())
      return model.Invalid("the model has no output '", name, "'");
    fetched.push_back(static_cast<size_t>(it - model.output_names.begin()));
    fetches.push_back(session.outputs[fetched.back()]);
  }
  TensorList output_values(api);
  output_values.tensors().resize(fetches.size(), nullptr);
  Status status(api);
  api.TF_SessionRun(session.session, nullptr, session.inputs.data(), input_values.tensors().data(),
                    static_cast<int>(session.inputs.size()), fetches.data(),
                    output_values.tensors().data(), static_cast<int>(fetches.size()), nullptr, 0,
                    nullptr, status.get());
  if (!status.ok()) {
    // TensorFlow's INVALID_ARGUMENT is about the fed tensors (a shape the graph refuses).
    std::string message =
        absl::StrCat("tensorflow model '", model.name, "': the run failed: ", status.message());
    return status.code() == TF_INVALID_ARGUMENT ? absl::InvalidArgumentError(message)
                                                : absl::InternalError(message);
  }
  for (size_t i = 0; i < fetched.size(); ++i) {
    SONIC_RETURN_IF_ERROR(
        WriteOutput(model, fetched[i], batch_size, output_values.tensors()[i], allocator));
  }
  return absl::OkStatus();
}

}  // namespace sonic::backends::tensorflow
