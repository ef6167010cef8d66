#include "sonic/client/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace sonic::client {

std::string_view FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kUnavailable:
      return "unavailable";
    case FailureKind::kTimeout:
      return "timeout";
    case FailureKind::kOverloaded:
      return "overloaded";
  }
  return "unknown";
}

FailureKind ClassifyFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      return FailureKind::kTimeout;
    case absl::StatusCode::kResourceExhausted:
      // gRPC's own refusal of a message over the size limit is no overload: waiting won't help.
      if (absl::StrContains(status.message(), "larger than max")) return FailureKind::kUnavailable;
      return FailureKind::kOverloaded;
    case absl::StatusCode::kUnavailable: {
      // sonic-server: "the queue is full (max_queue_size N)"; Triton: "Exceeds maximum queue
      // size", and "Request timeout expired" when its queue policy drops a waiting request.
      const std::string message = absl::AsciiStrToLower(status.message());
      for (const char* overload :
           {"queue is full", "maximum queue size", "queue full", "request timeout expired"}) {
        if (absl::StrContains(message, overload)) return FailureKind::kOverloaded;
      }
      return FailureKind::kUnavailable;
    }
    default:
      return FailureKind::kUnavailable;
  }
}

std::string_view RetryTargetName(RetryTarget target) {
  switch (target) {
    case RetryTarget::kResolver:
      return "resolver";
    case RetryTarget::kSameServer:
      return "same_server";
    case RetryTarget::kAnotherServer:
      return "another_server";
    case RetryTarget::kFallback:
      return "fallback";
  }
  return "unknown";
}

const RetryStep* ChainStep(const RetryChain& chain, int failure) {
  int before = 0;
  for (const RetryStep& step : chain) {
    if (failure <= before + std::max(0, step.tries)) return &step;
    before += std::max(0, step.tries);
  }
  return nullptr;
}

int ChainAttempts(const RetryChain& chain) {
  int attempts = 1;
  for (const RetryStep& step : chain) attempts += std::max(0, step.tries);
  return attempts;
}

absl::Duration BackoffDelay(const BackoffPolicy& policy, int retry, double uniform01,
                            absl::Duration hint) {
  const double growth = std::pow(std::max(1.0, policy.multiplier), std::max(0, retry - 1));
  const absl::Duration ceiling = std::min(policy.max, policy.initial * std::min(growth, 1e9));
  const absl::Duration drawn = ceiling * std::clamp(uniform01, 0.0, 1.0);
  return std::max(drawn, hint);
}

RetryBudget::RetryBudget(const Options& options)
    : options_(options), tokens_(std::min(options.initial, options.capacity)) {}

bool RetryBudget::TrySpend() {
  absl::MutexLock lock(&mu_);
  if (tokens_ < 1) {
    ++refused_;
    return false;
  }
  tokens_ -= 1;
  ++spent_;
  return true;
}

void RetryBudget::Refill() {
  absl::MutexLock lock(&mu_);
  tokens_ = std::min(options_.capacity, tokens_ + options_.refill);
}

uint64_t RetryBudget::spent() const {
  absl::MutexLock lock(&mu_);
  return spent_;
}

uint64_t RetryBudget::refused() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

}  // namespace sonic::client
