// Per-model-version inference statistics with the meaning and units of the protocol's
// ModelStatistics (docs/PROTOCOL.md): durations in nanoseconds, `inference_count` counts batch
// entries, `execution_count` model executions, and the compute_input/infer/output counts move
// together so that perf_analyzer-style diffs of two snapshots are consistent.
//
// Thread-safe: recorded by scheduler workers, read by the frontend.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "inference/grpc_service.pb.h"

namespace sonic::server {

// The time spent in each phase of one model execution.
struct ExecutionTimes {
  uint64_t compute_input_ns = 0;
  uint64_t compute_infer_ns = 0;
  uint64_t compute_output_ns = 0;
};

// Why a request failed, as the `reason` label of nv_inference_request_failure.
enum class FailureReason { kRejected, kCanceled, kBackend, kOther };
inline constexpr size_t kFailureReasonCount = 4;

// "REJECTED", "CANCELED", "BACKEND", "OTHER".
std::string_view FailureReasonName(FailureReason reason);

// A consistent copy of one version's statistics (taken under one lock), in plain values, for
// readers that should not depend on the protocol's messages (the Prometheus metrics).
struct StatisticsSnapshot {
  struct Duration {
    uint64_t count = 0;
    uint64_t ns = 0;
  };
  // Per request: success and fail of every request, the others of the successful ones.
  Duration success, fail;
  Duration queue, compute_input, compute_infer, compute_output;
  // Failed requests by reason, indexed by FailureReason; sums to fail.count.
  std::array<uint64_t, kFailureReasonCount> failures{};
  uint64_t request_ns = 0;  // cumulative duration of every request, successful or not
  uint64_t inference_count = 0;
  uint64_t execution_count = 0;
  uint64_t last_inference_ms = 0;

  uint64_t failure_count(FailureReason reason) const {
    return failures[static_cast<size_t>(reason)];
  }
};

class ModelStatistics {
 public:
  // One request finished successfully: `request_ns` from arrival to completion, `queue_ns` from
  // arrival until its batch started; `times` are its batch's phases (each request of a batch is
  // charged the whole batch's phase times, as Triton does).
  void RecordSuccess(uint64_t request_ns, uint64_t queue_ns, const ExecutionTimes& times);
  // One request failed after `request_ns`, for `reason`.
  void RecordFailure(uint64_t request_ns, FailureReason reason);
  // One model execution of `batch_size` entries (the sum of the requests' batch sizes).
  void RecordExecution(uint64_t batch_size, const ExecutionTimes& times, uint64_t now_ms_epoch);

  void FillProto(inference::ModelStatistics& message) const;
  StatisticsSnapshot Snapshot() const;

 private:
  struct Duration {
    uint64_t count = 0;
    uint64_t ns = 0;
    void Add(uint64_t d) {
      ++count;
      ns += d;
    }
  };
  struct BatchStats {
    Duration compute_input, compute_infer, compute_output;
  };

  mutable absl::Mutex mutex_;
  Duration success_ ABSL_GUARDED_BY(mutex_);
  Duration fail_ ABSL_GUARDED_BY(mutex_);
  std::array<uint64_t, kFailureReasonCount> failures_ ABSL_GUARDED_BY(mutex_){};
  Duration queue_ ABSL_GUARDED_BY(mutex_);
  Duration compute_input_ ABSL_GUARDED_BY(mutex_);
  Duration compute_infer_ ABSL_GUARDED_BY(mutex_);
  Duration compute_output_ ABSL_GUARDED_BY(mutex_);
  std::map<uint64_t, BatchStats> batch_stats_ ABSL_GUARDED_BY(mutex_);
  uint64_t inference_count_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t execution_count_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t last_inference_ms_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace sonic::server
