#include "client_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace sonic::client::internal {
namespace {

TEST(ClientExecutorTest, RunsTasksOnItsOwnThreads) {
  ClientExecutor executor({.threads = 2, .capacity = 8});
  absl::Notification ran;
  std::thread::id thread;
  ASSERT_TRUE(executor.Post([&] {
    thread = std::this_thread::get_id();
    ran.Notify();
  }));
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(ClientExecutorTest, ABlockedTaskDoesNotHoldTheOthers) {
  ClientExecutor executor({.threads = 2, .capacity = 8});
  absl::Notification release, other_ran;
  ASSERT_TRUE(executor.Post([&] { release.WaitForNotificationWithTimeout(absl::Seconds(30)); }));
  ASSERT_TRUE(executor.Post([&] { other_ran.Notify(); }));
  EXPECT_TRUE(other_ran.WaitForNotificationWithTimeout(absl::Seconds(20)));
  release.Notify();
}

TEST(ClientExecutorTest, RefusesTasksBeyondItsCapacityAndRunsTheQueuedOnes) {
  std::atomic<int> ran{0};
  absl::Notification release, started;
  {
    ClientExecutor executor({.threads = 1, .capacity = 2});
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

// A task waiting for its due time holds no thread: with one thread, a task posted after it
// without delay runs first, and the delayed one still runs; the destructor runs one not yet due.
TEST(ClientExecutorTest, DelayedTasksWaitWithoutHoldingAThread) {
  std::vector<int> order;
  absl::Mutex mu;
  absl::Notification both_ran;
  {
    ClientExecutor executor({.threads = 1, .capacity = 8});
    ASSERT_TRUE(executor.PostAfter(absl::Milliseconds(300), [&] {
      absl::MutexLock lock(&mu);
      order.push_back(1);
      if (order.size() == 2) both_ran.Notify();
    }));
    ASSERT_TRUE(executor.Post([&] {
      absl::MutexLock lock(&mu);
      order.push_back(2);
      if (order.size() == 2) both_ran.Notify();
    }));
    ASSERT_TRUE(both_ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
    ASSERT_TRUE(executor.PostAfter(absl::Hours(1), [&] {
      absl::MutexLock lock(&mu);
      order.push_back(3);
    }));
  }
  EXPECT_EQ(order, (std::vector<int>{2, 1, 3}));
}

TEST(ClientExecutorTest, CompletionsNeverWaitBehindBlockedRetries) {
  // More blocked retries than the retry executor has threads: completions still run.
  absl::Notification release, completed;
  std::atomic<int> retries_ran{0};
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(ClientExecutor::Retries().Post([&] {
      release.WaitForNotificationWithTimeout(absl::Seconds(60));
      ++retries_ran;
    }));
  }
  ASSERT_TRUE(ClientExecutor::Completions().Post([&] { completed.Notify(); }));
  EXPECT_TRUE(completed.WaitForNotificationWithTimeout(absl::Seconds(30)));
  release.Notify();
  ASSERT_TRUE(ClientExecutor::Retries().Post([&] { ++retries_ran; }));
  for (int i = 0; i < 3000 && retries_ran < 17; ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(retries_ran.load(), 17);
}

}  // namespace
}  // namespace sonic::client::internal
