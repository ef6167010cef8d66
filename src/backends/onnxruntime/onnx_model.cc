// The only onnxruntime backend file that uses Python (python_host.h comes first: Python.h's rule).
#include "backends/onnxruntime/onnx_model.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/common/model_config_util.h"
#include "backends/onnxruntime/session_settings.h"
#include "backends/python_host/python_host.h"
#include "inference/model_config.pb.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::backends::onnxruntime {

using python_host::GilGuard;
using python_host::GilRelease;
using python_host::PyRef;

namespace {

// What the backend asks of onnxruntime's Python API. make_session returns None for a GPU session
// when this onnxruntime has no CUDA execution provider. utf8_strings turns a BYTES input into the
// str elements tensor(string) takes: onnxruntime's Python API converts strings through UTF-8 (and
// str() of a bytes object would be its repr).
constexpr char kHelperSource[] = R"py(
import numpy
import onnxruntime


def make_session(path, intra, inter, parallel, level, device_id):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = intra
    options.inter_op_num_threads = inter
    if parallel:
        options.execution_mode = onnxruntime.ExecutionMode.ORT_PARALLEL
    options.graph_optimization_level = getattr(onnxruntime.GraphOptimizationLevel, level)
    providers = ["CPUExecutionProvider"]
    if device_id >= 0:
        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            return None
        providers.insert(0, ("CUDAExecutionProvider", {"device_id": device_id}))
    return onnxruntime.InferenceSession(path, sess_options=options, providers=providers)


def _dims(shape):
    return None if shape is None else [d if isinstance(d, int) else -1 for d in shape]


def utf8_strings(array):
    flat = [item.decode("utf-8") for item in array.ravel()]
    return numpy.array(flat, dtype=object).reshape(array.shape)


def describe(session):
    return ([(t.name, t.type, _dims(t.shape)) for t in session.get_inputs()],
            [(t.name, t.type, _dims(t.shape)) for t in session.get_outputs()])
)py";

// absl::StrCat takes absl::string_view, which is not std::string_view in this Abseil build.
std::string TypeName(DataType type) { return std::string(WireName(type)); }

// A configured tensor.
struct TensorSpec {
  std::string name;
  DataType type = DataType::kInvalid;
  Shape dims;              // reshape.shape when the tensor has a reshape, else dims
  bool scattered = false;  // an output named by a batch_output: its shape follows ragged inputs
  // A ragged input or a batch_input target: the server feeds it as one dimension (the requests'
  // elements one after another), which the model must take as a 1-D tensor, as in Triton.
  bool flat = false;
};

// A tensor as the ONNX model declares it.
struct ModelTensor {
  std::string name;
  std::string ort_type;
  std::optional<Shape> dims;  // -1 for a symbolic or unknown dimension; nullopt: unknown rank
};

// The helper module above, compiled once and kept for the life of the process. Models load on
// several threads: the first import of onnxruntime lets go of the GIL many times, so the others
// wait on a lock (without the GIL, or the importer could never finish) instead of running the
// module's code into the same half-made module.
// REQUIRES: the GIL.
absl::StatusOr<PyObject*> Helper() {
  static std::mutex mutex;
  static PyObject* module = nullptr;
  std::unique_lock<std::mutex> lock(mutex, std::defer_lock);
  {
    GilRelease released;
    lock.lock();
  }
  if (module != nullptr) return module;
  PyRef code(Py_CompileString(kHelperSource, "<sonic onnxruntime backend>", Py_file_input));
  PyRef loaded(code ? PyImport_ExecCodeModule("_sonic_onnxruntime_backend", code.get()) : nullptr);
  if (!loaded) {
    return python_host::TakePythonError(
        absl::StatusCode::kFailedPrecondition,
        "cannot import onnxruntime in the embedded Python (scripts/bootstrap.sh installs the "
        "version pinned in scripts/requirements.txt)");
  }
  module = loaded.release();
  return module;
}

}  // namespace

struct OnnxModel::State {
  std::string name;
  std::string context;  // "onnxruntime model 'NAME'", the start of every message
  std::filesystem::path file;
  int max_batch_size = 0;
  SessionSettings settings;
  std::vector<TensorSpec> inputs;  // config inputs, then batch-input targets
  std::vector<TensorSpec> outputs;

  // The session made (and checked) at load, until the first CPU instance takes it.
  std::mutex spare_mutex;
  PyRef spare_session;  // Guarded by spare_mutex; dropped under the GIL.

  ~State() {
    if (spare_session) {
      GilGuard gil;
      spare_session.reset();
    }
  }
};

struct OnnxInstance::State {
  std::shared_ptr<const OnnxModel::State> model;
  PyRef session;
  PyRef run;  // session.run

  ~State() {
    GilGuard gil;
    run.reset();
    session.reset();
  }
};

namespace {

absl::StatusOr<TensorSpec> ReadTensor(const std::string& context, const char* kind,
                                      const std::string& name, int32_t data_type,
                                      const google::protobuf::RepeatedField<int64_t>& dims) {
  std::optional<DataType> type = DataTypeFromNumber(data_type);
  if (!type.has_value() || !python_host::NumpyDtypeName(*type).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        context, ": ", kind, " '", name, "' has type ",
        type.has_value() ? TypeName(*type) : "unknown",
        ", which the onnxruntime backend does not support (numpy, its tensor exchange, has no "
        "such type)"));
  }
  return TensorSpec{name, *type, Shape(dims.begin(), dims.end())};
}

absl::Status ReadTensorConfig(const inference::ModelConfig& config, OnnxModel::State& state) {
  for (const inference::ModelInput& input : config.input()) {
    SONIC_ASSIGN_OR_RETURN(
        TensorSpec spec, ReadTensor(state.context, "input", input.name(), input.data_type(),
                                    input.has_reshape() ? input.reshape().shape() : input.dims()));
    spec.flat = input.allow_ragged_batch();
    state.inputs.push_back(std::move(spec));
  }
  for (const inference::BatchInput& batch_input : config.batch_input()) {
    if (batch_input.target_name_size() == 0) continue;
    SONIC_ASSIGN_OR_RETURN(TensorSpec spec,
                           ReadTensor(state.context, "batch input", batch_input.target_name(0),
                                      batch_input.data_type(), {}));
    spec.dims = {kVariableDim};
    spec.flat = true;
    state.inputs.push_back(std::move(spec));
  }
  for (const inference::ModelOutput& output : config.output()) {
    SONIC_ASSIGN_OR_RETURN(
        TensorSpec spec,
        ReadTensor(state.context, "output", output.name(), output.data_type(),
                   output.has_reshape() ? output.reshape().shape() : output.dims()));
    for (const auto& batch_output : config.batch_output()) {
      for (const auto& target : batch_output.target_name()) {
        spec.scattered |= target == output.name();
      }
    }
    state.outputs.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

// The model file, following a model directory to the model.onnx inside it.
std::filesystem::path ModelFile(const SonicBackendModelSpec& spec,
                                const inference::ModelConfig& config) {
  std::filesystem::path file =
      std::filesystem::path(spec.version_path == nullptr ? "" : spec.version_path) /
      (config.default_model_filename().empty() ? "model.onnx" : config.default_model_filename());
  std::error_code error;
  if (std::filesystem::is_directory(file, error)) file /= "model.onnx";
  return file;
}

// A new InferenceSession; device_id -1 for the CPU. REQUIRES: the GIL.
absl::StatusOr<PyRef> MakeSession(const OnnxModel::State& state, int device_id,
                                  const std::string& context) {
  SONIC_ASSIGN_OR_RETURN(PyObject * helper, Helper());
  const std::string level(GraphOptimizationName(state.settings.graph_optimization));
  PyRef session(
      PyObject_CallMethod(helper, "make_session", "siiisi", state.file.c_str(),
                          state.settings.intra_op_threads, state.settings.inter_op_threads,
                          state.settings.parallel_execution ? 1 : 0, level.c_str(), device_id));
  if (!session) {
    return python_host::TakePythonError(
        absl::StatusCode::kInvalidArgument,
        absl::StrCat(context, ": ONNX Runtime cannot load ", state.file.string()));
  }
  if (session.get() == Py_None) {
    return absl::FailedPreconditionError(absl::StrCat(
        context, ": GPU ", device_id,
        " requested but this onnxruntime has no CUDA execution provider (the PyPI onnxruntime "
        "wheel runs on the CPU only)"));
  }
  return session;
}

// The (name, type, dims) tuples of describe(). REQUIRES: the GIL.
absl::StatusOr<std::vector<ModelTensor>> ReadModelTensors(PyObject* list,
                                                          const std::string& context) {
  std::vector<ModelTensor> tensors;
  for (Py_ssize_t i = 0; i < PyList_Size(list); ++i) {
    PyObject* item = PyList_GetItem(list, i);
    const char* name = nullptr;
    const char* type = nullptr;
    PyObject* dims = nullptr;
    if (!PyArg_ParseTuple(item, "ssO", &name, &type, &dims)) {
      return python_host::TakePythonError(absl::StatusCode::kInternal, context);
    }
    ModelTensor tensor{name, type, std::nullopt};
    if (dims != Py_None) {
      tensor.dims.emplace();
      for (Py_ssize_t d = 0; d < PyList_Size(dims); ++d) {
        tensor.dims->push_back(PyLong_AsLongLong(PyList_GetItem(dims, d)));
      }
      if (PyErr_Occurred()) {
        return python_host::TakePythonError(absl::StatusCode::kInternal, context);
      }
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

std::string Names(const auto& tensors) {
  std::vector<std::string> names;
  for (const auto& tensor : tensors) names.push_back(tensor.name);
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

// Checks one configured tensor against the model's declaration of it.
absl::Status CheckTensor(const OnnxModel::State& state, const char* kind, const TensorSpec& spec,
                         const ModelTensor& model) {
  const std::string prefix = absl::StrCat(state.context, ": ", kind, " '", spec.name, "'");
  if (DataTypeFromOrtType(model.ort_type) != spec.type) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, " is ", TypeName(spec.type),
                                                   " in the configuration but ", model.ort_type,
                                                   " in the model"));
  }
  if (!model.dims.has_value() || spec.scattered) return absl::OkStatus();
  Shape expected = spec.flat ? Shape{kVariableDim} : spec.dims;
  if (state.max_batch_size > 0 && !spec.flat) expected.insert(expected.begin(), kVariableDim);
  const Shape& got = *model.dims;
  bool agrees = expected.size() == got.size();
  for (size_t d = 0; agrees && d < got.size(); ++d) {
    agrees = expected[d] == kVariableDim || got[d] == kVariableDim || expected[d] == got[d];
  }
  if (!agrees) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, " has shape ", ShapeToString(got), " in the model but ",
                     ShapeToString(expected), " in the configuration",
                     spec.flat ? " (a ragged or batch input is fed as one dimension)"
                     : state.max_batch_size > 0 ? " (batch dimension first)"
                                                : ""));
  }
  if (state.max_batch_size > 0 && !spec.flat && got[0] != kVariableDim) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, " has a fixed first dimension (", got[0],
                     ") in the model, but max_batch_size > 0 needs a variable batch dimension"));
  }
  return absl::OkStatus();
}

absl::Status CheckAgainstModel(const OnnxModel::State& state, PyObject* session) {
  SONIC_ASSIGN_OR_RETURN(PyObject * helper, Helper());
  PyRef described(PyObject_CallMethod(helper, "describe", "O", session));
  PyObject* inputs_list = nullptr;
  PyObject* outputs_list = nullptr;
  if (!described || !PyArg_ParseTuple(described.get(), "OO", &inputs_list, &outputs_list)) {
    return python_host::TakePythonError(absl::StatusCode::kInternal, state.context);
  }
  SONIC_ASSIGN_OR_RETURN(std::vector<ModelTensor> model_inputs,
                         ReadModelTensors(inputs_list, state.context));
  SONIC_ASSIGN_OR_RETURN(std::vector<ModelTensor> model_outputs,
                         ReadModelTensors(outputs_list, state.context));
  for (const ModelTensor& input : model_inputs) {
    auto found = std::find_if(state.inputs.begin(), state.inputs.end(),
                              [&](const TensorSpec& spec) { return spec.name == input.name; });
    if (found == state.inputs.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          state.context, ": the model needs input '", input.name,
          "', which the configuration does not declare (it declares: ", Names(state.inputs), ")"));
    }
  }
  const std::pair<const char*, const std::vector<ModelTensor>*> kinds[] = {
      {"input", &model_inputs}, {"output", &model_outputs}};
  for (const auto& [kind, declared] : kinds) {
    const auto& specs = declared == &model_inputs ? state.inputs : state.outputs;
    for (const TensorSpec& spec : specs) {
      auto found = std::find_if(declared->begin(), declared->end(),
                                [&](const ModelTensor& t) { return t.name == spec.name; });
      if (found == declared->end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(state.context, ": configured ", kind, " '", spec.name, "' is not an ",
                         kind, " of the model (its ", kind, "s: ", Names(*declared), ")"));
      }
      SONIC_RETURN_IF_ERROR(CheckTensor(state, kind, spec, *found));
    }
  }
  return absl::OkStatus();
}

const SonicBackendTensor* FindTensor(std::span<const SonicBackendTensor> tensors,
                                     std::string_view name) {
  for (const SonicBackendTensor& tensor : tensors) {
    if (tensor.name != nullptr && name == tensor.name) return &tensor;
  }
  return nullptr;
}

// The feed dictionary of run(): numpy views of the server's buffers. REQUIRES: the GIL.
absl::StatusOr<PyRef> MakeFeed(const OnnxModel::State& model,
                               std::span<const SonicBackendTensor> inputs) {
  PyRef feed(PyDict_New());
  if (!feed) return python_host::TakePythonError(absl::StatusCode::kInternal, model.context);
  for (const TensorSpec& spec : model.inputs) {
    const SonicBackendTensor* input = FindTensor(inputs, spec.name);
    if (input == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(model.context, ": input '", spec.name, "' was not provided"));
    }
    if (input->data_type != static_cast<int32_t>(spec.type)) {
      std::optional<DataType> got = DataTypeFromNumber(input->data_type);
      return absl::InvalidArgumentError(
          absl::StrCat(model.context, ": input '", spec.name, "' is ",
                       got.has_value() ? TypeName(*got) : "of unknown type", ", expected ",
                       TypeName(spec.type)));
    }
    absl::StatusOr<PyRef> array = python_host::TensorAsNumpy(*input);
    if (!array.ok()) return Annotate(array.status(), model.context);
    if (spec.type == DataType::kBytes) {
      SONIC_ASSIGN_OR_RETURN(PyObject * helper, Helper());
      PyRef text(PyObject_CallMethod(helper, "utf8_strings", "O", array->get()));
      if (!text) {
        return python_host::TakePythonError(
            absl::StatusCode::kInvalidArgument,
            absl::StrCat(model.context, ": input '", spec.name,
                         "' (tensor(string) elements must be UTF-8 text)"));
      }
      *array = std::move(text);
    }
    if (PyDict_SetItemString(feed.get(), spec.name.c_str(), array->get()) != 0) {
      return python_host::TakePythonError(absl::StatusCode::kInternal, model.context);
    }
  }
  return feed;
}

}  // namespace

OnnxModel::OnnxModel(std::shared_ptr<State> state) : state_(std::move(state)) {}
OnnxModel::~OnnxModel() = default;

absl::StatusOr<std::unique_ptr<OnnxModel>> OnnxModel::Create(const SonicBackendModelSpec& spec) {
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig config, ParseModelConfig(spec));
  auto state = std::make_shared<State>();
  state->name = spec.name == nullptr ? "" : spec.name;
  state->context = absl::StrCat("onnxruntime model '", state->name, "'");
  state->max_batch_size = config.max_batch_size();
  state->file = ModelFile(spec, config);
  absl::StatusOr<SessionSettings> settings = ReadSessionSettings(config);
  if (!settings.ok()) return Annotate(settings.status(), state->context);
  state->settings = *settings;
  SONIC_RETURN_IF_ERROR(ReadTensorConfig(config, *state));
  std::error_code error;
  if (!std::filesystem::is_regular_file(state->file, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(state->context, ": model file ", state->file.string(), " does not exist"));
  }
  SONIC_RETURN_IF_ERROR(Annotate(python_host::EnsureStarted(), state->context));
  GilGuard gil;
  SONIC_ASSIGN_OR_RETURN(PyRef session, MakeSession(*state, -1, state->context));
  SONIC_RETURN_IF_ERROR(CheckAgainstModel(*state, session.get()));
  state->spare_session = std::move(session);
  return std::unique_ptr<OnnxModel>(new OnnxModel(std::move(state)));
}

absl::StatusOr<std::unique_ptr<OnnxInstance>> OnnxModel::CreateInstance(
    const SonicBackendInstanceSpec& spec) const {
  auto instance = std::make_unique<OnnxInstance::State>();
  instance->model = state_;
  const bool gpu = spec.kind == SONIC_BACKEND_INSTANCE_GPU;
  GilGuard gil;
  if (!gpu) {
    std::lock_guard<std::mutex> lock(state_->spare_mutex);
    instance->session = std::move(state_->spare_session);
  }
  if (!instance->session) {
    const std::string context =
        absl::StrCat(state_->context, " instance '", spec.name == nullptr ? "" : spec.name, "'");
    SONIC_ASSIGN_OR_RETURN(instance->session,
                           MakeSession(*state_, gpu ? spec.device_id : -1, context));
  }
  instance->run = PyRef(PyObject_GetAttrString(instance->session.get(), "run"));
  if (!instance->run) {
    return python_host::TakePythonError(absl::StatusCode::kInternal, state_->context);
  }
  return std::make_unique<OnnxInstance>(std::move(instance));
}

OnnxInstance::OnnxInstance(std::unique_ptr<State> state) : state_(std::move(state)) {}
OnnxInstance::~OnnxInstance() = default;

absl::Status OnnxInstance::Execute(std::span<const SonicBackendTensor> inputs,
                                   std::span<const char* const> output_names, uint64_t batch_size,
                                   const SonicBackendOutputAllocator& allocator) {
  const OnnxModel::State& model = *state_->model;
  std::vector<const TensorSpec*> outputs;
  for (const char* requested : output_names) {
    const std::string_view name = requested == nullptr ? "" : requested;
    auto it = std::find_if(model.outputs.begin(), model.outputs.end(),
                           [&](const TensorSpec& spec) { return spec.name == name; });
    if (it == model.outputs.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(model.context, " has no output '", std::string(name), "'"));
    }
    outputs.push_back(&*it);
  }
  GilGuard gil;
  SONIC_ASSIGN_OR_RETURN(PyRef feed, MakeFeed(model, inputs));
  PyRef names(PyList_New(static_cast<Py_ssize_t>(outputs.size())));
  for (size_t i = 0; names && i < outputs.size(); ++i) {
    PyList_SET_ITEM(names.get(), i, PyUnicode_FromString(outputs[i]->name.c_str()));
  }
  // run() releases the GIL while ONNX Runtime computes.
  PyRef results(
      names ? PyObject_CallFunctionObjArgs(state_->run.get(), names.get(), feed.get(), nullptr)
            : nullptr);
  if (!results || !PyList_Check(results.get()) ||
      PyList_GET_SIZE(results.get()) != static_cast<Py_ssize_t>(outputs.size())) {
    return python_host::TakePythonError(absl::StatusCode::kInternal,
                                        absl::StrCat(model.context, ": run failed"));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const TensorSpec& spec = *outputs[i];
    PyObject* array = PyList_GET_ITEM(results.get(), i);
    if (!spec.scattered) {
      SONIC_ASSIGN_OR_RETURN(Shape got, python_host::NumpyShape(array, model.context));
      Shape expected = spec.dims;
      if (model.max_batch_size > 0) {
        expected.insert(expected.begin(), static_cast<int64_t>(batch_size));
      }
      if (!MatchesDims(expected, got)) {
        return absl::InvalidArgumentError(
            absl::StrCat(model.context, ": output '", spec.name, "' should have shape ",
                         ShapeToString(expected), model.max_batch_size > 0 ? " (batch first)" : "",
                         " but the model produced ", ShapeToString(got)));
      }
    }
    SONIC_RETURN_IF_ERROR(python_host::CopyNumpyToOutput(array, spec.name.c_str(), spec.type,
                                                         allocator, model.context));
  }
  return absl::OkStatus();
}

}  // namespace sonic::backends::onnxruntime
