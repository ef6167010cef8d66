// See python_model.h.
#include "backends/python/python_model.h"

#include <dlfcn.h>
#include <google/protobuf/util/json_util.h>

#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/common/model_config_util.h"
#include "sonic/common/status.h"

namespace sonic::backends::python {
namespace {

using python_host::ErrorDetail;
using python_host::GilGuard;
using python_host::PyRef;
using python_host::TakePythonError;

constexpr const char* kRuntimeModule = "sonic_python_runtime";

// Each import of a model.py gets a module name of its own, so that instances (and a version
// being replaced by its reload) never share or remove each other's module.
std::atomic<uint64_t> next_module_id{0};

std::string NewModuleName(std::string_view model_name) {
  return absl::StrCat("_sonic_model_", next_module_id.fetch_add(1), "_", std::string(model_name));
}

// The folder holding the Python modules: `sonic_python_backend` beside this plugin's file.
absl::StatusOr<std::filesystem::path> ModulesDirectory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&ModulesDirectory), &info) == 0 || info.dli_fname == nullptr) {
    return absl::FailedPreconditionError("python backend: cannot find its own library file");
  }
  std::filesystem::path directory =
      std::filesystem::path(info.dli_fname).parent_path() / "sonic_python_backend";
  std::error_code error;
  if (!std::filesystem::exists(directory / "triton_python_backend_utils.py", error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("python backend: ", directory.string(),
                     " lacks triton_python_backend_utils.py (the plugin is installed without "
                     "its Python modules)"));
  }
  return directory;
}

// Starts the interpreter (if needed) with the modules' folder first on sys.path.
absl::Status StartPython() {
  SONIC_ASSIGN_OR_RETURN(std::filesystem::path directory, ModulesDirectory());
  SONIC_RETURN_IF_ERROR(python_host::EnsureStarted());
  GilGuard gil;
  PyObject* path = PySys_GetObject("path");  // borrowed
  PyRef entry(PyUnicode_FromString(directory.c_str()));
  if (path == nullptr || !entry) {
    return TakePythonError(absl::StatusCode::kFailedPrecondition, "python backend: sys.path");
  }
  int present = PySequence_Contains(path, entry.get());
  if (present == 0) present = PyList_Insert(path, 0, entry.get()) == 0 ? 1 : -1;
  if (present < 0) {
    return TakePythonError(absl::StatusCode::kFailedPrecondition, "python backend: sys.path");
  }
  return absl::OkStatus();
}

absl::Status CheckSupported(const inference::ModelConfig& config) {
  if (config.batch_input_size() > 0 || config.batch_output_size() > 0) {
    return absl::UnimplementedError(
        absl::StrCat("model '", config.name(),
                     "': the python backend hands each request over with its own "
                     "tensors, so batch_input and batch_output do not apply"));
  }
  auto bf16 = [&](const auto& tensors) {
    for (const auto& tensor : tensors) {
      if (tensor.data_type() == inference::TYPE_BF16) return true;
    }
    return false;
  };
  if (bf16(config.input()) || bf16(config.output())) {
    return absl::UnimplementedError(absl::StrCat(
        "model '", config.name(), "': the python backend cannot serve TYPE_BF16 (numpy has none)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ConfigJson(const inference::ModelConfig& config) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(config, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("model '", config.name(), "': config as JSON: ", status.ToString()));
  }
  return json;
}

// A Python str (new reference) or nullptr with a Python error set.
PyObject* Str(std::string_view text) {
  return PyUnicode_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size()));
}

// Calls sonic_python_runtime.<function>(args...). REQUIRES: the GIL.
absl::StatusOr<PyRef> CallRuntime(const char* function, PyObject* args, absl::StatusCode code,
                                  std::string_view context) {
  SONIC_ASSIGN_OR_RETURN(PyRef callable, python_host::ImportAttribute(kRuntimeModule, function));
  PyRef result(PyObject_CallObject(callable.get(), args));
  if (!result) return TakePythonError(code, context, ErrorDetail::kTraceback);
  return result;
}

// Routes a SonicBackendOutputAllocator call to one request of a responder.
struct RequestAllocator {
  const SonicBackendResponder* responder;
  uint32_t index;

  static void* Allocate(void* context, const char* name, int32_t data_type, const int64_t* shape,
                        uint32_t rank, uint64_t byte_size) {
    auto* self = static_cast<RequestAllocator*>(context);
    return self->responder->allocate(self->responder->context, self->index, name, data_type, shape,
                                     rank, byte_size);
  }
};

// A responder over an assembled batch's allocator, for the one request Execute makes of it.
struct SingleRequestResponder {
  const SonicBackendOutputAllocator* allocator;
  absl::Status status;

  static void* Allocate(void* context, uint32_t, const char* name, int32_t data_type,
                        const int64_t* shape, uint32_t rank, uint64_t byte_size) {
    auto* self = static_cast<SingleRequestResponder*>(context);
    return self->allocator->allocate(self->allocator->context, name, data_type, shape, rank,
                                     byte_size);
  }
  static void Fail(void* context, uint32_t, int32_t code, const char* message) {
    auto* self = static_cast<SingleRequestResponder*>(context);
    if (self->status.ok()) {
      self->status = absl::Status(static_cast<absl::StatusCode>(code), message);
    }
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<PythonModel>> PythonModel::Create(
    const SonicBackendModelSpec& spec) {
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig config, ParseModelConfig(spec));
  SONIC_RETURN_IF_ERROR(CheckSupported(config));
  auto model = std::unique_ptr<PythonModel>(new PythonModel);
  model->name_ = spec.name;
  model->version_ = spec.version;
  const std::string filename =
      config.default_model_filename().empty() ? "model.py" : config.default_model_filename();
  model->model_py_ = std::filesystem::path(spec.version_path) / filename;
  std::error_code error;
  if (!std::filesystem::is_regular_file(model->model_py_, error)) {
    return absl::InvalidArgumentError(absl::StrCat("python backend: ", model->model_py_.string(),
                                                   " does not exist or is not a file"));
  }
  SONIC_ASSIGN_OR_RETURN(model->config_json_, ConfigJson(config));
  for (const auto& output : config.output()) {
    model->output_types_.emplace(output.name(), static_cast<DataType>(output.data_type()));
  }
  SONIC_RETURN_IF_ERROR(StartPython());

  GilGuard gil;
  PyRef args(Py_BuildValue("(NNN)", Str(model->model_py_.string()), Str(NewModuleName(spec.name)),
                           Str(model->config_json_)));
  if (!args) return TakePythonError(absl::StatusCode::kInternal, "python backend");
  SONIC_ASSIGN_OR_RETURN(PyRef checked,
                         CallRuntime("check_model", args.get(), absl::StatusCode::kInvalidArgument,
                                     model->model_py_.string()));
  return model;
}

absl::StatusOr<std::unique_ptr<PythonInstance>> PythonModel::CreateInstance(
    const SonicBackendInstanceSpec& spec) const {
  const std::string kind = spec.kind == SONIC_BACKEND_INSTANCE_GPU ? "GPU" : "CPU";
  const std::string device = std::to_string(spec.device_id < 0 ? 0 : spec.device_id);
  const std::string repository = model_py_.parent_path().parent_path().string();
  const std::string version = std::to_string(version_);
  GilGuard gil;
  PyRef args(Py_BuildValue("{sNsNsNsNsNsNsN}", "model_config", Str(config_json_),
                           "model_instance_kind", Str(kind), "model_instance_name", Str(spec.name),
                           "model_instance_device_id", Str(device), "model_repository",
                           Str(repository), "model_version", Str(version), "model_name",
                           Str(name_)));
  if (!args) return TakePythonError(absl::StatusCode::kInternal, "python backend");
  PyRef call(
      Py_BuildValue("(NNO)", Str(model_py_.string()), Str(NewModuleName(name_)), args.get()));
  if (!call) return TakePythonError(absl::StatusCode::kInternal, "python backend");
  SONIC_ASSIGN_OR_RETURN(
      PyRef instance, CallRuntime("Instance", call.get(), absl::StatusCode::kInvalidArgument,
                                  absl::StrCat(model_py_.string(), " (instance ", spec.name, ")")));
  return std::unique_ptr<PythonInstance>(new PythonInstance(*this, std::move(instance)));
}

PythonInstance::~PythonInstance() {
  GilGuard gil;
  PyRef result(PyObject_CallMethod(instance_.get(), "finalize", nullptr));
  if (!result) PyErr_Print();  // the runtime's own failure: nowhere else to report it
  instance_.reset();
}

absl::StatusOr<PyRef> PythonInstance::BuildBatch(std::span<const SonicBackendRequest> requests) {
  PyRef batch(PyList_New(static_cast<Py_ssize_t>(requests.size())));
  if (!batch) return TakePythonError(absl::StatusCode::kInternal, "python backend");
  for (size_t i = 0; i < requests.size(); ++i) {
    const SonicBackendRequest& request = requests[i];
    PyRef inputs(PyList_New(request.input_count));
    PyRef outputs(PyList_New(request.output_count));
    if (!inputs || !outputs) return TakePythonError(absl::StatusCode::kInternal, "python backend");
    for (uint32_t j = 0; j < request.input_count; ++j) {
      SONIC_ASSIGN_OR_RETURN(PyRef array, python_host::TensorAsNumpy(request.inputs[j]));
      PyObject* pair = Py_BuildValue("(NN)", Str(request.inputs[j].name), array.release());
      if (pair == nullptr) return TakePythonError(absl::StatusCode::kInternal, "python backend");
      PyList_SET_ITEM(inputs.get(), j, pair);  // steals
    }
    for (uint32_t j = 0; j < request.output_count; ++j) {
      PyObject* name = Str(request.output_names[j]);
      if (name == nullptr) return TakePythonError(absl::StatusCode::kInternal, "python backend");
      PyList_SET_ITEM(outputs.get(), j, name);
    }
    PyObject* item = Py_BuildValue("(NNN)", Str(request.id == nullptr ? "" : request.id),
                                   inputs.release(), outputs.release());
    if (item == nullptr) return TakePythonError(absl::StatusCode::kInternal, "python backend");
    PyList_SET_ITEM(batch.get(), static_cast<Py_ssize_t>(i), item);
  }
  return batch;
}

void PythonInstance::Respond(PyObject* result, const SonicBackendRequest& request, uint32_t index,
                             const SonicBackendResponder& responder) {
  auto fail = [&](const absl::Status& status) {
    responder.fail(responder.context, index, static_cast<int32_t>(status.code()),
                   std::string(status.message()).c_str());
  };
  int code = 0;
  const char* message = nullptr;
  PyObject* outputs = nullptr;  // borrowed from `result`
  if (!PyArg_ParseTuple(result, "isO", &code, &message, &outputs)) {
    fail(TakePythonError(absl::StatusCode::kInternal, "python backend: a result"));
    return;
  }
  if (code != 0) {
    responder.fail(responder.context, index, code, message);
    return;
  }
  RequestAllocator route{&responder, index};
  const SonicBackendOutputAllocator allocator{&route, &RequestAllocator::Allocate};
  const std::string context = absl::StrCat("model '", model_.name_, "'");
  PyRef iterator(PyObject_GetIter(outputs));
  if (!iterator) return fail(TakePythonError(absl::StatusCode::kInternal, context));
  while (PyRef pair{PyIter_Next(iterator.get())}) {
    const char* name = nullptr;
    PyObject* array = nullptr;
    if (!PyArg_ParseTuple(pair.get(), "sO", &name, &array)) {
      return fail(TakePythonError(absl::StatusCode::kInternal, context));
    }
    bool requested = false;
    for (uint32_t j = 0; j < request.output_count; ++j) {
      requested |= std::string_view(request.output_names[j]) == name;
    }
    if (!requested) continue;  // produced but not asked for: dropped, as Triton does
    auto type = model_.output_types_.find(std::string_view(name));
    if (type == model_.output_types_.end()) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat(context, " returned output '", name, "', which is not in its config")));
    }
    absl::Status copied =
        python_host::CopyNumpyToOutput(array, name, type->second, allocator, context);
    if (!copied.ok()) return fail(copied);
  }
  if (PyErr_Occurred()) fail(TakePythonError(absl::StatusCode::kInternal, context));
}

absl::Status PythonInstance::ExecuteRequests(std::span<const SonicBackendRequest> requests,
                                             const SonicBackendResponder& responder) {
  GilGuard gil;
  SONIC_ASSIGN_OR_RETURN(PyRef batch, BuildBatch(requests));
  PyRef results(PyObject_CallMethod(instance_.get(), "execute", "O", batch.get()));
  const std::string context = absl::StrCat("model '", model_.name_, "': python backend");
  if (!results) {
    return TakePythonError(absl::StatusCode::kInternal, context, ErrorDetail::kTraceback);
  }
  if (!PyList_Check(results.get()) ||
      PyList_GET_SIZE(results.get()) != static_cast<Py_ssize_t>(requests.size())) {
    return absl::InternalError(absl::StrCat(context, ": the runtime returned no list of results"));
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    Respond(PyList_GET_ITEM(results.get(), static_cast<Py_ssize_t>(i)), requests[i],
            static_cast<uint32_t>(i), responder);
  }
  return absl::OkStatus();
}

absl::Status PythonInstance::Execute(std::span<const SonicBackendTensor> inputs,
                                     std::span<const char* const> output_names, uint64_t batch_size,
                                     const SonicBackendOutputAllocator& allocator) {
  const SonicBackendRequest request{"",
                                    batch_size,
                                    inputs.data(),
                                    static_cast<uint32_t>(inputs.size()),
                                    output_names.data(),
                                    static_cast<uint32_t>(output_names.size())};
  SingleRequestResponder single{&allocator, absl::OkStatus()};
  const SonicBackendResponder responder{&single, &SingleRequestResponder::Allocate,
                                        &SingleRequestResponder::Fail};
  SONIC_RETURN_IF_ERROR(ExecuteRequests(std::span(&request, 1), responder));
  return single.status;
}

}  // namespace sonic::backends::python
