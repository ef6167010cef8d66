#include "server/core/model_statistics.h"

namespace sonic::server {
namespace {

template <typename D>
void Fill(const D& from, inference::StatisticDuration* to) {
  to->set_count(from.count);
  to->set_ns(from.ns);
}

StatisticsSnapshot::Duration Copy(const auto& from) { return {from.count, from.ns}; }

}  // namespace

std::string_view FailureReasonName(FailureReason reason) {
  switch (reason) {
    case FailureReason::kRejected:
      return "REJECTED";
    case FailureReason::kCanceled:
      return "CANCELED";
    case FailureReason::kBackend:
      return "BACKEND";
    case FailureReason::kOther:
      break;
  }
  return "OTHER";
}

void ModelStatistics::RecordSuccess(uint64_t request_ns, uint64_t queue_ns,
                                    const ExecutionTimes& times) {
  absl::MutexLock lock(&mutex_);
  success_.Add(request_ns);
  queue_.Add(queue_ns);
  compute_input_.Add(times.compute_input_ns);
  compute_infer_.Add(times.compute_infer_ns);
  compute_output_.Add(times.compute_output_ns);
}

void ModelStatistics::RecordFailure(uint64_t request_ns, FailureReason reason) {
  absl::MutexLock lock(&mutex_);
  fail_.Add(request_ns);
  ++failures_[static_cast<size_t>(reason)];
}

void ModelStatistics::RecordExecution(uint64_t batch_size, const ExecutionTimes& times,
                                      uint64_t now_ms_epoch) {
  absl::MutexLock lock(&mutex_);
  BatchStats& stats = batch_stats_[batch_size];
  stats.compute_input.Add(times.compute_input_ns);
  stats.compute_infer.Add(times.compute_infer_ns);
  stats.compute_output.Add(times.compute_output_ns);
  inference_count_ += batch_size;
  ++execution_count_;
  last_inference_ms_ = now_ms_epoch;
}

void ModelStatistics::FillProto(inference::ModelStatistics& message) const {
  absl::MutexLock lock(&mutex_);
  message.set_last_inference(last_inference_ms_);
  message.set_inference_count(inference_count_);
  message.set_execution_count(execution_count_);
  inference::InferStatistics* infer = message.mutable_inference_stats();
  Fill(success_, infer->mutable_success());
  Fill(fail_, infer->mutable_fail());
  Fill(queue_, infer->mutable_queue());
  Fill(compute_input_, infer->mutable_compute_input());
  Fill(compute_infer_, infer->mutable_compute_infer());
  Fill(compute_output_, infer->mutable_compute_output());
  infer->mutable_cache_hit();
  infer->mutable_cache_miss();
  for (const auto& [batch_size, stats] : batch_stats_) {
    inference::InferBatchStatistics* batch = message.add_batch_stats();
    batch->set_batch_size(batch_size);
    Fill(stats.compute_input, batch->mutable_compute_input());
    Fill(stats.compute_infer, batch->mutable_compute_infer());
    Fill(stats.compute_output, batch->mutable_compute_output());
  }
}

StatisticsSnapshot ModelStatistics::Snapshot() const {
  absl::MutexLock lock(&mutex_);
  StatisticsSnapshot snapshot;
  snapshot.success = Copy(success_);
  snapshot.fail = Copy(fail_);
  snapshot.queue = Copy(queue_);
  snapshot.compute_input = Copy(compute_input_);
  snapshot.compute_infer = Copy(compute_infer_);
  snapshot.compute_output = Copy(compute_output_);
  snapshot.failures = failures_;
  snapshot.request_ns = success_.ns + fail_.ns;
  snapshot.inference_count = inference_count_;
  snapshot.execution_count = execution_count_;
  snapshot.last_inference_ms = last_inference_ms_;
  return snapshot;
}

}  // namespace sonic::server
