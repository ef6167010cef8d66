// The pytorch backend's model and instance: a TorchScript module loaded with LibTorch, run on
// tensors of the C backend interface. Only torch_model.cc includes LibTorch; this header does not,
// so the C entry points (pytorch_backend.cc) compile quickly.
//
// Model files: <version_path>/<default_model_filename, or "model.pt">, loaded with
// torch::jit::load on CPU.
//
// Configuration:
//  - inputs (plus batch_input targets) are matched to forward()'s arguments by name, then by the
//    "<name>__<index>" convention, then by configuration order (see io_mapping.h);
//  - forward() may return a Tensor, a tuple or list of Tensors (matched to outputs by the
//    "OUTPUT__<index>" convention, else configuration order), or a Dict[str, Tensor] (by name);
//  - types: BOOL, UINT8, INT8..INT64, FP16, FP32, FP64, BF16. BYTES and UINT16/32/64 (no LibTorch
//    dtype) are refused at model creation with INVALID_ARGUMENT;
//  - a `reshape` is applied by the server (as in Triton): inputs arrive in the model's shape and
//    outputs are checked against reshape.shape instead of dims;
//  - instances: a CPU instance runs on the server's buffers in place. A GPU instance
//    (SONIC_BACKEND_INSTANCE_GPU, from KIND_GPU or KIND_AUTO) holds its module on
//    cuda:<device_id>; each batch input is copied to that device once per execution and each
//    requested output copied back to host memory. Needs a CUDA-enabled LibTorch that sees the
//    device: otherwise instance creation is FAILED_PRECONDITION ("this LibTorch has no CUDA"),
//    on which the server puts a KIND_AUTO instance on the CPU instead;
//  - operator libraries (custom TorchScript operators) are loaded before the module: parameter
//    OPERATOR_LIBRARIES and --backend-config=pytorch,operator-libraries (operator_libraries.h).
//    A module calling an operator no library registered fails with one line naming it;
//  - parameters INTRA_OP_THREAD_COUNT and INTER_OP_THREAD_COUNT (positive integers as strings).
//    The intra-op count is per instance: LibTorch's intra-op pool is OpenMP here, whose size is
//    per calling thread, so each execution sets it on the instance's worker thread (instances x
//    threads is what the model uses at most). The inter-op pool is process-wide and can be sized
//    only once, before any inter-op work: only the first model asking for it gets it.
#pragma once

#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sonic/backend/backend_api.h"

namespace sonic::backends::pytorch {

class TorchInstance;

// One loaded model version. Thread-safe: instances only read it.
class TorchModel {
 public:
  struct State;  // Defined in torch_model.cc.

  // Loads the operator libraries, then loads and inspects the module. INVALID_ARGUMENT when the
  // file is missing or not TorchScript (naming the file and LibTorch's message, or only the
  // operator when one is unknown), when forward()'s arguments cannot be matched to the
  // inputs, or when the configuration uses a type LibTorch lacks; the errors of
  // LoadOperatorLibraries. May throw std::bad_alloc.
  static absl::StatusOr<std::unique_ptr<TorchModel>> Create(const SonicBackendModelSpec& spec);

  ~TorchModel();

  // A new execution context holding its own copy of the module (parameters included, on the
  // instance's device), so instances never share mutable state. FAILED_PRECONDITION for a GPU
  // instance when LibTorch has no CUDA or does not see device_id; INTERNAL when the copy to the
  // device fails (e.g. out of GPU memory).
  absl::StatusOr<std::unique_ptr<TorchInstance>> CreateInstance(
      const SonicBackendInstanceSpec& spec) const;

 private:
  explicit TorchModel(std::shared_ptr<const State> state);
  std::shared_ptr<const State> state_;
};

// One execution context. Not thread-safe: one Execute at a time (the backend interface
// guarantees it).
class TorchInstance {
 public:
  struct State;  // Defined in torch_model.cc.

  explicit TorchInstance(std::unique_ptr<State> state);
  ~TorchInstance();

  // Runs forward() on `inputs` without copying them (torch::from_blob over the server's buffers,
  // which the module must not modify) under InferenceMode, checks each requested output's type
  // and shape against the configuration and copies it into memory from `allocator`. Errors:
  // INVALID_ARGUMENT for a missing or mistyped input, an unknown output name, or an output whose
  // type or shape disagrees with the configuration (naming the output, expected and got);
  // INTERNAL when forward() throws or the allocator refuses.
  absl::Status Execute(std::span<const SonicBackendTensor> inputs,
                       std::span<const char* const> output_names, uint64_t batch_size,
                       const SonicBackendOutputAllocator& allocator);

 private:
  std::unique_ptr<State> state_;
};

}  // namespace sonic::backends::pytorch
