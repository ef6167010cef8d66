#include "retry_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"

namespace sonic::client::internal {
namespace {

TEST(RetryExecutorTest, RunsTasksOnItsOwnThreads) {
  RetryExecutor executor({.threads = 2, .capacity = 8});
  absl::Notification ran;
  std::thread::id thread;
  ASSERT_TRUE(executor.Post([&] {
    thread = std::this_thread::get_id();
    ran.Notify();
  }));
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(RetryExecutorTest, ABlockedTaskDoesNotHoldTheOthers) {
  RetryExecutor executor({.threads = 2, .capacity = 8});
  absl::Notification release, other_ran;
  ASSERT_TRUE(executor.Post([&] { release.WaitForNotificationWithTimeout(absl::Seconds(30)); }));
  ASSERT_TRUE(executor.Post([&] { other_ran.Notify(); }));
  EXPECT_TRUE(other_ran.WaitForNotificationWithTimeout(absl::Seconds(20)));
  release.Notify();
}

TEST(RetryExecutorTest, RefusesTasksBeyondItsCapacityAndRunsTheQueuedOnes) {
  std::atomic<int> ran{0};
  absl::Notification release, started;
  {
    RetryExecutor executor({.threads = 1, .capacity = 2});
    ASSERT_TRUE(executor.Post([&] {
      started.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(30));
      ++ran;
    }));
    ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(30)));
    EXPECT_TRUE(executor.Post([&] { ++ran; }));
    EXPECT_TRUE(executor.Post([&] { ++ran; }));
    EXPECT_FALSE(executor.Post([&] { ++ran; }));  // two wait already
    release.Notify();
  }  // the destructor runs what is queued
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace sonic::client::internal
