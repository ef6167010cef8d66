#include "request_plan.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "io_access.h"
#include "sonic/client/client_error.h"
#include "sonic/common/tensor_view.h"

namespace sonic::client::internal {
namespace {

bool SameShapeInEveryEntry(const TritonInputData& input) {
  const std::vector<Shape>& shapes = IoAccess::Shapes(input);
  return std::all_of(shapes.begin(), shapes.end(),
                     [&shapes](const Shape& shape) { return shape == shapes.front(); });
}

absl::Status MalformedResponse(std::string_view context, const std::string& output,
                               std::string_view what) {
  return MakeClientError(absl::StatusCode::kInternal, ErrorCategory::kModelError,
                         absl::StrCat(std::string(context), ", output '", output,
                                      "': the server's response ", std::string(what)));
}

// The index of `name` in response.outputs(), or -1.
int FindOutput(const inference::ModelInferResponse& response, const std::string& name) {
  for (int i = 0; i < response.outputs_size(); ++i) {
    if (response.outputs(i).name() == name) return i;
  }
  return -1;
}

// Splits the BYTES elements of `raw` evenly over the planned entries.
absl::Status ReadStrings(std::string_view raw, const Shape& entry_shape,
                         const PlannedRequest& planned, TritonOutputData& output,
                         std::string_view context) {
  std::span<const std::byte> bytes = std::as_bytes(std::span(raw.data(), raw.size()));
  absl::StatusOr<int64_t> count = CountSerializedStrings(bytes);
  SONIC_ASSIGN_OR_RETURN(int64_t per_entry, ElementCount(entry_shape));
  if (!count.ok() || *count != per_entry * static_cast<int64_t>(planned.entry_count)) {
    return MalformedResponse(context, output.name(), "has a BYTES payload not matching its shape");
  }
  std::vector<std::string_view> all;
  ForEachSerializedString(bytes, [&all](std::string_view s) { all.push_back(s); });
  for (size_t i = 0; i < planned.entry_count; ++i) {
    auto begin = all.begin() + static_cast<int64_t>(i) * per_entry;
    IoAccess::SetEntry(output, planned.first_entry + i, entry_shape, {},
                       std::vector<std::string_view>(begin, begin + per_entry));
  }
  return absl::OkStatus();
}

// The bytes of output `index`: its raw contents, or its slot of the region when it was requested
// there (nullopt when the response has raw contents for it too).
std::optional<std::string_view> OutputBytes(
    const inference::ModelInferResponse& response, int index,
    const std::map<std::string, std::span<const std::byte>>& region_outputs) {
  const std::string& raw = response.raw_output_contents(index);
  auto it = region_outputs.find(response.outputs(index).name());
  if (it == region_outputs.end()) return std::string_view(raw);
  if (!raw.empty()) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(it->second.data()), it->second.size());
}

absl::Status ReadOutput(const inference::ModelInferResponse& response, int index,
                        const PlannedRequest& planned, bool batched, TritonOutputData& output,
                        std::string_view context,
                        const std::map<std::string, std::span<const std::byte>>& region_outputs) {
  const inference::ModelInferResponse::InferOutputTensor& tensor = response.outputs(index);
  if (tensor.datatype() != WireName(output.dtype())) {
    return MalformedResponse(context, output.name(),
                             absl::StrCat("has datatype ", tensor.datatype(), ", expected ",
                                          std::string(WireName(output.dtype()))));
  }
  Shape shape(tensor.shape().begin(), tensor.shape().end());
  const size_t count = planned.entry_count;
  if (batched && (shape.empty() || shape[0] != static_cast<int64_t>(count))) {
    return MalformedResponse(
        context, output.name(),
        absl::StrCat("has shape ", ShapeToString(shape), " for a batch of ", count));
  }
  Shape entry_shape(shape.begin() + (batched ? 1 : 0), shape.end());
  std::optional<std::string_view> region_bytes = OutputBytes(response, index, region_outputs);
  if (!region_bytes.has_value()) {
    return MalformedResponse(context, output.name(), "has raw contents for a shared-memory output");
  }
  std::string_view raw = *region_bytes;
  if (output.dtype() == DataType::kBytes) {
    return ReadStrings(raw, entry_shape, planned, output, context);
  }
  absl::StatusOr<int64_t> elements = ElementCount(shape);
  const bool in_region = region_outputs.contains(output.name());
  if (in_region && elements.ok()) {  // the slot may be larger than the tensor
    raw = raw.substr(0, static_cast<size_t>(*elements) * ElementSize(output.dtype()));
  }
  if (!elements.ok() ||
      raw.size() != static_cast<size_t>(*elements) * ElementSize(output.dtype())) {
    return MalformedResponse(
        context, output.name(),
        absl::StrCat("has ", raw.size(), " bytes for shape ", ShapeToString(shape)));
  }
  const size_t entry_size = count == 0 ? 0 : raw.size() / count;
  std::span<const std::byte> bytes = std::as_bytes(std::span(raw.data(), raw.size()));
  for (size_t i = 0; i < count; ++i) {
    IoAccess::SetEntry(output, planned.first_entry + i, entry_shape,
                       bytes.subspan(i * entry_size, entry_size), {});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RequestPlan> PlanRequests(const std::vector<const TritonInputData*>& inputs,
                                         size_t batch_size, int max_batch_size, BatchMode requested,
                                         std::string_view context) {
  RequestPlan plan;
  if (batch_size == 0) return plan;
  bool rectangular = requested == BatchMode::kRectangular;
  for (const TritonInputData* input : inputs) {
    if (!input->hasData()) {
      if (input->optional()) continue;
      return MakeClientError(absl::StatusCode::kFailedPrecondition, ErrorCategory::kBadInput,
                             absl::StrCat(std::string(context), ", input '", input->name(),
                                          "': no data for this event; call toServer() before "
                                          "dispatch()"));
    }
    // The server batches inputs with allow_ragged_batch by request (one row per request), so
    // every entry must be a request of its own even when the shapes agree.
    if (!SameShapeInEveryEntry(*input) || input->allowRaggedBatch()) rectangular = false;
  }
  if (rectangular && max_batch_size <= 0 && batch_size > 1) {
    return MakeClientError(
        absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
        absl::StrCat(std::string(context), ": batch size ", batch_size,
                     " for a model that does not batch (max_batch_size 0); use batch size 1 or "
                     "BatchMode::kRagged (one request per entry)"));
  }
  if (!rectangular) {
    plan.mode = BatchMode::kRagged;
    for (size_t i = 0; i < batch_size; ++i) plan.requests.push_back({i, 1});
    return plan;
  }
  if (max_batch_size > 0 && batch_size > static_cast<size_t>(max_batch_size)) {
    return MakeClientError(absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
                           absl::StrCat(std::string(context), ": batch size ", batch_size,
                                        " exceeds the model's max_batch_size ", max_batch_size,
                                        "; use a smaller batch or BatchMode::kRagged"));
  }
  plan.requests.push_back({0, batch_size});
  return plan;
}

InferRequestParts BuildRequest(const std::string& model_name, const std::string& model_version,
                               const std::vector<const TritonInputData*>& inputs,
                               const std::map<std::string, TritonOutputData>& outputs,
                               const PlannedRequest& planned, bool batched,
                               const std::vector<bool>& in_region) {
  InferRequestParts parts;
  inference::ModelInferRequest& request = parts.message;
  request.set_model_name(model_name);
  request.set_model_version(model_version);
  for (size_t k = 0; k < inputs.size(); ++k) {
    const TritonInputData* input = inputs[k];
    if (!input->hasData()) continue;
    auto* tensor = request.add_inputs();
    tensor->set_name(input->name());
    tensor->set_datatype(std::string(WireName(input->dtype())));
    if (batched) tensor->add_shape(static_cast<int64_t>(planned.entry_count));
    for (int64_t dim : input->shape(planned.first_entry)) tensor->add_shape(dim);
    if (k < in_region.size() && in_region[k]) continue;
    const auto& entry_bytes = IoAccess::EntryBytes(*input);
    RawContents& contents = parts.raw_contents.emplace_back();
    contents.keeper = IoAccess::Keeper(*input);
    contents.pieces.assign(
        entry_bytes.begin() + static_cast<ptrdiff_t>(planned.first_entry),
        entry_bytes.begin() + static_cast<ptrdiff_t>(planned.first_entry + planned.entry_count));
  }
  for (const auto& [name, output] : outputs) request.add_outputs()->set_name(name);
  return parts;
}

absl::Status ReadResponse(const inference::ModelInferResponse& response,
                          const PlannedRequest& planned, bool batched,
                          std::map<std::string, TritonOutputData>& outputs,
                          std::string_view context,
                          const std::map<std::string, std::span<const std::byte>>& region_outputs) {
  if (response.raw_output_contents_size() != response.outputs_size()) {
    return MalformedResponse(
        context, "*",
        absl::StrCat("has ", response.outputs_size(), " outputs but ",
                     response.raw_output_contents_size(), " raw_output_contents"));
  }
  for (auto& [name, output] : outputs) {
    const int index = FindOutput(response, name);
    if (index < 0) return MalformedResponse(context, name, "lacks this output");
    SONIC_RETURN_IF_ERROR(
        ReadOutput(response, index, planned, batched, output, context, region_outputs));
  }
  return absl::OkStatus();
}

}  // namespace sonic::client::internal
