// The python backend: Triton's Python model API (`<version>/model.py` defining class
// TritonPythonModel, and the `triton_python_backend_utils` module it imports), run on the
// process's embedded CPython (backends/python_host).
//
// The Python side lives in two modules installed beside the plugin, in
// `<plugin directory>/sonic_python_backend/` (put first on sys.path when the plugin starts the
// interpreter): triton_python_backend_utils.py (the model's API) and sonic_python_runtime.py
// (what this code calls: import, initialize, execute, finalize).
//
// - PythonModel::Create imports model.py once to check it (a syntax error, a failing import or a
//   missing TritonPythonModel.execute fails the load with Python's traceback) and runs its
//   auto_complete_config on the served configuration.
// - Each PythonInstance imports model.py again into a module of its own and makes its own
//   TritonPythonModel object, calling initialize(args) (args as Triton's: model_config JSON,
//   model_instance_kind, model_instance_name, model_instance_device_id, model_repository,
//   model_version, model_name); finalize() runs when the instance is destroyed.
// - ExecuteRequests hands a batch over as Triton does: one execute(requests) call with one
//   InferenceRequest per request (its own input tensors, as writable numpy copies), one response
//   per request back. An exception from execute, or a malformed return value, is an INTERNAL
//   error on every request of the batch carrying the message and Python's traceback; a response
//   carrying a TritonError fails its request only, with the TritonError's code mapped to the
//   gRPC code and its message.
//
// GIL: the interpreter is shared by the whole process, so Python code of all instances (of this
// and every other Python-hosted model) runs one thread at a time; only what releases the GIL
// (numpy's large kernels, I/O, the output copies done here) runs in parallel.
//
// Thread-safety: PythonModel is thread-safe after creation; a PythonInstance is used by one
// thread at a time (the backend interface's rule).
#pragma once

// python_host.h includes Python.h, which must come before any standard header.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/python_host/python_host.h"
#include "inference/model_config.pb.h"
#include "sonic/backend/backend_api.h"
#include "sonic/common/data_type.h"

namespace sonic::backends::python {

class PythonInstance;

class PythonModel {
 public:
  // Starts the interpreter if needed and checks model.py (see above). Errors: FAILED_PRECONDITION
  // when the interpreter or the runtime modules cannot be had; UNIMPLEMENTED for a config this
  // backend cannot serve (batch_input, batch_output, a BF16 tensor); INVALID_ARGUMENT when
  // model.py is missing, fails to import, has no TritonPythonModel with execute, or its
  // auto_complete_config fails or changes the served configuration (with the traceback).
  static absl::StatusOr<std::unique_ptr<PythonModel>> Create(const SonicBackendModelSpec& spec);

  // Imports model.py for the instance and runs initialize. INVALID_ARGUMENT with the traceback
  // when either raises.
  absl::StatusOr<std::unique_ptr<PythonInstance>> CreateInstance(
      const SonicBackendInstanceSpec& spec) const;

  const std::string& name() const { return name_; }

 private:
  friend class PythonInstance;
  PythonModel() = default;

  std::string name_;
  int64_t version_ = 0;
  std::filesystem::path model_py_;
  std::string config_json_;  // protobuf JSON of the config
  std::map<std::string, DataType, std::less<>> output_types_;
};

class PythonInstance {
 public:
  // Calls finalize() (a failure is printed to stderr: there is no one to return it to).
  ~PythonInstance();
  PythonInstance(const PythonInstance&) = delete;
  PythonInstance& operator=(const PythonInstance&) = delete;

  // One execute() call for `requests`; every request is answered through `responder`. Returns an
  // error only when the runtime itself fails (INTERNAL with the traceback): user-code failures
  // are the requests' responses.
  absl::Status ExecuteRequests(std::span<const SonicBackendRequest> requests,
                               const SonicBackendResponder& responder);

  // The assembled-batch entry (for servers that do not hand batches request by request): the
  // whole batch as one request; its error, if any, is returned.
  absl::Status Execute(std::span<const SonicBackendTensor> inputs,
                       std::span<const char* const> output_names, uint64_t batch_size,
                       const SonicBackendOutputAllocator& allocator);

 private:
  friend class PythonModel;
  PythonInstance(const PythonModel& model, python_host::PyRef instance)
      : model_(model), instance_(std::move(instance)) {}

  // The (id, [(name, array)], [output names]) list execute() takes. REQUIRES: the GIL.
  absl::StatusOr<python_host::PyRef> BuildBatch(std::span<const SonicBackendRequest> requests);
  // Copies one request's result into its outputs, or fails it. REQUIRES: the GIL.
  void Respond(PyObject* result, const SonicBackendRequest& request, uint32_t index,
               const SonicBackendResponder& responder);

  const PythonModel& model_;
  python_host::PyRef instance_;  // sonic_python_runtime.Instance; reset under the GIL
};

}  // namespace sonic::backends::python
