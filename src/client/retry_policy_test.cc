#include "sonic/client/retry_policy.h"

#include <gtest/gtest.h>

namespace sonic::client {
namespace {

TEST(RetryPolicyTest, FullQueuesAreOverloadsNotFailures) {
  EXPECT_EQ(ClassifyFailure(absl::UnavailableError("the queue is full (max_queue_size 1); retry "
                                                   "later")),
            FailureKind::kOverloaded);
  EXPECT_EQ(ClassifyFailure(absl::UnavailableError("Exceeds maximum queue size")),
            FailureKind::kOverloaded);
  EXPECT_EQ(ClassifyFailure(absl::ResourceExhaustedError("too many requests")),
            FailureKind::kOverloaded);
  EXPECT_EQ(ClassifyFailure(absl::UnavailableError("failed to connect to all addresses")),
            FailureKind::kUnavailable);
  EXPECT_EQ(ClassifyFailure(absl::DeadlineExceededError("Deadline Exceeded")),
            FailureKind::kTimeout);
}

TEST(RetryPolicyTest, ChainStepsFollowEachOtherInOrder) {
  const RetryChain chain = {
      {RetryTarget::kSameServer, 1}, {RetryTarget::kAnotherServer, 2}, {RetryTarget::kFallback, 1}};
  EXPECT_EQ(ChainAttempts(chain), 5);
  EXPECT_EQ(ChainStep(chain, 1)->target, RetryTarget::kSameServer);
  EXPECT_EQ(ChainStep(chain, 2)->target, RetryTarget::kAnotherServer);
  EXPECT_EQ(ChainStep(chain, 3)->target, RetryTarget::kAnotherServer);
  EXPECT_EQ(ChainStep(chain, 4)->target, RetryTarget::kFallback);
  EXPECT_EQ(ChainStep(chain, 5), nullptr);
  EXPECT_EQ(ChainStep({}, 1), nullptr);
  EXPECT_EQ(ChainAttempts({}), 1);
}

TEST(RetryPolicyTest, BackoffGrowsWithinItsCapAndRespectsTheHint) {
  const BackoffPolicy policy{absl::Milliseconds(10), absl::Milliseconds(100), 2, 8};
  EXPECT_EQ(BackoffDelay(policy, 1, 1.0), absl::Milliseconds(10));
  EXPECT_EQ(BackoffDelay(policy, 3, 1.0), absl::Milliseconds(40));
  EXPECT_EQ(BackoffDelay(policy, 30, 1.0), absl::Milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 3, 0.5), absl::Milliseconds(20));
  EXPECT_EQ(BackoffDelay(policy, 3, 0.0), absl::ZeroDuration());
  EXPECT_EQ(BackoffDelay(policy, 1, 0.5, absl::Milliseconds(250)), absl::Milliseconds(250));
}

TEST(RetryPolicyTest, TheBudgetRunsOutAndRefillsWithSuccesses) {
  RetryBudget budget({.capacity = 2, .initial = 1, .refill = 0.5});
  EXPECT_TRUE(budget.TrySpend());
  EXPECT_FALSE(budget.TrySpend());
  budget.Refill();
  EXPECT_FALSE(budget.TrySpend());
  budget.Refill();
  EXPECT_TRUE(budget.TrySpend());
  for (int i = 0; i < 10; ++i) budget.Refill();  // capped at the capacity
  EXPECT_TRUE(budget.TrySpend());
  EXPECT_TRUE(budget.TrySpend());
  EXPECT_FALSE(budget.TrySpend());
  EXPECT_EQ(budget.spent(), 4u);
  EXPECT_EQ(budget.refused(), 3u);
}

}  // namespace
}  // namespace sonic::client
