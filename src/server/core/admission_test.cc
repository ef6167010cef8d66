// Admission on expected queue time: the estimate from recent executions, the refusal and its
// retry delay, the parameter's errors.
#include "server/core/admission.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "server/core/retry_delay.h"

namespace sonic::server {
namespace {

constexpr uint64_t kMs = 1000 * 1000;

inference::ModelConfig WithLimit(const std::string& value) {
  inference::ModelConfig config;
  config.set_name("m");
  (*config.mutable_parameters())[kMaxExpectedQueueTimeParameter].set_string_value(value);
  return config;
}

TEST(QueueTimeAdmissionTest, NothingIsRefusedBeforeTheFirstExecutionOrWhenIdle) {
  QueueTimeAdmission admission(10 * kMs, 1);
  EXPECT_TRUE(admission.Admit(1000).ok());  // no estimate yet
  admission.RecordExecution(1, 100 * kMs);
  EXPECT_TRUE(admission.Admit(0).ok());  // idle: 100 ms per request, nothing ahead
  EXPECT_FALSE(admission.Admit(1).ok());
}

TEST(QueueTimeAdmissionTest, ExpectedWaitIsRequestsAheadTimesServiceTimeOverInstances) {
  QueueTimeAdmission admission(0, 2);
  admission.RecordExecution(4, 40 * kMs);  // 10 ms per request
  EXPECT_EQ(admission.ExpectedQueueNs(6), 30 * kMs);
  // Later executions weigh in smoothly: the mean execution moves an eighth of the way.
  admission.RecordExecution(4, 120 * kMs);
  EXPECT_EQ(admission.ExpectedQueueNs(8), 50 * kMs);  // (40 + 80/8) / 4 = 12.5 ms per request
}

TEST(QueueTimeAdmissionTest, ARefusalIsUnavailableWithTheQueueFullPhraseAndARetryDelay) {
  QueueTimeAdmission admission(25 * kMs, 1);
  admission.RecordExecution(2, 20 * kMs);     // 10 ms per request
  EXPECT_TRUE(admission.Admit(2).ok());       // 20 ms
  absl::Status refused = admission.Admit(4);  // 40 ms
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(refused.message(), "the queue is full")) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "40.0 ms")) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "max_expected_queue_time_us")) << refused;
  EXPECT_EQ(RetryDelayMs(refused), 15u);  // until the queue is back within 25 ms
  AdmissionSnapshot snapshot = admission.Snapshot(3);
  EXPECT_EQ(snapshot.limit_ns, 25 * kMs);
  EXPECT_EQ(snapshot.expected_queue_ns, 30 * kMs);
  EXPECT_EQ(snapshot.refused[static_cast<size_t>(RefusalReason::kQueueTime)], 1u);
  EXPECT_EQ(snapshot.refused[static_cast<size_t>(RefusalReason::kQueueSize)], 0u);
}

TEST(QueueTimeAdmissionTest, WithoutALimitNothingIsRefused) {
  QueueTimeAdmission admission(0, 1);
  admission.RecordExecution(1, 1000 * kMs);
  EXPECT_TRUE(admission.Admit(1000).ok());
}

TEST(QueueTimeAdmissionTest, AQueueSizeRefusalIsCountedWithTheTimeForOneRequestToLeave) {
  QueueTimeAdmission admission(0, 2);
  absl::Status early = admission.QueueSizeRefusal(absl::UnavailableError("the queue is full"));
  EXPECT_FALSE(RetryDelayMs(early).has_value());  // nothing measured yet
  admission.RecordExecution(1, 7 * kMs);
  absl::Status later = admission.QueueSizeRefusal(absl::UnavailableError("the queue is full"));
  EXPECT_EQ(later.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(RetryDelayMs(later), 4u);  // 3.5 ms, rounded up
  EXPECT_EQ(admission.Snapshot(0).refused[static_cast<size_t>(RefusalReason::kQueueSize)], 2u);
}

TEST(QueueTimeAdmissionTest, TheParameterIsMicrosecondsAndBadValuesAreNamed) {
  inference::ModelConfig none;
  EXPECT_EQ(*ReadQueueTimeLimitNs(none), 0u);
  EXPECT_EQ(*ReadQueueTimeLimitNs(WithLimit("50000")), 50 * kMs);
  for (const char* bad : {"0", "-5", "abc", "", "86400000001"}) {
    absl::StatusOr<uint64_t> limit = ReadQueueTimeLimitNs(WithLimit(bad));
    ASSERT_FALSE(limit.ok()) << bad;
    EXPECT_EQ(limit.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(limit.status().message(), "max_expected_queue_time_us"));
  }
}

TEST(RetryDelayTest, TravelsAsAPayloadAndIsAtLeastOneMillisecond) {
  EXPECT_FALSE(RetryDelayMs(absl::UnavailableError("x")).has_value());
  EXPECT_EQ(RetryDelayMs(WithRetryDelay(absl::UnavailableError("x"), 250)), 250u);
  EXPECT_EQ(RetryDelayMs(WithRetryDelay(absl::UnavailableError("x"), 0)), 1u);
}

}  // namespace
}  // namespace sonic::server
