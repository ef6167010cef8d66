// The dispatch machinery of SonicClient with a fake evaluation: modes, retries, one callback.
#include "sonic/client/sonic_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "sonic/client/client_error.h"

namespace sonic::client {
namespace {

using ::testing::HasSubstr;

// Fails its first `failures` attempts with `error`, then succeeds. In kAsync the outcome is
// delivered from a separate thread, as a transport would.
class FakeClient : public SonicClient {
 public:
  FakeClient(SonicMode mode, int tries, int failures, absl::Status error)
      : SonicClient(mode, tries, "fake"), failures_(failures), error_(std::move(error)) {}
  ~FakeClient() override {
    shutdown([] {});
    absl::MutexLock lock(&threads_mu_);
    for (std::thread& thread : threads_) thread.join();
  }

  int evaluations() const { return evaluations_; }
  std::vector<std::thread::id> evaluation_threads;
  int retries_prepared = 0;
  std::vector<std::thread::id> prepare_threads;
  std::vector<std::thread::id> transport_threads;  // kAsync: the threads that called finish()
  absl::Status completed_with;
  // When set, each evaluation waits for it first: the dispatch stays in flight until then.
  absl::Notification* hold = nullptr;

 protected:
  void evaluate() override {
    if (hold != nullptr) hold->WaitForNotification();
    const bool fail = evaluations_++ < failures_;
    evaluation_threads.push_back(std::this_thread::get_id());
    if (mode() == SonicMode::kAsync) {
      absl::MutexLock lock(&threads_mu_);
      threads_.emplace_back([this, fail] {
        {
          absl::MutexLock wait_for_emplace(&threads_mu_);
          transport_threads.push_back(std::this_thread::get_id());
        }
        finish(!fail, error_);
      });
    } else {
      finish(!fail, error_);
    }
  }
  void prepareRetry(const absl::Status&) override {
    ++retries_prepared;
    prepare_threads.push_back(std::this_thread::get_id());
  }
  void completed(const absl::Status& status) override { completed_with = status; }

 private:
  const int failures_;
  const absl::Status error_;
  int evaluations_ = 0;
  absl::Mutex threads_mu_;
  std::vector<std::thread> threads_;
};

// kAsync, finishing each attempt on a detached thread as a transport does: its destructor waits
// for the dispatch through shutdown() alone. `destroying`, when given, is notified from there.
class DetachedAsyncClient : public SonicClient {
 public:
  explicit DetachedAsyncClient(absl::Notification* destroying = nullptr)
      : SonicClient(SonicMode::kAsync, 1, "detached"), destroying_(destroying) {}
  ~DetachedAsyncClient() override {
    shutdown([this] {
      if (destroying_ != nullptr) destroying_->Notify();
    });
  }

 protected:
  void evaluate() override { std::thread([this] { finish(true); }).detach(); }

 private:
  absl::Notification* const destroying_;
};

struct Outcome {
  absl::Notification done;
  absl::Status status;
  int calls = 0;
  std::thread::id thread;
};

DoneCallback Record(Outcome& outcome) {
  return [&outcome](absl::Status status) {
    outcome.status = std::move(status);
    outcome.thread = std::this_thread::get_id();
    ++outcome.calls;
    outcome.done.Notify();
  };
}

class SonicClientModeTest : public ::testing::TestWithParam<SonicMode> {};

TEST_P(SonicClientModeTest, RetriesRetryableErrorsUpToAllowedTries) {
  FakeClient client(GetParam(), 3, 2, absl::UnavailableError("down"));
  Outcome outcome;
  client.dispatch(Record(outcome));
  outcome.done.WaitForNotification();
  EXPECT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(client.evaluations(), 3);
  EXPECT_EQ(client.tries(), 3);
  EXPECT_EQ(client.retries_prepared, 2);
  EXPECT_EQ(outcome.calls, 1);
  EXPECT_TRUE(client.completed_with.ok());
}

TEST_P(SonicClientModeTest, GivesUpWithTheLastErrorAndTheNumberOfAttempts) {
  FakeClient client(GetParam(), 2, 5, absl::DeadlineExceededError("slow"));
  Outcome outcome;
  client.dispatch(Record(outcome));
  outcome.done.WaitForNotification();
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("after 2 attempts"));
  EXPECT_EQ(client.evaluations(), 2);
}

TEST_P(SonicClientModeTest, DoesNotRetryErrorsARetryCannotCure) {
  FakeClient client(GetParam(), 5, 5, absl::InvalidArgumentError("bad shape"));
  Outcome outcome;
  client.dispatch(Record(outcome));
  outcome.done.WaitForNotification();
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.evaluations(), 1);
}

TEST_P(SonicClientModeTest, DispatchesAgainAfterCompletion) {
  FakeClient client(GetParam(), 1, 0, absl::OkStatus());
  for (int i = 0; i < 3; ++i) {
    Outcome outcome;
    client.dispatch(Record(outcome));
    outcome.done.WaitForNotification();
    EXPECT_TRUE(outcome.status.ok());
  }
  EXPECT_EQ(client.evaluations(), 3);
}

INSTANTIATE_TEST_SUITE_P(Modes, SonicClientModeTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const auto& info) { return std::string(SonicModeName(info.param)); });

TEST(SonicClientTest, SyncRunsEverythingOnTheCallersThread) {
  FakeClient client(SonicMode::kSync, 2, 1, absl::UnavailableError("down"));
  Outcome outcome;
  client.dispatch(Record(outcome));
  EXPECT_TRUE(outcome.done.HasBeenNotified());  // before dispatch returned
  EXPECT_EQ(outcome.thread, std::this_thread::get_id());
}

TEST(SonicClientTest, PseudoAsyncEvaluatesOnItsWorker) {
  FakeClient client(SonicMode::kPseudoAsync, 1, 0, absl::OkStatus());
  absl::Notification release;
  Outcome outcome;
  bool returned_first = false;
  client.dispatch([&](absl::Status status) {
    returned_first = release.WaitForNotificationWithTimeout(absl::Seconds(30));
    Record(outcome)(std::move(status));
  });
  release.Notify();
  outcome.done.WaitForNotification();
  EXPECT_TRUE(returned_first);  // dispatch returned while the callback was pending
  EXPECT_NE(outcome.thread, std::this_thread::get_id());
  EXPECT_NE(client.evaluation_threads.at(0), std::this_thread::get_id());
}

TEST(SonicClientTest, AsyncRetriesArePreparedOffTheTransportThreads) {
  FakeClient client(SonicMode::kAsync, 3, 2, absl::UnavailableError("down"));
  Outcome outcome;
  client.dispatch(Record(outcome));
  ASSERT_TRUE(outcome.done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(outcome.status.ok()) << outcome.status;
  ASSERT_EQ(client.prepare_threads.size(), 2u);
  for (std::thread::id prepared : client.prepare_threads) {
    EXPECT_NE(prepared, std::this_thread::get_id());
    EXPECT_THAT(client.transport_threads, ::testing::Not(::testing::Contains(prepared)));
  }
}

TEST(SonicClientTest, ASecondDispatchWhileInFlightIsRefused) {
  FakeClient client(SonicMode::kPseudoAsync, 1, 0, absl::OkStatus());
  // Held in its evaluation: the dispatch ends (and a new one may start) just before its
  // callback runs, so a callback that blocked would not keep it in flight.
  absl::Notification release;
  client.hold = &release;
  Outcome first, second;
  client.dispatch(Record(first));
  client.dispatch(Record(second));
  EXPECT_TRUE(second.done.HasBeenNotified());
  EXPECT_EQ(second.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status.message()), HasSubstr("in flight"));
  release.Notify();
  first.done.WaitForNotification();
  EXPECT_TRUE(first.status.ok());
}

TEST(SonicClientTest, DestructionWaitsUntilTheCallbackHasReturned) {
  absl::Notification destroying, in_callback, release;
  std::atomic<bool> returned{false};
  auto* client = new DetachedAsyncClient(&destroying);
  client->dispatch([&](absl::Status) {
    in_callback.Notify();
    release.WaitForNotification();
    returned = true;
  });
  in_callback.WaitForNotification();
  std::thread destroyer([&] {
    delete client;
    EXPECT_TRUE(returned.load()) << "the client was gone while its callback still ran";
  });
  destroying.WaitForNotification();  // the destructor is in shutdown()
  release.Notify();
  destroyer.join();
}

TEST(SonicClientTest, TheCallbackMayDestroyTheClientInAsync) {
  auto* client = new DetachedAsyncClient();
  absl::Notification done;
  client->dispatch([&](absl::Status) {
    delete client;  // waits for no one: this callback is its own
    done.Notify();
  });
  done.WaitForNotification();
}

TEST(SonicClientTest, TheCallbackMayDestroyTheClient) {
  for (SonicMode mode : {SonicMode::kSync, SonicMode::kPseudoAsync}) {
    auto* client = new FakeClient(mode, 1, 0, absl::OkStatus());
    absl::Notification done;
    client->dispatch([&](absl::Status) {
      delete client;
      done.Notify();
    });
    done.WaitForNotification();
  }
}

}  // namespace
}  // namespace sonic::client
