#include "server/core/scheduler.h"

#include <sys/prctl.h>

#include <algorithm>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "server/core/batch_assembly.h"
#include "server/core/retry_delay.h"
#include "server/trace/trace.h"
#include "sonic/common/status.h"

namespace sonic::server {

Scheduler::Scheduler(const Options& options, uint64_t queue_time_limit_ns, size_t instances)
    : options_(options),
      preserve_ordering_(options.config->dynamic_batching().preserve_ordering()),
      batcher_(*options.config,
               [signature = options.signature](const InferenceRequest& head,
                                               const InferenceRequest& candidate) {
                 return CanBatchTogether(*signature, head, candidate);
               }),
      admission_(queue_time_limit_ns, instances) {}

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(
    const Options& options, std::vector<BackendInstance*> instances) {
  SONIC_ASSIGN_OR_RETURN(uint64_t queue_time_limit_ns, ReadQueueTimeLimitNs(*options.config));
  std::unique_ptr<Scheduler> scheduler(
      new Scheduler(options, queue_time_limit_ns, instances.size()));
  Scheduler* raw = scheduler.get();
  for (BackendInstance* instance : instances) {
    raw->executors_.push_back(std::make_unique<BatchExecutor>(
        *options.signature, options.version, *instance, *options.stats, *options.clock,
        [raw](size_t requests, uint64_t duration_ns) {
          absl::MutexLock lock(&raw->mutex_);
          raw->admission_.RecordExecution(requests, duration_ns);
        }));
  }
  try {
    raw->workers_.reserve(instances.size());
    for (const std::unique_ptr<BatchExecutor>& executor : raw->executors_) {
      raw->workers_.emplace_back([raw, executor = executor.get()] { raw->WorkerLoop(executor); });
    }
  } catch (const std::system_error& error) {
    const size_t started = raw->workers_.size();
    raw->StopWorkers();
    return absl::ResourceExhaustedError(
        absl::StrCat("model '", options.config->name(), "' version ", options.version,
                     ": cannot start the thread of instance ", started + 1, " of ",
                     instances.size(), ": ", error.what()));
  }
  return scheduler;
}

void Scheduler::StopWorkers() {
  {
    absl::MutexLock lock(&mutex_);
    accepting_ = false;
    stopping_ = true;
    changed_.SignalAll();
  }
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

Scheduler::~Scheduler() { Drain(); }

void Scheduler::OrderCompletion(InferenceRequest& request) {
  if (!preserve_ordering_) return;
  uint64_t position = response_order_.Reserve();
  request.on_complete = [this, position, done = std::move(request.on_complete)](
                            absl::StatusOr<InferenceResponse> result) mutable {
    response_order_.Complete(position,
                             [done = std::move(done), result = std::move(result)]() mutable {
                               std::move(done)(std::move(result));
                             });
  };
}

void Scheduler::Refuse(InferenceRequest& request, absl::Status status, FailureReason reason) {
  const uint64_t now_ns = options_.clock->NowNs();
  options_.stats->RecordFailure(now_ns - request.arrival_ns, reason);
  if (request.trace) request.trace->Record(kTraceRequestEnd, now_ns);
  absl::Status named(status.code(), absl::StrCat("model '", options_.config->name(), "' version ",
                                                 options_.version, ": ", status.message()));
  status.ForEachPayload([&named](absl::string_view url, const absl::Cord& payload) {
    named.SetPayload(url, payload);
  });
  std::move(request.on_complete)(std::move(named));
}

void Scheduler::Enqueue(std::unique_ptr<InferenceRequest> request) {
  OrderCompletion(*request);
  // Checked alone, before it can share a batch: a bad request fails no other.
  absl::Status admitted = ValidateRequest(*options_.signature, *request);
  if (admitted.ok()) {
    bool run_here = false;
    {
      absl::MutexLock lock(&mutex_);
      admitted = accepting_ ? admission_.Admit(batcher_.size() + running_)
                            : absl::UnavailableError("the model is unloading");
      if (admitted.ok()) {
        const uint64_t now_ns = options_.clock->NowNs();
        if (request->trace) request->trace->Record(kTraceQueueStart, now_ns);
        run_here = ClaimForCaller();
        if (!run_here) {
          absl::StatusOr<bool> decides_sooner = batcher_.Enqueue(request, now_ns);
          if (decides_sooner.ok()) {
            // A worker waiting for a batch to fill sleeps on until it is full or its delay ends;
            // while a caller runs the sole instance, the caller takes the request or, when it
            // gives the instance back, wakes the worker for it (Execute).
            if (*decides_sooner && !caller_running_) changed_.Signal();
            return;
          }
          admitted = admission_.QueueSizeRefusal(decides_sooner.status());
        }
      }
    }
    if (run_here) {
      RunHere(std::move(request));
      return;
    }
  }
  Refuse(*request, admitted);
}

bool Scheduler::ClaimForCaller() {
  if (executors_.size() != 1 || caller_running_ || running_ != 0 || !batcher_.empty() ||
      options_.config->has_dynamic_batching()) {
    return false;
  }
  const double ns_per_request = admission_.NsPerRequest();
  if (ns_per_request <= 0 || ns_per_request > static_cast<double>(options_.quick_execution_ns)) {
    return false;
  }
  caller_running_ = true;
  ++running_;
  return true;
}

void Scheduler::RunHere(std::unique_ptr<InferenceRequest> request) {
  Batch batch;
  batch.push_back(std::move(request));
  for (int turn = 1; !batch.empty(); ++turn) {
    batch = Execute(*executors_.front(), std::move(batch),
                    turn < kCallerTurns ? CallerTurn::kMayGoOn : CallerTurn::kLast);
  }
}

void Scheduler::Drain() {
  {
    absl::MutexLock lock(&mutex_);
    accepting_ = false;
    auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
      return batcher_.empty() && running_ == 0;
    };
    mutex_.Await(absl::Condition(&idle));
  }
  StopWorkers();
}

size_t Scheduler::pending() const {
  absl::MutexLock lock(&mutex_);
  return batcher_.size() + running_;
}

uint64_t Scheduler::idle_wakeups() const {
  absl::MutexLock lock(&mutex_);
  return idle_wakeups_;
}

AdmissionSnapshot Scheduler::admission() const {
  absl::MutexLock lock(&mutex_);
  return admission_.Snapshot(batcher_.size() + running_);
}

Batch Scheduler::NextBatch() {
  while (true) {
    std::vector<std::unique_ptr<InferenceRequest>> expired;
    {
      absl::MutexLock lock(&mutex_);
      for (bool woken = false; expired.empty(); woken = true) {
        const uint64_t now = options_.clock->NowNs();
        expired = batcher_.TakeExpired(now);
        if (!expired.empty()) break;
        Batch batch = caller_running_ ? Batch() : batcher_.TakeBatch(now);
        if (!batch.empty() || stopping_) {
          running_ += batch.size();
          // Arrivals wake one worker each: pass on what this batch left behind.
          if (!batcher_.empty()) changed_.Signal();
          return batch;
        }
        if (woken) ++idle_wakeups_;
        std::optional<uint64_t> next = batcher_.NextDecisionNs();
        if (next) {
          changed_.WaitWithTimeout(&mutex_, absl::Nanoseconds(*next > now ? *next - now : 0));
        } else {
          changed_.Wait(&mutex_);
        }
      }
      // Counted as running until failed, so that Drain waits for them too.
      running_ += expired.size();
    }
    const size_t count = expired.size();
    for (auto& request : expired) {
      Refuse(*request, absl::UnavailableError("the request timed out in the queue"));
      request.reset();  // releases its model reference before the count drops
    }
    absl::MutexLock lock(&mutex_);
    running_ -= count;
  }
}

Batch Scheduler::DropAbandoned(Batch batch) {
  auto is_abandoned = [](const std::unique_ptr<InferenceRequest>& request) {
    return request->abandoned && request->abandoned();
  };
  auto first = std::find_if(batch.begin(), batch.end(), is_abandoned);
  if (first == batch.end()) return batch;  // the usual case: no second vector
  Batch live;
  live.reserve(batch.size());
  for (auto it = batch.begin(); it != batch.end(); ++it) {
    std::unique_ptr<InferenceRequest>& request = *it;
    if (it == first || (it > first && is_abandoned(request))) {
      Refuse(*request,
             absl::CancelledError("the client gave up (call cancelled or deadline passed) "
                                  "before the request ran"),
             FailureReason::kCanceled);
      request.reset();  // releases its model reference before the count drops
    } else {
      live.push_back(std::move(request));
    }
  }
  return live;
}

void Scheduler::WorkerLoop(BatchExecutor* executor) {
  // A worker's timed waits are queue delays, often of 100 us or less, and Linux may end a timed
  // wait as much as the thread's timer slack late (50 us unless set): a worker asks for the
  // least, so that a batch leaves when its delay ends.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  while (true) {
    Batch batch = NextBatch();
    if (batch.empty()) return;
    Execute(*executor, std::move(batch), CallerTurn::kNone);
  }
}

Batch Scheduler::Execute(BatchExecutor& executor, Batch batch, CallerTurn turn) {
  const size_t size = batch.size();
  Batch live = DropAbandoned(std::move(batch));
  if (!live.empty()) executor.Execute(std::move(live));  // records itself in admission_
  absl::MutexLock lock(&mutex_);
  running_ -= size;
  if (turn == CallerTurn::kNone) return {};
  // Without dynamic batching nothing waits for a delay or a timeout: what is queued runs now.
  if (turn == CallerTurn::kMayGoOn && accepting_) {
    Batch next = batcher_.TakeBatch(options_.clock->NowNs());
    running_ += next.size();
    if (!next.empty()) return next;
  }
  caller_running_ = false;
  if (!batcher_.empty()) changed_.Signal();  // what arrived meanwhile is the worker's
  return {};
}

}  // namespace sonic::server
