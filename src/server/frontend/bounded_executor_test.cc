// BoundedExecutor: every accepted task runs once, on at most `threads` threads, and a full queue
// refuses at once instead of growing or starting threads.
#include "server/frontend/bounded_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "absl/synchronization/notification.h"

namespace sonic::server {
namespace {

TEST(BoundedExecutorTest, RunsEveryAcceptedTaskOnTheGivenThreads) {
  std::atomic<int> ran{0};
  absl::Mutex mutex;
  std::set<std::thread::id> threads;
  {
    BoundedExecutor executor({.what = "tasks", .threads = 2, .max_queued = 1000});
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(executor
                      .Submit([&] {
                        absl::MutexLock lock(&mutex);
                        threads.insert(std::this_thread::get_id());
                        ++ran;
                      })
                      .ok());
    }
  }  // the destructor runs what is queued
  EXPECT_EQ(ran, 200);
  EXPECT_LE(threads.size(), 2u);
}

TEST(BoundedExecutorTest, AFullQueueRefusesWithTheLimit) {
  absl::Notification started, release;
  std::atomic<int> ran{0};
  {
    BoundedExecutor executor({.what = "model loads", .threads = 1, .max_queued = 2});
    ASSERT_TRUE(executor
                    .Submit([&] {
                      started.Notify();
                      release.WaitForNotification();
                      ++ran;
                    })
                    .ok());
    started.WaitForNotification();
    EXPECT_TRUE(executor.Submit([&] { ++ran; }).ok());
    EXPECT_TRUE(executor.Submit([&] { ++ran; }).ok());
    absl::Status refused = executor.Submit([&] { ran += 100; });
    EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
    EXPECT_THAT(std::string(refused.message()),
                ::testing::AllOf(::testing::HasSubstr("too many model loads"),
                                 ::testing::HasSubstr("2 wait already")));
    release.Notify();
  }
  EXPECT_EQ(ran, 3) << "the refused task never runs";
}

}  // namespace
}  // namespace sonic::server
