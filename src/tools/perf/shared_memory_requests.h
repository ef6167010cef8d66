// perf_analyzer's --shared-memory system|cuda: the inputs of every request are placed once in one
// registered region (requests then carry only references), and every output is written by the
// server into a second region. As in perf_analyzer, concurrent requests share the output region
// (their results overwrite each other; a load test does not read them, so they are never copied
// back from a device). The regions come from the client library's memory resources: POSIX shared
// memory (unique names, unlinked once the server has mapped them) or CUDA device memory on
// PerfOptions::cuda_device (copied there once); both are unregistered on destruction.
//
// Thread-compatible: set up before the load starts, destroyed after it stops.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "infer_request.h"
#include "inference_connection.h"
#include "perf_options.h"

namespace sonic::transport {
class MemoryResource;
}  // namespace sonic::transport

namespace sonic::tools {

class SharedMemoryRequests {
 public:
  // Rewrites `requests` to use regions of the kind options.shared_memory names (not kNone):
  // raw contents move to the input region; every output of `model` is requested into the output
  // region, sized from its shape (with options.batch_size) or options.output_shared_memory_size
  // when that is not known (variable dims, BYTES). `connection` must outlive this object.
  // Errors: CUDA not built (UNIMPLEMENTED) or the device not visible (FAILED_PRECONDITION);
  // creating, filling or registering a region (the server's code, e.g. UNAVAILABLE when it
  // cannot map it: not on this machine).
  static absl::StatusOr<std::unique_ptr<SharedMemoryRequests>> Create(
      InferenceConnection& connection, const ModelInterface& model, const PerfOptions& options,
      std::vector<inference::ModelInferRequest>& requests);

  // Unregisters both regions (best effort) and unmaps them.
  ~SharedMemoryRequests();
  SharedMemoryRequests(const SharedMemoryRequests&) = delete;
  SharedMemoryRequests& operator=(const SharedMemoryRequests&) = delete;

 private:
  SharedMemoryRequests(std::unique_ptr<transport::MemoryResource> inputs,
                       std::unique_ptr<transport::MemoryResource> outputs);

  std::unique_ptr<transport::MemoryResource> inputs_;
  std::unique_ptr<transport::MemoryResource> outputs_;
};

}  // namespace sonic::tools
