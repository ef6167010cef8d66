#include "server/core/batch_executor.h"

#include <algorithm>
#include <array>
#include <list>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/core/batch_assembly.h"
#include "server/trace/trace.h"
#include "sonic/common/status.h"
#include "sonic/common/tensor_view.h"

namespace sonic::server {
namespace {

// The shape `output` must have for a batch of `batch_rows` (the model's dims, with the batch
// first when the model batches).
Shape ExpectedShape(const ModelSignature& signature, const ModelSignature::Output& output,
                    int64_t batch_rows) {
  Shape expected;
  if (signature.batched()) expected.push_back(batch_rows);
  expected.insert(expected.end(), output.model_dims.begin(), output.model_dims.end());
  return expected;
}

bool MatchesExpected(const ModelSignature& signature, const ModelSignature::Output& output,
                     int64_t batch_rows, std::span<const int64_t> shape) {
  if (!signature.batched()) return MatchesDims(output.model_dims, shape);
  return !shape.empty() && shape[0] == batch_rows &&
         MatchesDims(output.model_dims, shape.subspan(1));
}

// Checks an output the backend produced against the model signature; `batch_rows` is the
// batch dimension it must have when the model batches. Returns the output's signature, found
// from `cursor` (backends produce outputs in the order asked, which is config order).
absl::StatusOr<const ModelSignature::Output*> CheckOutput(const ModelSignature& signature,
                                                          size_t& cursor, int64_t batch_rows,
                                                          std::string_view name, DataType type,
                                                          std::span<const int64_t> shape,
                                                          uint64_t byte_size) {
  const ModelSignature::Output* output = signature.output(name, cursor);
  // Built only for an error: this runs for every output of every execution.
  auto what = [&] {
    return absl::StrCat("model '", signature.model_name(), "' output '", std::string(name), "'");
  };
  if (output == nullptr) {
    return absl::InternalError(absl::StrCat(what(), " is not in the config"));
  }
  if (static_cast<int32_t>(type) != output->data_type) {
    return absl::InternalError(absl::StrCat(what(), " produced ", std::string(WireName(type)),
                                            ", config says ",
                                            inference::DataType_Name(output->data_type)));
  }
  // A scattered output is cut by its source input's shapes, not by rows: any shape will do.
  if (!output->scattered && !MatchesExpected(signature, *output, batch_rows, shape)) {
    return absl::InternalError(
        absl::StrCat(what(), " has shape ", ShapeToString(shape), ", expected ",
                     ShapeToString(ExpectedShape(signature, *output, batch_rows))));
  }
  if (type != DataType::kBytes) {
    SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(shape));
    if (byte_size != static_cast<uint64_t>(elements) * ElementSize(type)) {
      return absl::InternalError(absl::StrCat(what(), " of shape ", ShapeToString(shape),
                                              " came with ", byte_size, " bytes"));
    }
  }
  return output;
}

// An output of `shape` (as checked by CheckOutput) named `name`, of the shape clients see: the
// config's dims when the model produced its reshape. A scattered output keeps its shape:
// SplitOutputForRequest gives each request its own.
absl::StatusOr<OutputTensor> NewOutputTensor(const ModelSignature& signature,
                                             const ModelSignature::Output& output,
                                             std::string_view name, DataType type,
                                             std::span<const int64_t> shape) {
  Shape client_shape(shape.begin(), shape.end());
  if (output.has_reshape && !output.scattered) {
    SONIC_ASSIGN_OR_RETURN(client_shape,
                           ApplyReshape(client_shape, signature.batched(), output.dims));
  }
  OutputTensor tensor;
  tensor.name = std::string(name);
  tensor.type = type;
  tensor.shape = std::move(client_shape);
  return tensor;
}

// The checked output tensor the backend asks a buffer for: CheckOutput, then NewOutputTensor.
absl::StatusOr<OutputTensor> CheckedOutputTensor(const ModelSignature& signature,
                                                 size_t& cursor, int64_t batch_rows,
                                                 std::string_view name, DataType type,
                                                 std::span<const int64_t> shape,
                                                 uint64_t byte_size) {
  SONIC_ASSIGN_OR_RETURN(const ModelSignature::Output* output,
                         CheckOutput(signature, cursor, batch_rows, name, type, shape, byte_size));
  return NewOutputTensor(signature, *output, name, type, shape);
}

// Sizes `tensor`'s buffer; RESOURCE_EXHAUSTED instead of std::bad_alloc, since the callers are
// called through the backend's C boundary.
absl::Status ResizeOutput(const ModelSignature& signature, OutputTensor& tensor,
                          uint64_t byte_size) {
  try {
    tensor.data.resize(byte_size);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("model '", signature.model_name(),
                                                     "' output '", tensor.name,
                                                     "': out of memory for ", byte_size, " bytes"));
  }
  return absl::OkStatus();
}

// Hands the backend one buffer per requested output, after checking what the backend produced
// against the model configuration. Keeps the first violation to report it.
class BatchOutputAllocator final : public OutputAllocator {
 public:
  BatchOutputAllocator(const ModelSignature& signature, int64_t total_batch)
      : signature_(signature), total_batch_(total_batch) {}

  void* Allocate(std::string_view name, DataType type, std::span<const int64_t> shape,
                 uint64_t byte_size) override {
    absl::StatusOr<OutputTensor> tensor =
        CheckedOutputTensor(signature_, cursor_, total_batch_, name, type, shape, byte_size);
    absl::Status status;
    if (tensor.ok()) status = ResizeOutput(signature_, *tensor, byte_size);
    if (!tensor.ok() || !status.ok()) {
      if (error_.ok()) error_ = tensor.ok() ? status : tensor.status();
      return nullptr;
    }
    return outputs_.emplace_back(*std::move(tensor)).data.data();
  }

  const absl::Status& error() const { return error_; }
  std::list<OutputTensor>& outputs() { return outputs_; }

 private:
  const ModelSignature& signature_;
  int64_t total_batch_;
  size_t cursor_ = 0;  // where the next output is looked for in the signature
  std::list<OutputTensor> outputs_;  // list: handed-out buffers never move
  absl::Status error_;
};

// Collects the responses of a batch executed request by request: each request's outputs,
// checked against the config with the request's own batch size, or its error.
class PerRequestResponder final : public RequestResponder {
 public:
  PerRequestResponder(const ModelSignature& signature, int64_t version, const Batch& batch)
      : signature_(signature), version_(version), batch_(batch), slots_(batch.size()) {}

  void* Allocate(size_t index, std::string_view name, DataType type, std::span<const int64_t> shape,
                 uint64_t byte_size) override {
    Slot& slot = slots_[index];
    if (!slot.status.ok()) return nullptr;
    const InferenceRequest& request = *batch_[index];
    absl::Status status;
    if (std::none_of(request.outputs.begin(), request.outputs.end(),
                     [&](const RequestedOutput& o) { return o.name == name; })) {
      status = absl::InternalError(absl::StrCat("model '", signature_.model_name(),
                                                "' produced output '", std::string(name),
                                                "', which the request did not ask for"));
    } else if (std::any_of(slot.outputs.begin(), slot.outputs.end(),
                           [&](const OutputTensor& t) { return t.name == name; })) {
      status = absl::InternalError(absl::StrCat(
          "model '", signature_.model_name(), "' produced output '", std::string(name), "' twice"));
    }
    absl::StatusOr<OutputTensor> tensor =
        status.ok()
            ? CheckedOutputTensor(signature_, slot.cursor, request.batch_size, name, type, shape,
                                  byte_size)
            : status;
    if (tensor.ok()) status = ResizeOutput(signature_, *tensor, byte_size);
    if (!tensor.ok() || !status.ok()) {
      Fail(index, tensor.ok() ? status : tensor.status());
      return nullptr;
    }
    return slot.outputs.emplace_back(*std::move(tensor)).data.data();
  }

  void Fail(size_t index, absl::Status error) override {
    if (slots_[index].status.ok()) slots_[index].status = std::move(error);
  }

  // One response per request, its outputs in the order the request asked for them.
  BatchExecutor::Results TakeResults() {
    BatchExecutor::Results results;
    for (size_t index = 0; index < batch_.size(); ++index) {
      const InferenceRequest& request = *batch_[index];
      Slot& slot = slots_[index];
      InferenceResponse response{signature_.model_name(), version_, request.id, {}};
      for (const RequestedOutput& requested : request.outputs) {
        if (!slot.status.ok()) break;
        auto it = std::find_if(slot.outputs.begin(), slot.outputs.end(),
                               [&](const OutputTensor& t) { return t.name == requested.name; });
        if (it == slot.outputs.end()) {
          slot.status =
              absl::InternalError(absl::StrCat("model '", signature_.model_name(),
                                               "' did not produce output '", requested.name, "'"));
          break;
        }
        response.outputs.push_back(std::move(*it));
      }
      if (slot.status.ok()) {
        results.emplace_back(std::move(response));
      } else {
        results.emplace_back(slot.status);
      }
    }
    return results;
  }

 private:
  struct Slot {
    std::list<OutputTensor> outputs;  // list: handed-out buffers never move
    absl::Status status;
    size_t cursor = 0;  // where the next output is looked for in the signature
  };
  const ModelSignature& signature_;
  const int64_t version_;
  const Batch& batch_;
  std::vector<Slot> slots_;
};

// The backend's view of one request handed over alone: its inputs as sent (a config `reshape`
// applied to the non-batch part of inputs without allow_ragged_batch, as Triton shows them) and
// the outputs it asked for. Points into the request and `shapes`.
absl::Status DescribeRequest(const ModelSignature& signature, const InferenceRequest& request,
                             std::list<Shape>& shapes, std::vector<SonicBackendTensor>& tensors,
                             std::vector<const char*>& output_names, SonicBackendRequest& out) {
  size_t cursor = 0;
  for (const RequestInput& input : request.inputs) {
    const Shape* shape = &input.shape;
    const ModelSignature::Input* config_input = signature.input(input.name, cursor);
    if (config_input != nullptr && config_input->reshape && !config_input->allow_ragged_batch) {
      SONIC_ASSIGN_OR_RETURN(
          Shape reshaped, ApplyReshape(input.shape, signature.batched(), *config_input->reshape));
      shape = &shapes.emplace_back(std::move(reshaped));
    }
    tensors.push_back(SonicBackendTensor{input.name.c_str(), static_cast<int32_t>(input.type),
                                         shape->data(), static_cast<uint32_t>(shape->size()),
                                         input.data.data(), input.data.size()});
  }
  for (const RequestedOutput& output : request.outputs) output_names.push_back(output.name.c_str());
  out = SonicBackendRequest{request.id.c_str(),  static_cast<uint64_t>(request.batch_size),
                            tensors.data(),      static_cast<uint32_t>(tensors.size()),
                            output_names.data(), static_cast<uint32_t>(output_names.size())};
  return absl::OkStatus();
}

// Every traced request of a batch gets the batch's compute timestamps, as in Triton.
void RecordComputeTrace(const Batch& batch, const std::array<uint64_t, 4>& ns) {
  for (const auto& request : batch) {
    if (Trace* trace = request->trace.get()) {
      trace->Record(kTraceComputeStart, ns[0]);
      trace->Record(kTraceComputeInputEnd, ns[1]);
      trace->Record(kTraceComputeOutputStart, ns[2]);
      trace->Record(kTraceComputeEnd, ns[3]);
    }
  }
}

}  // namespace

// What an execution produced: the allocator holding the backend's outputs, then each request's
// response.
struct BatchExecutor::BatchOutputs {
  BatchOutputAllocator allocator;
  Results results;
};

absl::InlinedVector<const char*, 8> BatchExecutor::WantedOutputs(const Batch& batch) const {
  const std::span<const ModelSignature::Output> outputs = signature_.outputs();
  absl::InlinedVector<bool, 16> wanted(outputs.size(), false);
  for (const auto& request : batch) {
    size_t cursor = 0;
    for (const auto& requested : request->outputs) {
      const int index = signature_.FindOutput(requested.name, cursor);
      if (index >= 0) wanted[index] = true;
    }
  }
  absl::InlinedVector<const char*, 8> names;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (wanted[i]) names.push_back(outputs[i].name.c_str());
  }
  return names;
}

BatchExecutor::Results BatchExecutor::SplitOutputs(const Batch& batch,
                                                   std::list<OutputTensor>& outputs) {
  Results results;
  for (size_t index = 0; index < batch.size(); ++index) {
    const InferenceRequest* request = batch[index].get();
    InferenceResponse response{signature_.model_name(), version_, request->id, {}};
    absl::Status built;
    for (const RequestedOutput& requested : request->outputs) {
      auto it = std::find_if(outputs.begin(), outputs.end(),
                             [&](const OutputTensor& t) { return t.name == requested.name; });
      if (it == outputs.end()) {
        built = absl::InternalError(absl::StrCat(
            "model '", signature_.model_name(), "' did not produce output '", requested.name, "'"));
        break;
      }
      const ModelSignature::Output* output =
          signature_.has_scattered_outputs() ? signature_.output(it->name) : nullptr;
      if (batch.size() == 1 && (output == nullptr || !output->scattered)) {
        response.outputs.push_back(std::move(*it));  // the only consumer: no copy
        continue;
      }
      absl::StatusOr<OutputTensor> part = SplitOutputForRequest(signature_, batch, index, *it);
      if (!part.ok()) {
        built = part.status();
        break;
      }
      response.outputs.push_back(*std::move(part));
    }
    if (built.ok()) {
      results.emplace_back(std::move(response));
    } else {
      results.emplace_back(built);
    }
  }
  return results;
}

void BatchExecutor::Complete(Batch& batch, Results results, uint64_t start_ns,
                             const ExecutionTimes& times) {
  const uint64_t end_ns = clock_.NowNs();
  for (size_t i = 0; i < batch.size(); ++i) {
    InferenceRequest& request = *batch[i];
    uint64_t request_ns = end_ns - request.arrival_ns;
    if (request.trace) request.trace->Record(kTraceRequestEnd, end_ns);
    if (results[i].ok()) {
      stats_.RecordSuccess(request_ns, start_ns - request.arrival_ns, times);
      if (request.charged_times) *request.charged_times = times;
    } else {
      stats_.RecordFailure(request_ns, FailureReason::kBackend);
    }
    std::move(request.on_complete)(std::move(results[i]));
  }
}

void BatchExecutor::Execute(Batch batch) {
  if (batch.empty()) return;
  if (Run(batch, /*complete_on_failure=*/batch.size() == 1)) return;
  // The batch failed as a whole (in assembly or in the backend), maybe for one request's sake:
  // each request runs alone, so only a request that fails by itself gets an error.
  for (auto& request : batch) {
    Batch alone;
    alone.push_back(std::move(request));
    Run(alone, /*complete_on_failure=*/true);  // always completes
  }
}

absl::Status BatchExecutor::ComputeByRequest(const Batch& batch, BatchOutputs& outputs,
                                             ExecutionTimes& times, std::array<uint64_t, 4>& ns) {
  std::list<Shape> shapes;
  std::list<std::vector<SonicBackendTensor>> tensors;  // lists: the requests point into them
  std::list<std::vector<const char*>> output_names;
  std::vector<SonicBackendRequest> requests(batch.size());
  absl::Status status;
  for (size_t i = 0; i < batch.size() && status.ok(); ++i) {
    status = DescribeRequest(signature_, *batch[i], shapes, tensors.emplace_back(),
                             output_names.emplace_back(), requests[i]);
  }
  ns[1] = clock_.NowNs();
  times.compute_input_ns = ns[1] - ns[0];
  PerRequestResponder responder(signature_, version_, batch);
  if (status.ok()) status = instance_.ExecuteRequests(requests, responder);
  ns[2] = clock_.NowNs();
  times.compute_infer_ns = ns[2] - ns[1];
  if (status.ok()) outputs.results = responder.TakeResults();
  return status;
}

absl::Status BatchExecutor::Compute(const Batch& batch, int64_t total_batch, BatchOutputs& outputs,
                                    ExecutionTimes& times, std::array<uint64_t, 4>& ns) {
  try {
    if (instance_.executes_requests()) return ComputeByRequest(batch, outputs, times, ns);
    AssembledInputs inputs;
    absl::Status status = AssembleBatchInputs(signature_, batch, inputs);
    absl::InlinedVector<const char*, 8> output_names = WantedOutputs(batch);
    ns[1] = clock_.NowNs();
    times.compute_input_ns = ns[1] - ns[0];
    if (status.ok()) {
      status = instance_.Execute(inputs.tensors, output_names,
                                 signature_.batched() ? total_batch : 1, outputs.allocator);
    }
    if (!outputs.allocator.error().ok()) status = outputs.allocator.error();
    ns[2] = clock_.NowNs();
    times.compute_infer_ns = ns[2] - ns[1];
    if (status.ok()) outputs.results = SplitOutputs(batch, outputs.allocator.outputs());
    return status;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "model '", signature_.model_name(), "': out of memory running a batch of ", total_batch));
  }
}

bool BatchExecutor::Run(Batch& batch, bool complete_on_failure) {
  const uint64_t start_ns = clock_.NowNs();
  std::array<uint64_t, 4> ns = {start_ns, start_ns, start_ns, start_ns};
  int64_t total_batch = 0;
  for (const auto& request : batch) total_batch += request->batch_size;
  ExecutionTimes times;
  BatchOutputs outputs{BatchOutputAllocator(signature_, total_batch), {}};
  absl::Status status = Compute(batch, total_batch, outputs, times, ns);
  if (!status.ok() && !complete_on_failure) return false;
  if (!status.ok()) outputs.results.assign(batch.size(), status);
  ns[3] = clock_.NowNs();
  times.compute_output_ns = ns[3] - ns[2];
  if (status.ok()) stats_.RecordExecution(total_batch, times, clock_.NowEpochMs());
  if (on_executed_) on_executed_(batch.size(), ns[3] - ns[0]);
  RecordComputeTrace(batch, ns);
  Complete(batch, std::move(outputs.results), ns[0], times);
  return true;
}

}  // namespace sonic::server
