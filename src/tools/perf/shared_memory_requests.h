// perf_analyzer's --shared-memory system: the inputs of every request are placed once in one
// registered POSIX shared-memory region (requests then carry only references), and every output
// is written by the server into a second region. As in perf_analyzer, concurrent requests share
// the output region (their results overwrite each other; a load test does not read them).
// The regions come from the client library's SystemShmResource (unique names, unlinked once the
// server has mapped them, unregistered on destruction).
//
// Thread-compatible: set up before the load starts, destroyed after it stops.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "infer_request.h"
#include "inference_connection.h"

namespace sonic::client::internal {
class SystemShmResource;
}  // namespace sonic::client::internal

namespace sonic::tools {

class SharedMemoryRequests {
 public:
  // Rewrites `requests` to use the regions: raw contents move to the input region; every output
  // of `model` is requested into the output region, sized from its shape (with the requests'
  // batch size) or `output_byte_size` when that is not known (variable dims, BYTES).
  // `connection` must outlive this object. Errors: creating or registering a region (the
  // server's code, e.g. UNAVAILABLE when it cannot map it: not on this machine).
  static absl::StatusOr<std::unique_ptr<SharedMemoryRequests>> Create(
      InferenceConnection& connection, const ModelInterface& model, int64_t batch_size,
      int64_t output_byte_size, std::vector<inference::ModelInferRequest>& requests);

  // Unregisters both regions (best effort) and unmaps them.
  ~SharedMemoryRequests();
  SharedMemoryRequests(const SharedMemoryRequests&) = delete;
  SharedMemoryRequests& operator=(const SharedMemoryRequests&) = delete;

 private:
  SharedMemoryRequests(std::unique_ptr<client::internal::SystemShmResource> inputs,
                       std::unique_ptr<client::internal::SystemShmResource> outputs);

  std::unique_ptr<client::internal::SystemShmResource> inputs_;
  std::unique_ptr<client::internal::SystemShmResource> outputs_;
};

}  // namespace sonic::tools
