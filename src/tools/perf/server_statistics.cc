#include "server_statistics.h"

#include <map>

namespace sonic::tools {
namespace {

void SubtractDuration(const inference::StatisticDuration& before,
                      inference::StatisticDuration* after) {
  after->set_count(after->count() - before.count());
  after->set_ns(after->ns() - before.ns());
}

absl::Duration Average(const inference::StatisticDuration& duration) {
  if (duration.count() == 0) return absl::ZeroDuration();
  return absl::Nanoseconds(static_cast<double>(duration.ns()) /
                           static_cast<double>(duration.count()));
}

}  // namespace

inference::ModelStatistics StatisticsDelta(const inference::ModelStatistics& before,
                                           const inference::ModelStatistics& after) {
  inference::ModelStatistics delta = after;
  delta.set_inference_count(after.inference_count() - before.inference_count());
  delta.set_execution_count(after.execution_count() - before.execution_count());
  const inference::InferStatistics& b = before.inference_stats();
  inference::InferStatistics* d = delta.mutable_inference_stats();
  SubtractDuration(b.success(), d->mutable_success());
  SubtractDuration(b.fail(), d->mutable_fail());
  SubtractDuration(b.queue(), d->mutable_queue());
  SubtractDuration(b.compute_input(), d->mutable_compute_input());
  SubtractDuration(b.compute_infer(), d->mutable_compute_infer());
  SubtractDuration(b.compute_output(), d->mutable_compute_output());
  SubtractDuration(b.cache_hit(), d->mutable_cache_hit());
  SubtractDuration(b.cache_miss(), d->mutable_cache_miss());
  std::map<uint64_t, const inference::InferBatchStatistics*> earlier;
  for (const auto& stats : before.batch_stats()) earlier[stats.batch_size()] = &stats;
  for (auto& stats : *delta.mutable_batch_stats()) {
    auto it = earlier.find(stats.batch_size());
    if (it == earlier.end()) continue;
    SubtractDuration(it->second->compute_input(), stats.mutable_compute_input());
    SubtractDuration(it->second->compute_infer(), stats.mutable_compute_infer());
    SubtractDuration(it->second->compute_output(), stats.mutable_compute_output());
  }
  return delta;
}

ServerBreakdown BreakdownOf(const inference::ModelStatistics& delta) {
  const inference::InferStatistics& stats = delta.inference_stats();
  ServerBreakdown breakdown;
  breakdown.request_count = stats.success().count();
  breakdown.inference_count = delta.inference_count();
  breakdown.execution_count = delta.execution_count();
  breakdown.queue = Average(stats.queue());
  breakdown.compute_input = Average(stats.compute_input());
  breakdown.compute_infer = Average(stats.compute_infer());
  breakdown.compute_output = Average(stats.compute_output());
  breakdown.cache_hit = Average(stats.cache_hit());
  breakdown.cache_miss = Average(stats.cache_miss());
  return breakdown;
}

}  // namespace sonic::tools
