// Where the tensors of a dispatch live in the client's shared region: inputs of fixed-size
// types are written there, and outputs whose shape is known before the request (no variable
// dimension apart from the batch dimension, not BYTES) are requested there; everything else
// travels in the messages. Pure functions; thread-compatible.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "inference/grpc_service.pb.h"
#include "request_plan.h"
#include "sonic/client/triton_data.h"

namespace sonic::client::internal {

struct RegionSlot {
  size_t offset = 0;
  size_t size = 0;
};

// The slots of one planned request; an empty layout puts everything in the messages.
struct RequestLayout {
  std::vector<std::optional<RegionSlot>> inputs;  // aligned with the ordered inputs
  std::map<std::string, RegionSlot> outputs;      // outputs in the region, by name
};

// Where a dispatch's tensors lie in the region: every input before every output, so that each
// direction is one contiguous range (one copy each way for device memory).
struct RegionExtent {
  size_t input_end = 0;     // the inputs lie in [0, input_end)
  size_t output_begin = 0;  // the outputs in [output_begin, size)
  size_t size = 0;          // the bytes needed; 0: nothing goes in a region
};

// The layout of every request of `plan`, slots packed (64-byte aligned): the inputs of every
// request, then their outputs.
RegionExtent LayOutRegion(const RequestPlan& plan,
                          const std::vector<const TritonInputData*>& inputs,
                          const std::map<std::string, TritonOutputData>& outputs, bool batched,
                          std::vector<RequestLayout>& layouts);

// Inputs of `inputs` (model order) that `layout` places in the region: the `skip_raw` argument
// of BuildRequest.
std::vector<bool> InputsInRegion(const RequestLayout& layout);

// Copies the region's inputs of `planned` into `region` and sets the shared-memory parameters of
// the inputs and outputs of `request` (built by BuildRequest with InputsInRegion(layout)).
void PlaceInRegion(const RequestLayout& layout, const std::string& region_name,
                   std::span<std::byte> region, const std::vector<const TritonInputData*>& inputs,
                   const PlannedRequest& planned, inference::ModelInferRequest& request);

// The bytes of each region output of `layout`, for ReadResponse.
std::map<std::string, std::span<const std::byte>> RegionOutputs(const RequestLayout& layout,
                                                                std::span<const std::byte> region);

}  // namespace sonic::client::internal
