#include "region_layout.h"

#include <algorithm>
#include <cstring>

#include "io_access.h"

namespace sonic::client::internal {
namespace {

constexpr size_t kAlignment = 64;

size_t Aligned(size_t offset) { return (offset + kAlignment - 1) / kAlignment * kAlignment; }

// Bytes of `planned`'s entries of `input`.
size_t InputBytes(const TritonInputData& input, const PlannedRequest& planned) {
  const auto& entry_bytes = IoAccess::EntryBytes(input);
  size_t total = 0;
  for (size_t i = 0; i < planned.entry_count; ++i) {
    total += entry_bytes[planned.first_entry + i].size();
  }
  return total;
}

// Bytes of a fixed-size output for `entries` entries; 0 when its size is not known in advance.
size_t FixedOutputBytes(const TritonOutputData& output, size_t entries, bool batched) {
  if (output.dtype() == DataType::kBytes) return 0;
  size_t elements = batched ? entries : 1;
  for (int64_t dim : IoAccess::Info(output).dims) {
    if (dim < 0) return 0;
    elements *= static_cast<size_t>(dim);
  }
  return elements * ElementSize(output.dtype());
}

}  // namespace

RegionExtent LayOutRegion(const RequestPlan& plan,
                          const std::vector<const TritonInputData*>& inputs,
                          const std::map<std::string, TritonOutputData>& outputs, bool batched,
                          std::vector<RequestLayout>& layouts) {
  layouts.assign(plan.requests.size(), RequestLayout());
  size_t end = 0;
  auto take = [&end](size_t bytes) {
    const RegionSlot slot{Aligned(end), bytes};
    end = slot.offset + bytes;
    return slot;
  };
  for (size_t r = 0; r < plan.requests.size(); ++r) {
    for (const TritonInputData* input : inputs) {
      const size_t bytes = input->hasData() && input->dtype() != DataType::kBytes
                               ? InputBytes(*input, plan.requests[r])
                               : 0;
      layouts[r].inputs.push_back(bytes == 0 ? std::nullopt : std::optional(take(bytes)));
    }
  }
  RegionExtent extent;
  extent.input_end = end;
  extent.output_begin = Aligned(end);
  for (size_t r = 0; r < plan.requests.size(); ++r) {
    for (const auto& [name, output] : outputs) {
      const size_t bytes = FixedOutputBytes(output, plan.requests[r].entry_count, batched);
      if (bytes > 0) layouts[r].outputs[name] = take(bytes);
    }
  }
  extent.output_begin = std::min(extent.output_begin, end);  // no outputs: an empty range
  extent.size = end;
  return extent;
}

std::vector<bool> InputsInRegion(const RequestLayout& layout) {
  std::vector<bool> in_region;
  for (const std::optional<RegionSlot>& slot : layout.inputs) in_region.push_back(slot.has_value());
  return in_region;
}

namespace {

template <typename Tensor>
void SetRegionParameters(const std::string& region_name, const RegionSlot& slot, Tensor& tensor) {
  auto& parameters = *tensor.mutable_parameters();
  parameters["shared_memory_region"].set_string_param(region_name);
  parameters["shared_memory_byte_size"].set_int64_param(static_cast<int64_t>(slot.size));
  parameters["shared_memory_offset"].set_int64_param(static_cast<int64_t>(slot.offset));
}

}  // namespace

void PlaceInRegion(const RequestLayout& layout, const std::string& region_name,
                   std::span<std::byte> region, const std::vector<const TritonInputData*>& inputs,
                   const PlannedRequest& planned, inference::ModelInferRequest& request) {
  int tensor = 0;  // request.inputs() holds the inputs with data, in model order
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k]->hasData()) continue;
    auto* proto = request.mutable_inputs(tensor++);
    if (k >= layout.inputs.size() || !layout.inputs[k].has_value()) continue;
    const RegionSlot* slot = &*layout.inputs[k];
    std::byte* out = region.data() + slot->offset;
    const auto& entry_bytes = IoAccess::EntryBytes(*inputs[k]);
    for (size_t i = 0; i < planned.entry_count; ++i) {
      std::span<const std::byte> bytes = entry_bytes[planned.first_entry + i];
      if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
      out += bytes.size();
    }
    SetRegionParameters(region_name, *slot, *proto);
  }
  for (auto& output : *request.mutable_outputs()) {
    auto it = layout.outputs.find(output.name());
    if (it != layout.outputs.end()) SetRegionParameters(region_name, it->second, output);
  }
}

std::map<std::string, std::span<const std::byte>> RegionOutputs(const RequestLayout& layout,
                                                                std::span<const std::byte> region) {
  std::map<std::string, std::span<const std::byte>> bytes;
  for (const auto& [name, slot] : layout.outputs) {
    bytes[name] = region.subspan(slot.offset, slot.size);
  }
  return bytes;
}

}  // namespace sonic::client::internal
