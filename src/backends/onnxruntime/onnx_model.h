// The onnxruntime backend's model and instance: an ONNX model run by ONNX Runtime's Python API
// (the pinned PyPI wheel) in the process's embedded CPython (backends/python_host). This header
// does not include Python, so the C entry points (onnxruntime_backend.cc) compile without it.
//
// Model file: <version_path>/<default_model_filename, or "model.onnx">; when that is a directory
// (Triton's layout for models with external weights), the model.onnx inside it.
//
// Configuration (as Triton's onnxruntime backend):
//  - inputs (plus batch_input targets) and outputs are matched to the model's by name. Loading
//    checks that every model input is configured and every configured tensor exists, with the
//    model's type, and that the dimensions agree where both are fixed (the configured dims
//    preceded by the batch dimension, which the model must leave variable, when
//    max_batch_size > 0; reshape.shape instead of dims where a tensor has a reshape). A ragged
//    input (allow_ragged_batch) and a batch_input target arrive as one dimension, the requests'
//    elements one after another: the model takes them as 1-D tensors, as in Triton;
//  - types: every Triton type but BF16 (numpy has no bfloat16); BYTES as tensor(string), whose
//    elements must be UTF-8 text (onnxruntime's Python API converts strings through UTF-8);
//  - parameters intra_op_thread_count, inter_op_thread_count, execution_mode and
//    optimization.graph.level (see session_settings.h);
//  - one InferenceSession per instance. A CPU instance uses ONNX Runtime's CPU execution
//    provider; a GPU instance needs an onnxruntime with the CUDA execution provider (the pinned
//    wheel has none): otherwise instance creation is FAILED_PRECONDITION, on which the server
//    puts a KIND_AUTO instance on the CPU instead.
//
// The GIL: taken to wrap the inputs (numpy views of the server's buffers, no copy) and to read
// the outputs; ONNX Runtime's run() releases it while it computes, and outputs are copied into
// the server's buffers without it. Instances of every onnxruntime model therefore compute in
// parallel, each on its own InferenceSession.
#pragma once

#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sonic/backend/backend_api.h"

namespace sonic::backends::onnxruntime {

class OnnxInstance;

// One loaded model version. Thread-safe.
class OnnxModel {
 public:
  struct State;  // Defined in onnx_model.cc.

  // Starts the embedded interpreter if needed and loads the model into a first session, whose
  // inputs and outputs are checked against the configuration (the session then serves the first
  // instance). Errors, each one line naming the model: FAILED_PRECONDITION when Python or
  // onnxruntime cannot be started or imported (how to fix it); INVALID_ARGUMENT when the file is
  // missing, ONNX Runtime cannot load it (its reason), or it disagrees with the configuration; or
  // a configuration parameter is wrong.
  static absl::StatusOr<std::unique_ptr<OnnxModel>> Create(const SonicBackendModelSpec& spec);

  ~OnnxModel();

  // A new execution context with its own InferenceSession. FAILED_PRECONDITION for a GPU
  // instance without a CUDA execution provider; INVALID_ARGUMENT when the session cannot be made.
  absl::StatusOr<std::unique_ptr<OnnxInstance>> CreateInstance(
      const SonicBackendInstanceSpec& spec) const;

 private:
  explicit OnnxModel(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// One execution context. Not thread-safe: one Execute at a time (the backend interface
// guarantees it).
class OnnxInstance {
 public:
  struct State;  // Defined in onnx_model.cc.

  explicit OnnxInstance(std::unique_ptr<State> state);
  ~OnnxInstance();

  // Runs the session on `inputs` and copies each requested output into memory from `allocator`.
  // Errors: INVALID_ARGUMENT for a missing or mistyped input, an unknown output, or an output
  // whose type or shape disagrees with the configuration (naming it, expected and got);
  // INTERNAL when ONNX Runtime fails (its reason) or the allocator refuses.
  absl::Status Execute(std::span<const SonicBackendTensor> inputs,
                       std::span<const char* const> output_names, uint64_t batch_size,
                       const SonicBackendOutputAllocator& allocator);

 private:
  std::unique_ptr<State> state_;
};

}  // namespace sonic::backends::onnxruntime
