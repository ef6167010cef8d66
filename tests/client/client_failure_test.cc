// Failures through TritonClient against real servers: retries after a server dies (failing over
// through the resolver, the seam TritonService will use), giving up after allowed_tries, timeout
// expiry, and destroying a client with a request in flight.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client_test_util.h"

namespace sonic::testing {
namespace {

using client::ErrorCategory;
using client::GetErrorCategory;
using client::SonicMode;
using client::TritonClient;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// Hands out `first` until told that it failed, then `second`; records what it was told.
class TwoServerResolver {
 public:
  TwoServerResolver(std::string first, std::string second)
      : first_(std::move(first)), second_(std::move(second)) {}
  client::ServerResolver AsFunction() {
    return [this](const std::string& model,
                  const std::string& failed) -> absl::StatusOr<client::ServerEndpoint> {
      absl::MutexLock lock(&mu_);
      failed_.push_back(failed);
      return client::ServerEndpoint{failed == first_ ? second_ : first_, {}};
    };
  }
  std::vector<std::string> failed() {
    absl::MutexLock lock(&mu_);
    return failed_;
  }

 private:
  const std::string first_, second_;
  absl::Mutex mu_;
  std::vector<std::string> failed_ ABSL_GUARDED_BY(mu_);
};

class ClientFailureTest : public ::testing::TestWithParam<SonicMode> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestServer> server = StartTestServer({});
    setup_ = server.status();
    if (server.ok()) backup_ = std::make_unique<TestServer>(*std::move(server));
  }
  static void TearDownTestSuite() { backup_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(setup_.ok()) << setup_;
    absl::StatusOr<TestServer> server = StartTestServer({});
    ASSERT_TRUE(server.ok()) << server.status();
    doomed_ = std::make_unique<TestServer>(*std::move(server));
  }
  void KillDoomedServer() {
    ASSERT_TRUE(doomed_->server->Stop(SIGKILL).ok());
  }

  static inline std::unique_ptr<TestServer> backup_;
  static inline absl::Status setup_;
  std::unique_ptr<TestServer> doomed_;
};

TEST_P(ClientFailureTest, RetriesOnAnotherServerAfterTheFirstDied) {
  const std::string doomed = doomed_->server->address();
  const std::string backup = backup_->server->address();
  TwoServerResolver resolver(doomed, backup);
  TritonClient::Options options = ClientOptions(*doomed_, "identity_fp32", GetParam());
  options.resolver = resolver.AsFunction();
  options.allowed_tries = 2;
  absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->serverAddress(), doomed);
  KillDoomedServer();

  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1, 2, 3}}).ok());
  absl::Notification returned, done;
  absl::Status result;
  bool callback_saw_return = false;
  (*client)->dispatch([&](absl::Status status) {
    result = std::move(status);
    callback_saw_return = GetParam() == SonicMode::kSync ||
                          returned.WaitForNotificationWithTimeout(kDispatchWait);
    done.Notify();
  });
  returned.Notify();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kDispatchWait));
  ASSERT_TRUE(result.ok()) << result;
  EXPECT_TRUE(callback_saw_return);  // the retry did not hold the caller's thread
  EXPECT_EQ((*client)->tries(), 2);
  EXPECT_EQ((*client)->serverAddress(), backup);
  EXPECT_THAT(resolver.failed(), ElementsAre("", doomed));
  EXPECT_THAT(*ReadFp32(**client, "OUTPUT0"), ElementsAre(ElementsAre(1, 2, 3)));
}

TEST_P(ClientFailureTest, GivesUpAfterAllowedTriesWithAServerUnavailableError) {
  TritonClient::Options options = ClientOptions(*doomed_, "identity_fp32", GetParam());
  options.allowed_tries = 3;
  absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  KillDoomedServer();
  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1}}).ok());
  absl::Status status = DispatchAndWait(**client);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorCategory(status), ErrorCategory::kServerUnavailable);
  EXPECT_TRUE(client::MayRetry(status));
  EXPECT_THAT(Message(status), HasSubstr("model 'identity_fp32'"));
  EXPECT_THAT(Message(status), HasSubstr(options.server_address));
  EXPECT_THAT(Message(status), HasSubstr("after 3 attempts"));
  EXPECT_EQ((*client)->tries(), 3);
}

TEST_P(ClientFailureTest, ServerKilledDuringARequestFailsOverWithTheSameResult) {
  TwoServerResolver resolver(doomed_->server->address(), backup_->server->address());
  TritonClient::Options options = ClientOptions(*doomed_, "identity_delay", GetParam());
  options.resolver = resolver.AsFunction();
  options.allowed_tries = 2;
  absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1, 2, 3, 4}}).ok());
  absl::Status result;
  absl::Notification done;
  std::thread killer;
  if (GetParam() == SonicMode::kSync) {  // the caller is blocked: kill from elsewhere
    killer = std::thread([this] { KillDoomedServer(); });
  }
  (*client)->dispatch([&](absl::Status status) {
    result = std::move(status);
    done.Notify();
  });
  if (GetParam() != SonicMode::kSync) KillDoomedServer();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kDispatchWait));
  if (killer.joinable()) killer.join();
  ASSERT_TRUE(result.ok()) << result;
  EXPECT_THAT(*ReadFp32(**client, "OUTPUT0"), ElementsAre(ElementsAre(1, 2, 3, 4)));
}

// A retry whose resolver takes a long time (TritonService probing servers or starting its
// fallback) holds no transport thread: while the resolvers of more clients than gRPC has
// callback threads are blocked, another client's request still completes.
TEST_P(ClientFailureTest, ASlowResolverDoesNotDelayOtherClientsCompletions) {
  if (GetParam() == SonicMode::kSync) GTEST_SKIP() << "a Sync retry holds only its caller";
  constexpr int kClients = 16;  // gRPC 1.51 has at most 16 callback threads
  const std::string doomed = doomed_->server->address();
  const std::string backup = backup_->server->address();
  absl::Notification other_done;
  absl::Notification release;  // ends the resolvers' wait once the test has its answer
  std::atomic<int> resolving{0};
  client::ServerResolver slow = [&](const std::string&, const std::string& failed)
      -> absl::StatusOr<client::ServerEndpoint> {
    if (failed.empty()) return client::ServerEndpoint{doomed, {}};
    ++resolving;
    release.WaitForNotificationWithTimeout(kDispatchWait);
    return client::ServerEndpoint{backup, {}};
  };
  absl::StatusOr<std::unique_ptr<TritonClient>> other =
      TritonClient::Create(ClientOptions(*backup_, "identity_fp32", GetParam()));
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(SendFp32(**other, "INPUT0", {{5, 6}}).ok());
  std::vector<absl::Notification> done(kClients);
  std::vector<absl::Status> results(kClients);
  std::vector<std::unique_ptr<TritonClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    TritonClient::Options options = ClientOptions(*doomed_, "identity_delay", GetParam());
    options.resolver = slow;
    options.allowed_tries = 2;
    absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(SendFp32(**client, "INPUT0", {{float(i), 1, 2, 3}}).ok());
    clients.push_back(*std::move(client));
  }
  for (int i = 0; i < kClients; ++i) {
    clients[i]->dispatch([&, i](absl::Status status) {
      results[i] = std::move(status);
      done[i].Notify();
    });
  }
  KillDoomedServer();  // every request is in flight there: each fails on a gRPC thread
  ASSERT_TRUE(WaitFor([&] { return resolving > 0; }, kDispatchWait));
  absl::Status other_result;
  (*other)->dispatch([&](absl::Status status) {
    other_result = std::move(status);
    other_done.Notify();
  });
  EXPECT_TRUE(other_done.WaitForNotificationWithTimeout(absl::Seconds(30)))
      << "a blocked resolver held up another client's completion";
  release.Notify();
  ASSERT_TRUE(other_done.WaitForNotificationWithTimeout(kDispatchWait));
  EXPECT_TRUE(other_result.ok()) << other_result;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(done[i].WaitForNotificationWithTimeout(kDispatchWait));
    EXPECT_TRUE(results[i].ok()) << results[i];
    EXPECT_EQ(clients[i]->serverAddress(), backup);
    EXPECT_THAT(*ReadFp32(*clients[i], "OUTPUT0"), ElementsAre(ElementsAre(float(i), 1, 2, 3)));
  }
}

TEST_P(ClientFailureTest, TimeoutsExpireWithTheTimeoutCategory) {
  for (auto [timeout, unit] : {std::pair{50ull, client::TimeoutUnit::kMilliseconds},
                               std::pair{50000ull, client::TimeoutUnit::kMicroseconds}}) {
    TritonClient::Options options = ClientOptions(*backup_, "identity_delay", GetParam());
    options.timeout = timeout;
    options.timeout_unit = unit;
    options.allowed_tries = 2;
    absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1, 2, 3, 4}}).ok());
    absl::Status status = DispatchAndWait(**client);
    EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
    EXPECT_EQ(GetErrorCategory(status), ErrorCategory::kTimeout);
    EXPECT_THAT(Message(status), HasSubstr("model 'identity_delay'"));
    EXPECT_THAT(Message(status), HasSubstr("retry may help"));
    EXPECT_EQ((*client)->tries(), 2);
  }
}

TEST_P(ClientFailureTest, AGenerousTimeoutLetsTheSlowModelFinish) {
  TritonClient::Options options = ClientOptions(*backup_, "identity_delay", GetParam());
  options.timeout = 60;
  options.timeout_unit = client::TimeoutUnit::kSeconds;
  absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{4, 3, 2, 1}}).ok());
  ASSERT_TRUE(DispatchAndWait(**client).ok());
  EXPECT_THAT(*ReadFp32(**client, "OUTPUT0"), ElementsAre(ElementsAre(4, 3, 2, 1)));
}

TEST_P(ClientFailureTest, DestroyingAClientInFlightCallsBackOnce) {
  if (GetParam() == SonicMode::kSync) GTEST_SKIP() << "a Sync dispatch is never in flight";
  absl::StatusOr<std::unique_ptr<TritonClient>> client =
      TritonClient::Create(ClientOptions(*backup_, "identity_delay", GetParam()));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1, 2, 3, 4}}).ok());
  std::atomic<int> calls{0};
  absl::Status result;
  (*client)->dispatch([&](absl::Status status) {
    result = std::move(status);
    ++calls;
  });
  client->reset();  // cancels and waits for the callback
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(result.ok() || result.code() == absl::StatusCode::kCancelled) << result;
}

INSTANTIATE_TEST_SUITE_P(Modes, ClientFailureTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const auto& info) {
                           return std::string(client::SonicModeName(info.param));
                         });

}  // namespace
}  // namespace sonic::testing
