// The dynamic batcher's decisions, as pure logic on explicit times: which queued requests form
// the next batch and when it should run. No threads and no clock of its own, so tests drive it
// deterministically; the Scheduler owns one and calls it under its lock.
//
// Policy (the config's `dynamic_batching`, Triton's semantics):
//  - requests wait in one FIFO queue per priority level (1 = served first); requests whose queue
//    timeout expired with action DELAY move behind every level;
//  - a batch starts with the oldest request of the best level and takes, in queue order, every
//    later request CanBatch() accepts, up to max_batch_size entries; requests it skips stay
//    queued in place (they head a later batch);
//  - with preferred sizes, before its oldest request has waited max_queue_delay, it runs at once
//    with the largest preferred size that its first requests add up to (or, when its rows go
//    past the largest preferred size, with the requests that stay within it);
//  - otherwise it runs when it is full (max_batch_size entries, or the largest preferred size),
//    when its oldest request has waited max_queue_delay, or at once without a queue delay, with
//    every request that joins it;
//  - without `dynamic_batching` in the config, every request is its own batch, at once.
// Admission: a full level (max_queue_size) refuses with UNAVAILABLE (the client may retry). A
// priority of 0 or above priority_levels means the default level (Triton does the same).
//
// Thread-compatible: the owner serializes calls.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"
#include "server/core/inference_request.h"

namespace sonic::server {

class DynamicBatcher {
 public:
  // Whether `candidate` may join a batch that `head` starts (same inputs and types; equal
  // shapes except batch and ragged dimensions).
  using CanBatch = std::function<bool(const InferenceRequest& head,
                                      const InferenceRequest& candidate)>;

  // Reads the config's max_batch_size and dynamic_batching; `config` is only read here.
  DynamicBatcher(const inference::ModelConfig& config, CanBatch can_batch);

  // Queues the request (arrived at `now_ns`); on error the request stays with the caller. On
  // success, returns whether the arrival may let TakeBatch or TakeExpired decide before the
  // NextDecisionNs() of just before it: the queue was empty, there is no queue delay, the queued
  // requests may now form a preferred size or fill a batch, or the request's timeout ends before
  // the head's queue delay.
  // When false, an owner waiting until that time need not be woken for it.
  absl::StatusOr<bool> Enqueue(std::unique_ptr<InferenceRequest>& request, uint64_t now_ns);

  // Removes and returns the requests whose queue timeout (REJECT) passed by `now_ns`; those with
  // action DELAY are moved behind every priority level instead.
  std::vector<std::unique_ptr<InferenceRequest>> TakeExpired(uint64_t now_ns);

  // The batch to execute now, or an empty one when waiting may still fill it.
  Batch TakeBatch(uint64_t now_ns);

  // The earliest time at which TakeBatch or TakeExpired may decide differently without new
  // requests (a queue delay or a timeout ending); nullopt when nothing waits.
  std::optional<uint64_t> NextDecisionNs() const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Policy {
    bool delay_on_timeout = false;
    uint64_t default_timeout_ns = 0;  // 0 = none
    bool allow_override = false;
    uint32_t max_queue_size = 0;      // 0 = unbounded
  };
  struct Entry {
    std::unique_ptr<InferenceRequest> request;
    uint64_t enqueue_ns = 0;
    uint64_t deadline_ns = 0;  // 0 = none
  };

  Policy PolicyFor(uint64_t level) const;
  // The request that starts the next batch; null when nothing waits.
  const Entry* Head() const;
  // Queues in service order: levels 1..n, then the delayed queue (inline: no allocation for
  // the few levels a model has, on every batch taken).
  absl::InlinedVector<std::deque<Entry>*, 4> QueuesInOrder();
  // The rows of the batch to run now, a value of `prefix_rows` (the rows of its first 1, 2, ...
  // requests), or 0 to wait.
  int64_t BatchSizeToTake(std::span<const int64_t> prefix_rows, uint64_t oldest_wait_ns) const;

  const bool batching_;
  const int64_t max_batch_size_;
  std::vector<int64_t> preferred_;  // ascending
  const uint64_t max_delay_ns_;
  // The highest priority level (0 when the model has no priority levels).
  uint64_t levels_limit() const { return levels_limit_; }

  const uint64_t default_level_;
  const uint64_t levels_limit_;
  Policy default_policy_;
  std::map<uint64_t, Policy> level_policies_;
  CanBatch can_batch_;
  std::map<uint64_t, std::deque<Entry>> levels_;
  std::deque<Entry> delayed_;
  size_t size_ = 0;
  int64_t queued_rows_ = 0;  // the queued requests' batch sizes added up
  // A batch runs before its queue delay once it holds this many rows.
  int64_t full_rows_ = 0;
  // Below this many queued rows (the smallest preferred size, else full_rows_) no batch can run
  // before its queue delay.
  int64_t first_decision_rows_ = 0;
};

}  // namespace sonic::server
