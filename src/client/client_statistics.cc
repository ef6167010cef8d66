#include "sonic/client/client_statistics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server_statistics.h"

namespace sonic::client {
namespace {

double Microseconds(absl::Duration total, uint64_t count) {
  return count == 0 ? 0.0 : absl::ToDoubleMicroseconds(total) / static_cast<double>(count);
}

}  // namespace

std::string ClientStatistics::ToString() const {
  std::string text = absl::StrFormat(
      "dispatches: %d (failed %d), attempts: %d, requests: %d, average wait: %.1f us\n",
      dispatches, failures, attempts, requests, Microseconds(wait_time, dispatches));
  if (server.success_count > 0) {
    absl::StrAppend(
        &text,
        absl::StrFormat("server: %d requests, %d inferences, %d executions; per request (us): "
                        "total %.1f, queue %.1f, compute input %.1f, infer %.1f, output %.1f\n",
                        server.success_count, server.inference_count, server.execution_count,
                        Microseconds(server.request_time, server.success_count),
                        Microseconds(server.queue_time, server.success_count),
                        Microseconds(server.compute_input_time, server.success_count),
                        Microseconds(server.compute_infer_time, server.success_count),
                        Microseconds(server.compute_output_time, server.success_count)));
  }
  return text;
}

namespace internal {
namespace {

uint64_t Minus(uint64_t after, uint64_t before) { return after >= before ? after - before : after; }

absl::Duration Ns(const inference::StatisticDuration& after,
                  const inference::StatisticDuration& before) {
  return absl::Nanoseconds(static_cast<int64_t>(Minus(after.ns(), before.ns())));
}

}  // namespace

ServerSideStatistics DiffServerStatistics(const inference::ModelStatistics& before,
                                          const inference::ModelStatistics& after) {
  const inference::InferStatistics& a = after.inference_stats();
  const inference::InferStatistics& b = before.inference_stats();
  ServerSideStatistics diff;
  diff.inference_count = Minus(after.inference_count(), before.inference_count());
  diff.execution_count = Minus(after.execution_count(), before.execution_count());
  diff.success_count = Minus(a.success().count(), b.success().count());
  diff.request_time = Ns(a.success(), b.success());
  diff.queue_time = Ns(a.queue(), b.queue());
  diff.compute_input_time = Ns(a.compute_input(), b.compute_input());
  diff.compute_infer_time = Ns(a.compute_infer(), b.compute_infer());
  diff.compute_output_time = Ns(a.compute_output(), b.compute_output());
  return diff;
}

}  // namespace internal
}  // namespace sonic::client
