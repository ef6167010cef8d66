// The tensorflow backend's model and instance: a GraphDef or SavedModel run through TensorFlow's
// C API (tf_library.h says how the library is loaded).
//
// Model files: <version_path>/<default_model_filename>, by default "model.graphdef" for platform
// tensorflow_graphdef (a serialized GraphDef, frozen: no variables to restore) and
// "model.savedmodel" for tensorflow_savedmodel (a SavedModel directory). With only
// `backend: "tensorflow"`, a directory is read as a SavedModel and a file as a GraphDef.
//
// Configuration (Triton's tensorflow backend):
//  - names: a config input or output names a graph tensor, "op:<index>" or just "op" for output
//    0 of operation `op` (CMS's "output/BiasAdd"). For a SavedModel, a name is first looked up
//    among the keys of the signature TF_SIGNATURE_DEF (default "serving_default") of the
//    MetaGraph tagged TF_GRAPH_TAG (default "serve"), then as a graph tensor;
//  - shapes: inputs are fed in the shape they arrive (batch first when max_batch_size > 0, the
//    batch assembled by the server); variable dimensions are whatever the graph accepts. Each
//    requested output is checked against dims (reshape.shape when set), batch first;
//  - types: every config type but BYTES (TF_STRING tensors are not supported); the graph's own
//    type of each tensor must equal the config's, checked at load;
//  - parameters TF_NUM_INTRA_THREADS, TF_NUM_INTER_THREADS (non-negative integers: TensorFlow's
//    intra_op/inter_op_parallelism_threads, 0 its default) and TF_USE_PER_SESSION_THREADS ("1",
//    "true", "yes", "on"). TensorFlow's intra-op pool and, without per-session threads, its
//    inter-op pool are process-wide: the first session created in the process sizes them;
//  - MAX_SESSION_SHARE_COUNT (default 1): instances share a session in groups of that many;
//    TF_INIT_OPS_FILE: a JSON file {"init_ops": ["op", ...]} in the version directory (else
//    the model directory) whose operations each new session runs once;
//  - --backend-config=tensorflow,allow-soft-placement=true sets allow_soft_placement;
//  - instances: CPU. tensorflow-cpu has no GPU: a GPU instance is FAILED_PRECONDITION (so a
//    KIND_AUTO instance falls back to the CPU).
#pragma once

#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sonic/backend/backend_api.h"

namespace sonic::backends::tensorflow {

class TfInstance;

// One loaded model version. Thread-safe.
class TfModel {
 public:
  struct State;  // Defined in tf_model.cc.

  // Loads TensorFlow and the model into a first session and resolves every config input and
  // output in it. FAILED_PRECONDITION when TensorFlow cannot be loaded; INVALID_ARGUMENT (one
  // line naming the file and TensorFlow's reason, or the tensor) when the files are missing or
  // not a model, a name resolves to nothing, or a type disagrees with the graph.
  static absl::StatusOr<std::unique_ptr<TfModel>> Create(const SonicBackendModelSpec& spec);

  ~TfModel();

  // An execution context with a session of its own (or shared, see MAX_SESSION_SHARE_COUNT).
  // The first instance takes the session Create made. Errors as Create's for a new session.
  absl::StatusOr<std::unique_ptr<TfInstance>> CreateInstance(const SonicBackendInstanceSpec& spec);

 private:
  explicit TfModel(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;  // Shared with the instances.
};

// One execution context. Not thread-safe: one Execute at a time (the backend interface
// guarantees it).
class TfInstance {
 public:
  struct State;  // Defined in tf_model.cc.

  explicit TfInstance(std::unique_ptr<State> state);
  ~TfInstance();

  // Feeds `inputs` without copying them (TensorFlow tensors over the server's buffers), fetches
  // the requested outputs and copies each into memory from `allocator`. INVALID_ARGUMENT for a
  // missing or mistyped input, an unknown output, or an output whose type or shape disagrees with
  // the configuration, or a run TensorFlow refuses as INVALID_ARGUMENT (a shape the graph does not
  // take); INTERNAL when the run fails otherwise (TensorFlow's reason) or the allocator refuses.
  absl::Status Execute(std::span<const SonicBackendTensor> inputs,
                       std::span<const char* const> output_names, uint64_t batch_size,
                       const SonicBackendOutputAllocator& allocator);

 private:
  std::unique_ptr<State> state_;
};

}  // namespace sonic::backends::tensorflow
