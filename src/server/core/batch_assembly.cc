#include "server/core/batch_assembly.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "sonic/common/data_type.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

const RequestInput* FindRequestInput(const InferenceRequest& request, std::string_view name) {
  for (const RequestInput& input : request.inputs) {
    if (input.name == name) return &input;
  }
  return nullptr;
}

bool IsAligned(std::span<const std::byte> data, DataType type) {
  size_t align = std::max<size_t>(ElementSize(type), 1);
  return reinterpret_cast<uintptr_t>(data.data()) % align == 0;
}

// `bytes` uninitialized bytes owned by `out` (none allocated for 0).
std::span<std::byte> NewBuffer(size_t bytes, AssembledInputs& out) {
  if (bytes == 0) return {};
  return {out.buffers.emplace_back(std::make_unique_for_overwrite<std::byte[]>(bytes)).get(),
          bytes};
}

// Input `index` of every request one after another: a view of the only request's bytes when
// that needs no copy, else a new buffer in `out`.
std::span<const std::byte> Concatenate(const Batch& batch, size_t index, AssembledInputs& out) {
  const RequestInput& first = batch.front()->inputs[index];
  if (batch.size() == 1 && IsAligned(first.data, first.type)) return first.data;
  size_t total = 0;
  for (const auto& request : batch) total += request->inputs[index].data.size();
  const std::span<std::byte> buffer = NewBuffer(total, out);
  size_t offset = 0;
  for (const auto& request : batch) {
    std::span<const std::byte> part = request->inputs[index].data;
    if (!part.empty()) std::memcpy(buffer.data() + offset, part.data(), part.size());
    offset += part.size();
  }
  return buffer;
}

// The shape the backend sees for input `index`: [sum of element counts] for a ragged input,
// else the batch concatenated along the batch dimension, then reshaped. `input` is its
// signature (null for a name the model lacks).
absl::StatusOr<Shape> AssembledShape(const ModelSignature& signature,
                                     const ModelSignature::Input* input, const Batch& batch,
                                     size_t index) {
  const RequestInput& first = batch.front()->inputs[index];
  if (input != nullptr && input->allow_ragged_batch) {
    int64_t total = 0;
    for (const auto& request : batch) {
      SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(request->inputs[index].shape));
      total += elements;
    }
    return Shape{total};
  }
  Shape shape = first.shape;
  const bool batched = signature.batched();
  if (batched && !shape.empty()) {
    shape[0] = 0;
    for (const auto& request : batch) shape[0] += request->inputs[index].shape.at(0);
  }
  if (input != nullptr && input->reshape) {
    SONIC_ASSIGN_OR_RETURN(shape, ApplyReshape(shape, batched, *input->reshape));
  }
  return shape;
}

absl::Status AssembleInput(const ModelSignature& signature, const ModelSignature::Input* input,
                           const Batch& batch, size_t index, AssembledInputs& out) {
  const RequestInput& first = batch.front()->inputs[index];
  for (const auto& request : batch) {
    if (request->inputs.size() != batch.front()->inputs.size() ||
        request->inputs[index].name != first.name || request->inputs[index].type != first.type) {
      return absl::InternalError(absl::StrCat("model '", signature.model_name(),
                                              "': a batch holds requests with different inputs"));
    }
  }
  // A request alone, without reshape or ragged batching, goes as it came: its own shape (the
  // request outlives the execution).
  const Shape* stored = &first.shape;
  if (batch.size() != 1 || (input != nullptr && (input->allow_ragged_batch || input->reshape))) {
    SONIC_ASSIGN_OR_RETURN(Shape shape, AssembledShape(signature, input, batch, index));
    stored = &out.shapes.emplace_back(std::move(shape));
  }
  std::span<const std::byte> data = Concatenate(batch, index, out);
  out.tensors.push_back(SonicBackendTensor{first.name.c_str(), static_cast<int32_t>(first.type),
                                           stored->data(), static_cast<uint32_t>(stored->size()),
                                           data.data(), data.size()});
  return absl::OkStatus();
}

// The values of one batch_input, before conversion to its data type, and its shape.
struct BatchInputValues {
  std::vector<int64_t> values;
  Shape shape;
};

// The source input's shape in every request of the batch, in batch order.
absl::StatusOr<std::vector<const Shape*>> SourceShapes(
    const ModelSignature& signature, const Batch& batch,
    const ModelSignature::BatchInput& batch_input) {
  const std::string& source = batch_input.sources[0];
  std::vector<const Shape*> shapes;
  for (const auto& request : batch) {
    const RequestInput* input = FindRequestInput(*request, source);
    if (input == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model '", signature.model_name(), "': batch_input '", batch_input.targets[0],
          "' needs input '", source, "', which request '", request->id, "' does not have"));
    }
    shapes.push_back(&input->shape);
  }
  return shapes;
}

// One row per batch item: the request's shape without its batch dimension.
BatchInputValues ItemShapes(const std::vector<const Shape*>& shapes, bool flatten) {
  BatchInputValues result;
  int64_t items = 0;
  size_t item_rank = 0;
  for (const Shape* shape : shapes) {
    if (shape->empty()) continue;
    item_rank = shape->size() - 1;
    for (int64_t item = 0; item < (*shape)[0]; ++item) {
      result.values.insert(result.values.end(), shape->begin() + 1, shape->end());
    }
    items += (*shape)[0];
  }
  const int64_t rank = static_cast<int64_t>(item_rank);
  result.shape = flatten ? Shape{items * rank} : Shape{items, rank};
  return result;
}

absl::StatusOr<BatchInputValues> ComputeBatchInput(const ModelSignature& signature,
                                                   const Batch& batch,
                                                   const ModelSignature::BatchInput& batch_input) {
  SONIC_ASSIGN_OR_RETURN(std::vector<const Shape*> shapes,
                         SourceShapes(signature, batch, batch_input));
  std::vector<int64_t> counts;
  for (const Shape* shape : shapes) {
    SONIC_ASSIGN_OR_RETURN(int64_t count, ElementCount(*shape));
    counts.push_back(count);
  }
  const int64_t requests = static_cast<int64_t>(batch.size());
  BatchInputValues result;
  switch (batch_input.kind) {
    case inference::BatchInput::BATCH_ELEMENT_COUNT:
      return BatchInputValues{counts, {requests}};
    case inference::BatchInput::BATCH_ACCUMULATED_ELEMENT_COUNT:
    case inference::BatchInput::BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO: {
      const bool with_zero =
          batch_input.kind == inference::BatchInput::BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO;
      if (with_zero) result.values.push_back(0);
      int64_t sum = 0;
      for (int64_t count : counts) result.values.push_back(sum += count);
      result.shape = {requests + (with_zero ? 1 : 0)};
      return result;
    }
    case inference::BatchInput::BATCH_MAX_ELEMENT_COUNT_AS_SHAPE: {
      const int64_t max = *std::max_element(counts.begin(), counts.end());
      return BatchInputValues{std::vector<int64_t>(max, 0), {max}};
    }
    case inference::BatchInput::BATCH_ITEM_SHAPE:
    case inference::BatchInput::BATCH_ITEM_SHAPE_FLATTEN:
      return ItemShapes(shapes,
                        batch_input.kind == inference::BatchInput::BATCH_ITEM_SHAPE_FLATTEN);
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "model '", signature.model_name(), "': batch_input '", batch_input.targets[0],
          "' has unsupported kind ", static_cast<int>(batch_input.kind)));
  }
}

// Stores `values` as INT32 or FP32 elements in a new buffer of `out`.
absl::StatusOr<std::span<const std::byte>> Encode(const ModelSignature& signature,
                                                  const ModelSignature::BatchInput& batch_input,
                                                  const std::vector<int64_t>& values,
                                                  AssembledInputs& out) {
  const std::span<std::byte> buffer = NewBuffer(values.size() * 4, out);
  for (size_t i = 0; i < values.size(); ++i) {
    if (batch_input.data_type == inference::TYPE_FP32) {
      const float value = static_cast<float>(values[i]);
      std::memcpy(buffer.data() + 4 * i, &value, 4);
    } else if (batch_input.data_type == inference::TYPE_INT32) {
      if (values[i] > std::numeric_limits<int32_t>::max()) {
        return absl::InternalError(absl::StrCat("model '", signature.model_name(),
                                                "': batch_input '", batch_input.targets[0],
                                                "' value ", values[i], " does not fit INT32"));
      }
      const int32_t value = static_cast<int32_t>(values[i]);
      std::memcpy(buffer.data() + 4 * i, &value, 4);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", signature.model_name(), "': batch_input '",
                       batch_input.targets[0], "' data_type must be TYPE_INT32 or TYPE_FP32"));
    }
  }
  return std::span<const std::byte>(buffer);
}

absl::Status AssembleBatchInput(const ModelSignature& signature, const Batch& batch,
                                const ModelSignature::BatchInput& batch_input,
                                AssembledInputs& out) {
  if (batch_input.targets.size() != 1 || batch_input.sources.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", signature.model_name(),
                     "': a batch_input needs one target_name and one source_input"));
  }
  SONIC_ASSIGN_OR_RETURN(BatchInputValues computed,
                         ComputeBatchInput(signature, batch, batch_input));
  SONIC_ASSIGN_OR_RETURN(std::span<const std::byte> data,
                         Encode(signature, batch_input, computed.values, out));
  const Shape& shape = out.shapes.emplace_back(std::move(computed.shape));
  out.tensors.push_back(SonicBackendTensor{
      batch_input.targets[0].c_str(), static_cast<int32_t>(batch_input.data_type), shape.data(),
      static_cast<uint32_t>(shape.size()), data.data(), data.size()});
  return absl::OkStatus();
}

// The bytes of elements [first, first + count) of `whole`. INTERNAL when it has fewer.
absl::StatusOr<std::string> ElementRange(const OutputTensor& whole, int64_t first, int64_t count) {
  auto too_short = [&] {
    return absl::InternalError(
        absl::StrCat("output '", whole.name, "' has fewer than ", first + count, " elements"));
  };
  if (whole.type != DataType::kBytes) {
    const size_t size = ElementSize(whole.type);
    if (static_cast<size_t>(first + count) * size > whole.data.size()) return too_short();
    return whole.data.substr(first * size, count * size);
  }
  // BYTES: walk the length-prefixed elements to find the range's bytes.
  size_t pos = 0, begin = 0;
  for (int64_t index = 0; index < first + count; ++index) {
    if (index == first) begin = pos;
    uint32_t len = 0;
    if (pos + 4 > whole.data.size()) return too_short();
    std::memcpy(&len, whole.data.data() + pos, 4);
    if (pos + 4 + len > whole.data.size()) return too_short();
    pos += 4 + len;
  }
  if (count == 0) begin = pos;
  return whole.data.substr(begin, pos - begin);
}

// A scattered output's shape for `request`, by Triton's rule (see the header).
absl::StatusOr<Shape> ScatteredShape(const ModelSignature& signature,
                                     const ModelSignature::Output& output,
                                     const InferenceRequest& request) {
  const RequestInput* source =
      output.scatter_source ? FindRequestInput(request, *output.scatter_source) : nullptr;
  if (source == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", signature.model_name(), "': output '", output.name,
        "' cannot be scattered for request '", request.id, "': no config or source input"));
  }
  Shape shape;
  if (signature.batched()) shape.push_back(kVariableDim);
  shape.insert(shape.end(), output.model_dims.begin(), output.model_dims.end());
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != kVariableDim) continue;
    if (i >= source->shape.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model '", signature.model_name(), "': output '", output.name, "' dimension ", i,
          " is -1 but input '", source->name, "' has rank ", source->shape.size()));
    }
    shape[i] = source->shape[i];
  }
  return shape;
}

absl::StatusOr<OutputTensor> ScatterOutput(const ModelSignature& signature,
                                           const ModelSignature::Output& output, const Batch& batch,
                                           size_t index, const OutputTensor& whole) {
  int64_t first = 0;
  for (size_t i = 0; i < index; ++i) {
    SONIC_ASSIGN_OR_RETURN(Shape before, ScatteredShape(signature, output, *batch[i]));
    SONIC_ASSIGN_OR_RETURN(int64_t count, ElementCount(before));
    first += count;
  }
  SONIC_ASSIGN_OR_RETURN(Shape shape, ScatteredShape(signature, output, *batch[index]));
  SONIC_ASSIGN_OR_RETURN(int64_t count, ElementCount(shape));
  SONIC_ASSIGN_OR_RETURN(std::string data, ElementRange(whole, first, count));
  return OutputTensor{whole.name, whole.type, std::move(shape), std::move(data)};
}

}  // namespace

absl::StatusOr<Shape> ApplyReshape(const Shape& shape, bool batched,
                                   std::span<const int64_t> target) {
  std::span<const int64_t> item(shape);
  if (batched && !item.empty()) item = item.subspan(1);
  SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(item));
  SONIC_ASSIGN_OR_RETURN(Shape reshaped, ResolveDims(target, elements));
  if (batched && !shape.empty()) reshaped.insert(reshaped.begin(), shape[0]);
  return reshaped;
}

absl::Status AssembleBatchInputs(const ModelSignature& signature, const Batch& batch,
                                 AssembledInputs& out) {
  if (batch.empty()) return absl::InternalError("an empty batch has no inputs");
  size_t cursor = 0;
  for (size_t i = 0; i < batch.front()->inputs.size(); ++i) {
    const ModelSignature::Input* input = signature.input(batch.front()->inputs[i].name, cursor);
    SONIC_RETURN_IF_ERROR(AssembleInput(signature, input, batch, i, out));
  }
  for (const ModelSignature::BatchInput& batch_input : signature.batch_inputs()) {
    SONIC_RETURN_IF_ERROR(AssembleBatchInput(signature, batch, batch_input, out));
  }
  return absl::OkStatus();
}

absl::StatusOr<OutputTensor> SplitOutputForRequest(const ModelSignature& signature,
                                                   const Batch& batch, size_t index,
                                                   const OutputTensor& whole) {
  const ModelSignature::Output* output =
      signature.has_scattered_outputs() ? signature.output(whole.name) : nullptr;
  if (output != nullptr && output->scattered) {
    return ScatterOutput(signature, *output, batch, index, whole);
  }
  int64_t row = 0;
  for (size_t i = 0; i < index; ++i) row += batch[i]->batch_size;
  const int64_t rows = signature.batched() ? batch[index]->batch_size : 1;
  OutputTensor part{whole.name, whole.type, whole.shape, {}};
  if (!signature.batched() || part.shape.empty()) {
    part.data = whole.data;  // no batch dimension: every request gets all of it
    return part;
  }
  part.shape[0] = rows;
  SONIC_ASSIGN_OR_RETURN(int64_t row_elements, ElementCount(std::span(whole.shape).subspan(1)));
  SONIC_ASSIGN_OR_RETURN(part.data, ElementRange(whole, row * row_elements, rows * row_elements));
  return part;
}

bool CanBatchTogether(const ModelSignature& signature, const InferenceRequest& a,
                      const InferenceRequest& b) {
  if (!signature.batched() || a.inputs.size() != b.inputs.size()) return false;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const RequestInput& x = a.inputs[i];
    const RequestInput& y = b.inputs[i];
    if (x.name != y.name || x.type != y.type) return false;
    if (x.shape.size() == y.shape.size() &&
        std::equal(x.shape.begin() + (x.shape.empty() ? 0 : 1), x.shape.end(),
                   y.shape.begin() + (y.shape.empty() ? 0 : 1))) {
      continue;
    }
    // Only a ragged input may differ.
    const ModelSignature::Input* input = signature.input(x.name);
    if (input == nullptr || !input->allow_ragged_batch) return false;
  }
  return true;
}

}  // namespace sonic::server
