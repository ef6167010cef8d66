// Admission control on expected queue time: a request is refused up front, before it joins the
// queue, when the wait the model's queue promises it is over the model's limit. A request that
// waits in a long queue and then times out (the queue policy's default_timeout_microseconds)
// has cost its client that wait; refusing it at once lets the client go elsewhere or back off.
//
// The limit is the config parameter
//   max_expected_queue_time_us: a positive integer of microseconds; absent: no limit.
// The estimate is the time the instances need for the requests ahead of the new one, at the
// rate they served recent requests:
//   expected = (queued + executing requests) x (mean execution time / mean requests per
//              execution, both smoothed over recent executions) / instances.
// An execution's time is the executor's (assembly, the backend, the split; batch_executor.h),
// recorded before its responses go out, so that a client answered has been counted. Before the
// first execution there is no estimate and everything is admitted; an idle model (nothing queued
// or executing) always admits, whatever the limit.
//
// A refusal is UNAVAILABLE (retry may work) whose message says "the queue is full" (the phrase
// clients take for an overload, not a failed server: docs/PROTOCOL.md) with the expected and
// allowed queue time, and carries a retry delay (retry_delay.h): the expected time until the
// queue is back within the limit.
//
// Thread-compatible: the owner (the Scheduler) serializes calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"

namespace sonic::server {

inline constexpr char kMaxExpectedQueueTimeParameter[] = "max_expected_queue_time_us";

// The limit of a model with `config`, in nanoseconds (0 = none). INVALID_ARGUMENT naming the
// parameter when it is not a positive integer or exceeds one day.
absl::StatusOr<uint64_t> ReadQueueTimeLimitNs(const inference::ModelConfig& config);

// Why a request was refused, as the `reason` label of sonic_inference_request_refused.
enum class RefusalReason { kQueueTime, kQueueSize };
inline constexpr size_t kRefusalReasonCount = 2;
// "QUEUE_TIME", "QUEUE_SIZE".
const char* RefusalReasonName(RefusalReason reason);

// A consistent copy of one model version's admission state.
struct AdmissionSnapshot {
  uint64_t limit_ns = 0;           // 0 = no limit
  uint64_t expected_queue_ns = 0;  // for a request arriving now
  uint64_t refused[kRefusalReasonCount] = {};
};

class QueueTimeAdmission {
 public:
  // `instances` run the model's executions side by side (at least 1 is assumed).
  QueueTimeAdmission(uint64_t limit_ns, size_t instances);

  // One execution of `requests` requests took `duration_ns`.
  void RecordExecution(size_t requests, uint64_t duration_ns);

  // The expected wait of a request arriving behind `ahead` requests (queued or executing).
  uint64_t ExpectedQueueNs(size_t ahead) const;

  // OK, or the refusal (see above) of a request arriving behind `ahead` requests; counts it.
  absl::Status Admit(size_t ahead);

  // Counts a refusal by the queue's max_queue_size and returns `refusal` with a retry delay:
  // the expected time for one request to leave the queue, when known.
  absl::Status QueueSizeRefusal(absl::Status refusal);

  AdmissionSnapshot Snapshot(size_t ahead) const;

  // Smoothed execution time per request; 0 before the first execution.
  double NsPerRequest() const;

 private:

  const uint64_t limit_ns_;
  const size_t instances_;
  bool measured_ = false;
  double mean_execution_ns_ = 0;
  double mean_requests_ = 0;
  uint64_t refused_[kRefusalReasonCount] = {};
};

}  // namespace sonic::server
