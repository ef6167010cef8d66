#include "server/core/batch_executor.h"

#include <cstring>
#include <deque>
#include <string>

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"
#include "sonic/common/tensor_view.h"

namespace sonic::server {
namespace {

// The backend's view of a batch's inputs, with the storage of those that had to be copied.
struct AssembledInputs {
  std::deque<std::vector<std::byte>> buffers;  // deque: growing never moves earlier buffers
  std::deque<Shape> shapes;
  std::vector<SonicBackendTensor> tensors;
};

bool IsAligned(std::span<const std::byte> data, DataType type) {
  size_t align = std::max<size_t>(ElementSize(type), 1);
  return reinterpret_cast<uintptr_t>(data.data()) % align == 0;
}

// Applies a config `reshape` (as Triton does): the shape the model sees (or, for an output, the
// shape a client sees) keeps the batch dimension and replaces the rest with `target`.
absl::StatusOr<Shape> Reshape(const Shape& shape, bool batched,
                              const google::protobuf::RepeatedField<int64_t>& target) {
  std::span<const int64_t> item(shape);
  if (batched && !item.empty()) item = item.subspan(1);
  SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(item));
  SONIC_ASSIGN_OR_RETURN(Shape reshaped,
                         ResolveDims(std::span(target.data(), target.size()), elements));
  if (batched && !shape.empty()) reshaped.insert(reshaped.begin(), shape[0]);
  return reshaped;
}

const inference::ModelInput* FindInput(const inference::ModelConfig& config,
                                       std::string_view name) {
  for (const auto& input : config.input()) {
    if (input.name() == name) return &input;
  }
  return nullptr;
}

// Concatenates input `index` of every request along the batch dimension (one request: a view of
// its bytes, copied only when misaligned for its element type), in the shape the model expects.
absl::Status AssembleInput(const inference::ModelConfig& config, const Batch& batch, size_t index,
                           int64_t total_batch, AssembledInputs& out) {
  const RequestInput& first = batch.front()->inputs[index];
  Shape& shape = out.shapes.emplace_back(first.shape);
  std::span<const std::byte> data = first.data;
  if (batch.size() > 1 || !IsAligned(data, first.type)) {
    size_t total = 0;
    for (const auto& request : batch) total += request->inputs[index].data.size();
    std::vector<std::byte>& buffer = out.buffers.emplace_back(total);
    size_t offset = 0;
    for (const auto& request : batch) {
      std::span<const std::byte> part = request->inputs[index].data;
      if (!part.empty()) std::memcpy(buffer.data() + offset, part.data(), part.size());
      offset += part.size();
    }
    data = buffer;
    if (!shape.empty() && batch.size() > 1) shape[0] = total_batch;
  }
  const inference::ModelInput* input = FindInput(config, first.name);
  if (input != nullptr && input->has_reshape()) {
    SONIC_ASSIGN_OR_RETURN(shape,
                           Reshape(shape, config.max_batch_size() > 0, input->reshape().shape()));
  }
  out.tensors.push_back(SonicBackendTensor{first.name.c_str(), static_cast<int32_t>(first.type),
                                           shape.data(), static_cast<uint32_t>(shape.size()),
                                           data.data(), data.size()});
  return absl::OkStatus();
}

const inference::ModelOutput* FindOutput(const inference::ModelConfig& config,
                                         std::string_view name) {
  for (const auto& output : config.output()) {
    if (output.name() == name) return &output;
  }
  return nullptr;
}

// Hands the backend one buffer per requested output, after checking what the backend produced
// against the model configuration. Keeps the first violation to report it.
class BatchOutputAllocator final : public OutputAllocator {
 public:
  BatchOutputAllocator(const inference::ModelConfig& config, int64_t total_batch)
      : config_(config), total_batch_(total_batch) {}

  void* Allocate(std::string_view name, DataType type, std::span<const int64_t> shape,
                 uint64_t byte_size) override {
    absl::Status status = Check(name, type, shape, byte_size);
    if (!status.ok()) {
      if (error_.ok()) error_ = status;
      return nullptr;
    }
    // Clients see the config's dims, the model produced its reshape (checked above).
    const inference::ModelOutput* output = FindOutput(config_, name);
    Shape client_shape(shape.begin(), shape.end());
    if (output->has_reshape()) {
      absl::StatusOr<Shape> reshaped =
          Reshape(client_shape, config_.max_batch_size() > 0, output->dims());
      if (!reshaped.ok()) {
        if (error_.ok()) error_ = reshaped.status();
        return nullptr;
      }
      client_shape = *std::move(reshaped);
    }
    OutputTensor& tensor = outputs_.emplace_back();
    tensor.name = std::string(name);
    tensor.type = type;
    tensor.shape = std::move(client_shape);
    tensor.data.resize(byte_size);
    return tensor.data.data();
  }

  const absl::Status& error() const { return error_; }
  std::deque<OutputTensor>& outputs() { return outputs_; }

 private:
  absl::Status Check(std::string_view name, DataType type, std::span<const int64_t> shape,
                     uint64_t byte_size) const {
    const inference::ModelOutput* output = FindOutput(config_, name);
    std::string what = absl::StrCat("model '", config_.name(), "' output '", std::string(name), "'");
    if (output == nullptr) return absl::InternalError(absl::StrCat(what, " is not in the config"));
    if (static_cast<int32_t>(type) != output->data_type()) {
      return absl::InternalError(absl::StrCat(what, " produced ", std::string(WireName(type)), ", config says ",
                                              inference::DataType_Name(output->data_type())));
    }
    const auto& dims = output->has_reshape() ? output->reshape().shape() : output->dims();
    Shape expected(dims.begin(), dims.end());
    if (config_.max_batch_size() > 0) expected.insert(expected.begin(), total_batch_);
    if (!MatchesDims(expected, shape)) {
      return absl::InternalError(absl::StrCat(what, " has shape ", ShapeToString(shape),
                                              ", expected ", ShapeToString(expected)));
    }
    if (type != DataType::kBytes) {
      SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(shape));
      if (byte_size != static_cast<uint64_t>(elements) * ElementSize(type)) {
        return absl::InternalError(absl::StrCat(what, " of shape ", ShapeToString(shape),
                                                " came with ", byte_size, " bytes"));
      }
    }
    return absl::OkStatus();
  }

  const inference::ModelConfig& config_;
  int64_t total_batch_;
  std::deque<OutputTensor> outputs_;  // deque: handed-out buffers never move
  absl::Status error_;
};

// The part of a batch output that belongs to the request whose rows start at `row`.
absl::StatusOr<OutputTensor> SliceOutput(const OutputTensor& whole, int64_t row, int64_t rows) {
  OutputTensor part{whole.name, whole.type, whole.shape, {}};
  part.shape[0] = rows;
  if (whole.type != DataType::kBytes) {
    SONIC_ASSIGN_OR_RETURN(int64_t row_elements, ElementCount(std::span(whole.shape).subspan(1)));
    size_t row_bytes = row_elements * ElementSize(whole.type);
    part.data = whole.data.substr(row * row_bytes, rows * row_bytes);
    return part;
  }
  // BYTES: walk the length-prefixed elements to find the rows' byte range.
  SONIC_ASSIGN_OR_RETURN(int64_t row_elements, ElementCount(std::span(whole.shape).subspan(1)));
  int64_t first = row * row_elements, end = (row + rows) * row_elements, index = 0;
  size_t begin_byte = 0, end_byte = 0, pos = 0;
  while (pos + 4 <= whole.data.size() && index <= end) {
    if (index == first) begin_byte = pos;
    if (index == end) break;
    uint32_t len = 0;
    std::memcpy(&len, whole.data.data() + pos, 4);
    pos += 4 + len;
    ++index;
  }
  end_byte = pos;
  if (first == end) begin_byte = end_byte;
  part.data = whole.data.substr(begin_byte, end_byte - begin_byte);
  return part;
}

}  // namespace

std::vector<const char*> BatchExecutor::WantedOutputs(const Batch& batch) const {
  std::vector<const char*> names;
  for (const auto& output : config_.output()) {
    bool wanted = false;
    for (const auto& request : batch) {
      for (const auto& requested : request->outputs) wanted |= requested.name == output.name();
    }
    if (wanted) names.push_back(output.name().c_str());
  }
  return names;
}

std::vector<absl::StatusOr<InferenceResponse>> BatchExecutor::SplitOutputs(
    const Batch& batch, std::deque<OutputTensor>& outputs) {
  std::vector<absl::StatusOr<InferenceResponse>> results;
  int64_t row = 0;
  for (const auto& request : batch) {
    InferenceResponse response{config_.name(), version_, request->id, {}};
    absl::Status built;
    for (const RequestedOutput& requested : request->outputs) {
      auto it = std::find_if(outputs.begin(), outputs.end(),
                             [&](const OutputTensor& t) { return t.name == requested.name; });
      if (it == outputs.end()) {
        built = absl::InternalError(absl::StrCat("model '", config_.name(),
                                                 "' did not produce output '", requested.name,
                                                 "'"));
        break;
      }
      if (batch.size() == 1) {
        response.outputs.push_back(std::move(*it));  // the only consumer: no copy
        continue;
      }
      absl::StatusOr<OutputTensor> part = SliceOutput(*it, row, request->batch_size);
      if (!part.ok()) {
        built = part.status();
        break;
      }
      response.outputs.push_back(*std::move(part));
    }
    row += request->batch_size;
    if (built.ok()) {
      results.emplace_back(std::move(response));
    } else {
      results.emplace_back(built);
    }
  }
  return results;
}

void BatchExecutor::Complete(Batch& batch, std::vector<absl::StatusOr<InferenceResponse>> results,
                             uint64_t start_ns, const ExecutionTimes& times) {
  const uint64_t end_ns = clock_.NowNs();
  for (size_t i = 0; i < batch.size(); ++i) {
    InferenceRequest& request = *batch[i];
    uint64_t request_ns = end_ns - request.arrival_ns;
    if (results[i].ok()) {
      stats_.RecordSuccess(request_ns, start_ns - request.arrival_ns, times);
    } else {
      stats_.RecordFailure(request_ns);
    }
    std::move(request.on_complete)(std::move(results[i]));
  }
}

void BatchExecutor::Execute(Batch batch) {
  if (batch.empty()) return;
  const uint64_t start_ns = clock_.NowNs();
  int64_t total_batch = 0;
  for (const auto& request : batch) total_batch += request->batch_size;

  AssembledInputs inputs;
  absl::Status status;
  for (size_t i = 0; i < batch.front()->inputs.size() && status.ok(); ++i) {
    status = AssembleInput(config_, batch, i, total_batch, inputs);
  }
  std::vector<const char*> output_names = WantedOutputs(batch);
  ExecutionTimes times;
  const uint64_t infer_start_ns = clock_.NowNs();
  times.compute_input_ns = infer_start_ns - start_ns;

  BatchOutputAllocator allocator(config_, total_batch);
  if (status.ok()) {
    status = instance_.Execute(inputs.tensors, output_names,
                               config_.max_batch_size() > 0 ? total_batch : 1, allocator);
  }
  if (!allocator.error().ok()) status = allocator.error();
  const uint64_t output_start_ns = clock_.NowNs();
  times.compute_infer_ns = output_start_ns - infer_start_ns;

  std::vector<absl::StatusOr<InferenceResponse>> results;
  if (status.ok()) {
    results = SplitOutputs(batch, allocator.outputs());
  } else {
    results.assign(batch.size(), status);
  }
  times.compute_output_ns = clock_.NowNs() - output_start_ns;
  if (status.ok()) stats_.RecordExecution(total_batch, times, clock_.NowEpochMs());
  Complete(batch, std::move(results), start_ns, times);
}

}  // namespace sonic::server
