// How a batch of entries travels (one rectangular request or one request per entry), the
// parts of each planned request's ModelInferRequest, and the reading of each response back into the
// outputs' per-entry views. Pure functions; thread-compatible.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "infer_wire.h"
#include "inference/grpc_service.pb.h"
#include "sonic/client/triton_client.h"
#include "sonic/client/triton_data.h"

namespace sonic::client::internal {

// Entries [first_entry, first_entry + entry_count) of the batch, sent as one request.
struct PlannedRequest {
  size_t first_entry = 0;
  size_t entry_count = 0;
};

struct RequestPlan {
  BatchMode mode = BatchMode::kRectangular;
  std::vector<PlannedRequest> requests;
};

// Rectangular when every input has one shape across entries, no input has allow_ragged_batch
// and `requested` is kRectangular; ragged (one request per entry) otherwise. Empty for batch
// size 0. kBadInput errors: a non-optional input without data (toServer() not called), a
// rectangular batch larger than max_batch_size, or of more than one entry for a model that does
// not batch (max_batch_size 0: CMSSW refuses it too). `inputs` are in the model's order.
absl::StatusOr<RequestPlan> PlanRequests(const std::vector<const TritonInputData*>& inputs,
                                         size_t batch_size, int max_batch_size, BatchMode requested,
                                         std::string_view context);

// The request for `planned`: every input with data (raw contents, in `inputs` order, as views
// of the inputs' bytes kept alive with them: infer_wire.h) and every output in `outputs` named.
// Inputs k with in_region[k] get no raw contents: their data goes to a shared region
// (region_layout.h).
InferRequestParts BuildRequest(const std::string& model_name, const std::string& model_version,
                               const std::vector<const TritonInputData*>& inputs,
                               const std::map<std::string, TritonOutputData>& outputs,
                               const PlannedRequest& planned, bool batched,
                               const std::vector<bool>& in_region = {});

// Points the entries of `planned` in every output at `response` (which must outlive those
// views), or, for the outputs in `region_outputs`, at those bytes of the shared region (the
// response then has empty raw contents for them). kModelError when the response does not match
// the request (missing output, lists not aligned, wrong datatype, batch or byte size).
absl::Status ReadResponse(
    const inference::ModelInferResponse& response, const PlannedRequest& planned, bool batched,
    std::map<std::string, TritonOutputData>& outputs, std::string_view context,
    const std::map<std::string, std::span<const std::byte>>& region_outputs = {});

}  // namespace sonic::client::internal
