#include "server/core/admission.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/core/retry_delay.h"

namespace sonic::server {
namespace {

constexpr uint64_t kNsPerUs = 1000;
constexpr uint64_t kNsPerMs = 1000 * 1000;
constexpr uint64_t kMaxLimitUs = uint64_t{24} * 3600 * 1000 * 1000;  // one day
// Weight of the newest execution in the smoothed means: about the last 8 executions count.
constexpr double kSmoothing = 1.0 / 8;

uint64_t CeilMs(uint64_t ns) { return (ns + kNsPerMs - 1) / kNsPerMs; }

// "12.3 ms" (truncated to a tenth).
std::string Ms(uint64_t ns) {
  return absl::StrCat(ns / kNsPerMs, ".", ns / (kNsPerMs / 10) % 10, " ms");
}

}  // namespace

absl::StatusOr<uint64_t> ReadQueueTimeLimitNs(const inference::ModelConfig& config) {
  auto it = config.parameters().find(kMaxExpectedQueueTimeParameter);
  if (it == config.parameters().end()) return 0;
  uint64_t us = 0;
  if (!absl::SimpleAtoi(it->second.string_value(), &us) || us == 0 || us > kMaxLimitUs) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", config.name(), "': parameter ", kMaxExpectedQueueTimeParameter,
                     " must be a positive integer of microseconds up to one day, got '",
                     it->second.string_value(), "'"));
  }
  return us * kNsPerUs;
}

const char* RefusalReasonName(RefusalReason reason) {
  return reason == RefusalReason::kQueueTime ? "QUEUE_TIME" : "QUEUE_SIZE";
}

QueueTimeAdmission::QueueTimeAdmission(uint64_t limit_ns, size_t instances)
    : limit_ns_(limit_ns), instances_(std::max<size_t>(instances, 1)) {}

void QueueTimeAdmission::RecordExecution(size_t requests, uint64_t duration_ns) {
  if (requests == 0) return;
  const double ns = static_cast<double>(duration_ns);
  const double count = static_cast<double>(requests);
  if (!measured_) {
    mean_execution_ns_ = ns;
    mean_requests_ = count;
    measured_ = true;
    return;
  }
  mean_execution_ns_ += kSmoothing * (ns - mean_execution_ns_);
  mean_requests_ += kSmoothing * (count - mean_requests_);
}

double QueueTimeAdmission::NsPerRequest() const {
  return measured_ ? mean_execution_ns_ / mean_requests_ : 0;
}

uint64_t QueueTimeAdmission::ExpectedQueueNs(size_t ahead) const {
  const double ns = static_cast<double>(ahead) * NsPerRequest() / static_cast<double>(instances_);
  return ns >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(ns);
}

absl::Status QueueTimeAdmission::Admit(size_t ahead) {
  if (limit_ns_ == 0 || ahead == 0) return absl::OkStatus();
  const uint64_t expected = ExpectedQueueNs(ahead);
  if (expected <= limit_ns_) return absl::OkStatus();
  ++refused_[static_cast<size_t>(RefusalReason::kQueueTime)];
  const uint64_t delay_ms = CeilMs(expected - limit_ns_);
  return WithRetryDelay(
      absl::UnavailableError(
          absl::StrCat("the queue is full: a request now would wait about ", Ms(expected), " (",
                       ahead, " requests ahead), over the model's limit of ", Ms(limit_ns_), " (",
                       kMaxExpectedQueueTimeParameter, "); retry in ", delay_ms, " ms")),
      delay_ms);
}

absl::Status QueueTimeAdmission::QueueSizeRefusal(absl::Status refusal) {
  ++refused_[static_cast<size_t>(RefusalReason::kQueueSize)];
  const double per_request = NsPerRequest() / static_cast<double>(instances_);
  if (per_request <= 0) return refusal;
  return WithRetryDelay(std::move(refusal), CeilMs(static_cast<uint64_t>(std::ceil(per_request))));
}

AdmissionSnapshot QueueTimeAdmission::Snapshot(size_t ahead) const {
  AdmissionSnapshot snapshot;
  snapshot.limit_ns = limit_ns_;
  snapshot.expected_queue_ns = ExpectedQueueNs(ahead);
  std::copy(std::begin(refused_), std::end(refused_), std::begin(snapshot.refused));
  return snapshot;
}

}  // namespace sonic::server
