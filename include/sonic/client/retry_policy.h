// How a TritonClient retries: the retry chain (where each retry goes, as CMSSW's retry proposal),
// which failures count against a server, backoff from a full queue, and the job's budget of
// such retries.
//
// A failed attempt is one of three kinds (ClassifyFailure):
//   kUnavailable  the server did not answer (refused, reset, shutting down, model not ready)
//   kTimeout      the deadline passed (a hung or overwhelmed server)
//   kOverloaded   the server refused the request because its queue is full (RESOURCE_EXHAUSTED,
//                 or UNAVAILABLE saying the queue is full as sonic-server and Triton do)
// The first two count against the server and advance the retry chain. An overload is not a
// failure of the server: the request waits (exponential backoff with full jitter, at least the
// server's retry hint) and is sent again, possibly to a less loaded server, without using a step
// of the chain; each such retry spends a token of the RetryBudget (per job when shared), so
// that a saturated site slows jobs down instead of failing them, but not forever.
//
// Thread-safety: RetryBudget is thread-safe; the rest are values and pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sonic::client {

enum class FailureKind { kUnavailable, kTimeout, kOverloaded };

// "unavailable", "timeout", "overloaded".
std::string_view FailureKindName(FailureKind kind);

// The kind of a retryable failure (MayRetry(status) is true); kUnavailable for other statuses.
FailureKind ClassifyFailure(const absl::Status& status);

// Where one step of the chain sends its retries.
enum class RetryTarget {
  kResolver,       // wherever the resolver decides (TritonService: its retry_policy)
  kSameServer,     // the server that failed
  kAnotherServer,  // another server serving the model, the healthiest first (fewest recent
                   // failures, then the lowest queue time); the fallback when there is none
  kFallback,       // the local fallback server
};

// "resolver", "same_server", "another_server", "fallback".
std::string_view RetryTargetName(RetryTarget target);

// `tries` retries (attempts after a failure) go to `target`, then the next step takes over.
struct RetryStep {
  RetryTarget target = RetryTarget::kResolver;
  int tries = 1;
  bool operator==(const RetryStep&) const = default;
};

// The retry chain of a client: the steps in order. The empty chain stands for one step
// {kResolver, allowed_tries - 1}, so that allowed_tries keeps its meaning.
using RetryChain = std::vector<RetryStep>;

// The step of `chain` for the failure number `failure` (1 for the first) of a dispatch; nullptr
// when the chain is used up.
const RetryStep* ChainStep(const RetryChain& chain, int failure);

// Attempts a dispatch may make with `chain` when nothing is overloaded: 1 + the steps' tries.
int ChainAttempts(const RetryChain& chain);

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(20);
  absl::Duration max = absl::Seconds(2);
  double multiplier = 2;
  // Overload retries one dispatch may make (beyond them the error ends it).
  int max_retries = 64;
};

// The wait before overload retry number `retry` (1 for the first): uniformly drawn in
// [0, min(max, initial * multiplier^(retry-1))] ("full jitter"), and never below `hint` (the
// server's own, e.g. gRPC's grpc-retry-pushback-ms). `uniform01` is a draw from [0, 1).
absl::Duration BackoffDelay(const BackoffPolicy& policy, int retry, double uniform01,
                            absl::Duration hint = absl::ZeroDuration());

// Tokens for overload retries, shared by the clients of a job: each retry takes one, each
// successful dispatch gives back `refill` (up to `capacity`), so retries stay proportionate to
// the work that gets done. Thread-safe.
class RetryBudget {
 public:
  struct Options {
    double capacity = 1000;
    double initial = 1000;
    double refill = 1;
  };
  RetryBudget() : RetryBudget(Options()) {}
  explicit RetryBudget(const Options& options);

  // Takes a token; false (nothing taken) when none is left.
  bool TrySpend();
  void Refill();
  // Tokens spent so far, and refusals for lack of one.
  uint64_t spent() const;
  uint64_t refused() const;

 private:
  const Options options_;
  mutable absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  uint64_t spent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sonic::client
