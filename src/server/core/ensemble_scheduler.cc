#include "server/core/ensemble_scheduler.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/core/model_version.h"
#include "server/trace/trace.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

// One ensemble tensor's value: a request input (its bytes owned by the request) or a step's
// output (owned by `owner`).
struct TensorValue {
  DataType type = DataType::kInvalid;
  Shape shape;
  int64_t batch = 0;  // size of the batch dimension; 0: the tensor has none
  std::span<const std::byte> data;
  std::shared_ptr<const OutputTensor> owner;
};

// Triton's rule for passing a tensor between batching and non-batching sides (see the header).
Shape AdaptShape(std::span<const int64_t> dims, bool batching, const TensorValue& tensor) {
  if (batching == (tensor.batch != 0)) return tensor.shape;
  if (batching) {
    if (!MatchesDims(dims, tensor.shape)) return tensor.shape;
    Shape shape = {1};
    shape.insert(shape.end(), tensor.shape.begin(), tensor.shape.end());
    return shape;
  }
  if (MatchesDims(dims, tensor.shape) || tensor.batch != 1) return tensor.shape;
  return Shape(tensor.shape.begin() + 1, tensor.shape.end());
}

// Whether `shape` fits a tensor of `dims` on a side that batches (then also returns its batch
// size) or not.
bool FitsDims(std::span<const int64_t> dims, bool batching, const Shape& shape, int64_t& batch) {
  if (!batching) return MatchesDims(dims, shape);
  if (shape.empty() || shape[0] < 1) return false;
  batch = shape[0];
  return MatchesDims(dims, std::span<const int64_t>(shape).subspan(1));
}

FailureReason ReasonFor(const absl::Status& status) {
  if (absl::IsCancelled(status)) return FailureReason::kCanceled;
  if (absl::IsUnavailable(status) || absl::IsResourceExhausted(status)) {
    return FailureReason::kRejected;
  }
  return FailureReason::kBackend;
}

absl::Status InEnsemble(const inference::ModelConfig& config, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat("in ensemble '", config.name(), "', ", status.message()));
}

}  // namespace

// One ensemble request in flight. Shared by the composing requests' completions; the last
// reference goes with the last of them.
class EnsembleScheduler::Run : public std::enable_shared_from_this<Run> {
 public:
  Run(EnsembleScheduler& scheduler, std::unique_ptr<InferenceRequest> request,
      std::vector<std::shared_ptr<ModelVersion>> models)
      : scheduler_(scheduler),
        graph_(scheduler.graph_),
        config_(*scheduler.options_.config),
        request_(std::move(request)),
        models_(std::move(models)),
        missing_(graph_.steps.size(), 0),
        step_batch_(graph_.steps.size(), 0),
        step_times_(graph_.steps.size()) {}

  // Submits the steps that need only request inputs. Requires: every needed step's request
  // inputs were sent (checked by Enqueue).
  void Start();

 private:
  std::string StepName(size_t step) const {
    return absl::StrCat("step[", step, "] (model '", graph_.steps[step].model_name, "')");
  }
  bool Needed(size_t step) const { return models_[step] != nullptr; }
  // Whether the value of `tensor` must be kept: a needed step reads it or the client asked for it.
  bool Wanted(std::string_view tensor) const;
  // The request for `step`, whose inputs all exist.
  absl::StatusOr<std::unique_ptr<InferenceRequest>> BuildStep(size_t step)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Builds the requests of `ready` steps (none once an error is recorded) and counts them in
  // flight; the caller submits them after releasing the lock.
  std::vector<std::unique_ptr<InferenceRequest>> Prepare(const std::vector<size_t>& ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Records that `tensor` exists; appends the steps it made ready to `ready`.
  void Publish(const std::string& tensor, TensorValue value, std::vector<size_t>& ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void StepDone(size_t step, absl::StatusOr<InferenceResponse> result);
  void Submit(std::vector<std::unique_ptr<InferenceRequest>> requests, bool finished);
  absl::StatusOr<InferenceResponse> BuildResponse() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Finish();

  EnsembleScheduler& scheduler_;
  const EnsembleGraph& graph_;
  const inference::ModelConfig& config_;
  std::unique_ptr<InferenceRequest> request_;
  const std::vector<std::shared_ptr<ModelVersion>> models_;  // per step; null: not needed
  uint64_t start_ns_ = 0;

  absl::Mutex mutex_;
  std::map<std::string, TensorValue, std::less<>> tensors_ ABSL_GUARDED_BY(mutex_);
  std::vector<size_t> missing_ ABSL_GUARDED_BY(mutex_);  // per step: tensors it still waits for
  std::vector<int64_t> step_batch_ ABSL_GUARDED_BY(mutex_);
  // Written by the composing model's executor before the step's completion runs.
  std::vector<ExecutionTimes> step_times_;
  size_t in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mutex_);
  ExecutionTimes times_ ABSL_GUARDED_BY(mutex_);
};

bool EnsembleScheduler::Run::Wanted(std::string_view tensor) const {
  for (const RequestedOutput& output : request_->outputs) {
    if (output.name == tensor) return true;
  }
  auto readers = graph_.readers.find(tensor);
  if (readers == graph_.readers.end()) return false;
  return std::any_of(readers->second.begin(), readers->second.end(),
                     [&](size_t step) { return Needed(step); });
}

void EnsembleScheduler::Run::Start() {
  start_ns_ = scheduler_.options_.clock->NowNs();
  std::vector<std::unique_ptr<InferenceRequest>> requests;
  bool finished;
  {
    absl::MutexLock lock(&mutex_);
    for (size_t step = 0; step < graph_.steps.size(); ++step) {
      for (const auto& [model_input, tensor] : graph_.steps[step].inputs) {
        missing_[step] += graph_.writer.contains(tensor) ? 1 : 0;
      }
    }
    const bool batching = config_.max_batch_size() > 0;
    for (const RequestInput& input : request_->inputs) {
      tensors_[input.name] =
          TensorValue{input.type, input.shape, batching ? request_->batch_size : 0, input.data, {}};
    }
    std::vector<size_t> ready;
    for (size_t step : graph_.order) {
      if (Needed(step) && missing_[step] == 0) ready.push_back(step);
    }
    requests = Prepare(ready);
    finished = in_flight_ == 0;  // the first step could not even be built
  }
  Submit(std::move(requests), finished);
}

absl::StatusOr<std::unique_ptr<InferenceRequest>> EnsembleScheduler::Run::BuildStep(size_t step) {
  const ModelSignature& signature = models_[step]->signature();
  const bool batching = signature.batched();
  auto request = std::make_unique<InferenceRequest>();
  request->model = models_[step];
  request->id = request_->id;
  request->priority = request_->priority;
  request->arrival_ns = scheduler_.options_.clock->NowNs();
  request->abandoned = request_->abandoned;
  request->charged_times = &step_times_[step];
  int64_t batch = 0;
  for (const ModelSignature::Input& input : signature.inputs()) {  // the order requests keep
    const auto& inputs = graph_.steps[step].inputs;
    auto mapped = std::find_if(inputs.begin(), inputs.end(),
                               [&](const auto& pair) { return pair.first == input.name; });
    if (mapped == inputs.end()) continue;  // an optional input the ensemble does not map
    const TensorValue& value = tensors_.at(mapped->second);
    Shape shape = AdaptShape(input.dims, batching, value);
    // Built only for an error: this runs for every input of every step.
    auto what = [&] {
      return absl::StrCat(StepName(step), " input '", input.name, "' (ensemble tensor '",
                          mapped->second, "')");
    };
    if (static_cast<int32_t>(value.type) != input.data_type) {
      return absl::InvalidArgumentError(
          absl::StrCat(what(), " is ", std::string(WireName(value.type)), ", the model expects ",
                       inference::DataType_Name(input.data_type)));
    }
    int64_t rows = 0;
    if (!FitsDims(input.dims, batching, shape, rows) || (batch != 0 && rows != batch) ||
        rows > signature.max_batch_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what(), " has shape ", ShapeToString(shape), ", which does not fit the model's dims ",
          ShapeToString(input.dims),
          batching ? absl::StrCat(" with a batch of at most ", signature.max_batch_size(),
                                  batch != 0 ? absl::StrCat(" rows (other inputs have ", batch, ")")
                                             : " rows")
                   : ""));
    }
    batch = rows;
    request->inputs.push_back({input.name, value.type, std::move(shape), value.data});
  }
  request->batch_size = batching ? batch : 1;
  step_batch_[step] = batching ? batch : 0;
  for (const auto& [model_output, tensor] : graph_.steps[step].outputs) {
    if (Wanted(tensor)) request->outputs.push_back({model_output, 0});
  }
  request->on_complete = [run = shared_from_this(),
                          step](absl::StatusOr<InferenceResponse> result) {
    run->StepDone(step, std::move(result));
  };
  return request;
}

std::vector<std::unique_ptr<InferenceRequest>> EnsembleScheduler::Run::Prepare(
    const std::vector<size_t>& ready) {
  std::vector<std::unique_ptr<InferenceRequest>> requests;
  for (size_t step : ready) {
    if (!error_.ok()) break;
    absl::StatusOr<std::unique_ptr<InferenceRequest>> request = BuildStep(step);
    if (!request.ok()) {
      error_ = request.status();
      break;
    }
    requests.push_back(*std::move(request));
  }
  in_flight_ += requests.size();
  return requests;
}

void EnsembleScheduler::Run::Publish(const std::string& tensor, TensorValue value,
                                     std::vector<size_t>& ready) {
  tensors_[tensor] = std::move(value);
  auto readers = graph_.readers.find(tensor);
  if (readers == graph_.readers.end()) return;
  for (size_t reader : readers->second) {
    if (!Needed(reader)) continue;
    // A step reading one tensor through several inputs counted it once per input.
    for (const auto& [model_input, read] : graph_.steps[reader].inputs) {
      if (read == tensor && --missing_[reader] == 0) ready.push_back(reader);
    }
  }
}

void EnsembleScheduler::Run::StepDone(size_t step, absl::StatusOr<InferenceResponse> result) {
  std::vector<std::unique_ptr<InferenceRequest>> requests;
  bool finished;
  {
    absl::MutexLock lock(&mutex_);
    --in_flight_;
    if (!result.ok()) {
      if (error_.ok()) error_ = Annotate(result.status(), StepName(step));
    } else if (error_.ok()) {
      const ExecutionTimes& charged = step_times_[step];
      times_.compute_input_ns += charged.compute_input_ns;
      times_.compute_infer_ns += charged.compute_infer_ns;
      times_.compute_output_ns += charged.compute_output_ns;
      std::vector<size_t> ready;
      for (OutputTensor& output : result->outputs) {
        const auto& outputs = graph_.steps[step].outputs;
        auto mapped = std::find_if(outputs.begin(), outputs.end(),
                                   [&](const auto& pair) { return pair.first == output.name; });
        if (mapped == outputs.end()) continue;
        auto owner = std::make_shared<const OutputTensor>(std::move(output));
        Publish(mapped->second,
                TensorValue{owner->type, owner->shape, step_batch_[step],
                            std::as_bytes(std::span<const char>(owner->data)), owner},
                ready);
      }
      std::sort(ready.begin(), ready.end());
      requests = Prepare(ready);
    }
    finished = in_flight_ == 0;
  }
  Submit(std::move(requests), finished);
}

void EnsembleScheduler::Run::Submit(std::vector<std::unique_ptr<InferenceRequest>> requests,
                                    bool finished) {
  if (requests.empty()) {
    // Nothing more will run: either every step is done, or an error stopped the rest (then the
    // last step in flight finishes the request).
    if (finished) Finish();
    return;
  }
  for (auto& request : requests) {
    std::shared_ptr<ModelVersion> model = request->model;
    model->Enqueue(std::move(request));
  }
}

absl::StatusOr<InferenceResponse> EnsembleScheduler::Run::BuildResponse() {
  SONIC_RETURN_IF_ERROR(error_);
  const bool batching = config_.max_batch_size() > 0;
  InferenceResponse response{config_.name(), scheduler_.options_.version, request_->id, {}};
  for (const RequestedOutput& requested : request_->outputs) {
    auto value = tensors_.find(requested.name);
    const ModelSignature::Output* output = scheduler_.options_.signature->output(requested.name);
    if (value == tensors_.end() || output == nullptr) {
      return absl::InternalError(
          absl::StrCat("ensemble output '", requested.name, "' was not produced"));
    }
    Shape shape = AdaptShape(output->dims, batching, value->second);
    int64_t rows = 0;
    if (!FitsDims(output->dims, batching, shape, rows) ||
        (batching && rows != request_->batch_size)) {
      return absl::InternalError(absl::StrCat(
          "ensemble output '", requested.name, "' has shape ", ShapeToString(shape),
          ", which does not fit its dims ", ShapeToString(output->dims),
          batching ? absl::StrCat(" with the request's batch of ", request_->batch_size) : ""));
    }
    const auto& bytes = value->second.data;
    response.outputs.push_back(
        {requested.name, value->second.type, std::move(shape),
         std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())});
  }
  return response;
}

void EnsembleScheduler::Run::Finish() {
  absl::StatusOr<InferenceResponse> result;
  ExecutionTimes times;
  {
    absl::MutexLock lock(&mutex_);
    result = BuildResponse();
    times = times_;
    tensors_.clear();  // the steps' outputs are no longer needed
  }
  const Options& options = scheduler_.options_;
  const uint64_t now_ns = options.clock->NowNs();
  const uint64_t request_ns = now_ns - request_->arrival_ns;
  if (result.ok()) {
    options.stats->RecordSuccess(request_ns, start_ns_ - request_->arrival_ns, times);
    options.stats->RecordExecution(
        static_cast<uint64_t>(std::max<int64_t>(request_->batch_size, 1)), times,
        options.clock->NowEpochMs());
  } else {
    options.stats->RecordFailure(request_ns, ReasonFor(result.status()));
    result = InEnsemble(config_, result.status());
  }
  if (request_->trace) request_->trace->Record(kTraceRequestEnd, now_ns);
  std::move(request_->on_complete)(std::move(result));
  // The ensemble's own version outlives RunFinished: were this its last reference, its
  // destructor would drain this scheduler and wait for this very run.
  std::shared_ptr<ModelVersion> ensemble = std::move(request_->model);
  request_.reset();          // releases the request's bytes
  scheduler_.RunFinished();  // the scheduler may be gone once `ensemble` is released
}

absl::StatusOr<std::unique_ptr<EnsembleScheduler>> EnsembleScheduler::Create(
    const Options& options) {
  SONIC_ASSIGN_OR_RETURN(EnsembleGraph graph, BuildEnsembleGraph(*options.config));
  return std::unique_ptr<EnsembleScheduler>(new EnsembleScheduler(options, std::move(graph)));
}

EnsembleScheduler::~EnsembleScheduler() { Drain(); }

void EnsembleScheduler::Refuse(InferenceRequest& request, const absl::Status& status) {
  const uint64_t now_ns = options_.clock->NowNs();
  options_.stats->RecordFailure(now_ns - request.arrival_ns, ReasonFor(status));
  if (request.trace) request.trace->Record(kTraceRequestEnd, now_ns);
  std::move(request.on_complete)(InEnsemble(*options_.config, status));
}

std::vector<bool> EnsembleScheduler::NeededSteps(const InferenceRequest& request) const {
  std::vector<bool> needed(graph_.steps.size(), false);
  std::vector<size_t> pending;
  auto need = [&](std::string_view tensor) {
    auto writer = graph_.writer.find(tensor);
    if (writer != graph_.writer.end() && !needed[writer->second]) {
      needed[writer->second] = true;
      pending.push_back(writer->second);
    }
  };
  for (const RequestedOutput& output : request.outputs) need(output.name);
  while (!pending.empty()) {
    const size_t step = pending.back();
    pending.pop_back();
    for (const auto& [model_input, tensor] : graph_.steps[step].inputs) need(tensor);
  }
  return needed;
}

absl::Status EnsembleScheduler::Admit(const InferenceRequest& request,
                                      std::vector<std::shared_ptr<ModelVersion>>& models) const {
  SONIC_RETURN_IF_ERROR(ValidateRequest(*options_.signature, request));
  const std::vector<bool> needed = NeededSteps(request);
  for (size_t step = 0; step < graph_.steps.size(); ++step) {
    if (!needed[step]) continue;
    const EnsembleGraph::Step& info = graph_.steps[step];
    const std::string name = absl::StrCat("step[", step, "] (model '", info.model_name, "')");
    for (const auto& [model_input, tensor] : info.inputs) {
      const bool sent =
          std::any_of(request.inputs.begin(), request.inputs.end(),
                      [&](const RequestInput& input) { return input.name == tensor; });
      if (!sent && !graph_.writer.contains(tensor)) {
        return absl::InvalidArgumentError(absl::StrCat(name, " reads ensemble input '", tensor,
                                                       "', which the request did not send"));
      }
    }
    absl::StatusOr<std::shared_ptr<ModelVersion>> model =
        options_.resolve(info.model_name, info.model_version);
    if (!model.ok()) {
      // The composing model is gone or not ready: the ensemble may serve again once it is back.
      return absl::UnavailableError(absl::StrCat(name, ": ", model.status().message()));
    }
    models[step] = *std::move(model);
  }
  return absl::OkStatus();
}

void EnsembleScheduler::Enqueue(std::unique_ptr<InferenceRequest> request) {
  std::vector<std::shared_ptr<ModelVersion>> models(graph_.steps.size());
  absl::Status admitted = Admit(*request, models);
  if (admitted.ok()) {
    absl::MutexLock lock(&mutex_);
    if (accepting_) {
      ++running_;
    } else {
      admitted = absl::UnavailableError("the model is unloading");
    }
  }
  if (!admitted.ok()) {
    Refuse(*request, admitted);
    return;
  }
  std::make_shared<Run>(*this, std::move(request), std::move(models))->Start();
}

void EnsembleScheduler::RunFinished() {
  absl::MutexLock lock(&mutex_);
  --running_;
}

void EnsembleScheduler::Drain() {
  absl::MutexLock lock(&mutex_);
  accepting_ = false;
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return running_ == 0; };
  mutex_.Await(absl::Condition(&idle));
}

size_t EnsembleScheduler::pending() const {
  absl::MutexLock lock(&mutex_);
  return running_;
}

}  // namespace sonic::server
