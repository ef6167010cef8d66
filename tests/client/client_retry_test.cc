// The retry policy of TritonClient against real servers: a frozen server (SIGSTOP) is a timeout
// that is retried on another server under the automatic deadline, the retry chain's steps are
// taken in order, and a full queue (max_queue_size 1) slows clients down instead of failing
// them, within the retry budget. Every frozen server is resumed (SIGCONT) before it is stopped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client_test_util.h"

namespace sonic::testing {
namespace {

using client::FailureKind;
using client::RetryRequest;
using client::RetryTarget;
using client::SonicMode;
using client::TritonClient;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One instance, 200 ms per execution, room for one waiting request: a third request at once is
// refused with "the queue is full".
constexpr char kQueueOfOne[] = R"(name: "queue_of_one"
backend: "identity"
max_batch_size: 1
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
dynamic_batching { default_queue_policy { max_queue_size: 1 } }
parameters { key: "execute_delay_ms" value { string_value: "200" } }
)";

// One instance, 400 ms per execution, at most 1 ms of expected queue time: once an execution
// has been measured, a request arriving while another is in the model is refused, with a retry
// delay of at least 399 ms (grpc-retry-pushback-ms).
constexpr char kQueueTimeLimit[] = R"(name: "queue_time_limit"
backend: "identity"
max_batch_size: 1
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
parameters { key: "execute_delay_ms" value { string_value: "400" } }
parameters { key: "max_expected_queue_time_us" value { string_value: "1000" } }
)";

absl::Status AddQueueOfOne(const std::filesystem::path& repository) {
  std::filesystem::create_directories(repository / "queue_of_one" / "1");
  std::ofstream(repository / "queue_of_one" / "config.pbtxt") << kQueueOfOne;
  std::filesystem::create_directories(repository / "queue_time_limit" / "1");
  std::ofstream(repository / "queue_time_limit" / "config.pbtxt") << kQueueTimeLimit;
  return absl::OkStatus();
}

// Records the retry requests it is asked, answering with `answers` in turn (the last one again
// when they run out), and the attempts clients report.
class Recorder {
 public:
  explicit Recorder(std::vector<std::string> answers) : answers_(std::move(answers)) {}
  client::RetryResolver Resolver() {
    return [this](const RetryRequest& request) -> absl::StatusOr<client::ServerEndpoint> {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
      const size_t i = std::min(requests_.size(), answers_.size()) - 1;
      return client::ServerEndpoint{answers_[i], {}};
    };
  }
  client::AttemptObserver Observer() {
    return [this](const client::AttemptOutcome& outcome) {
      absl::MutexLock lock(&mu_);
      outcomes_.push_back(outcome);
    };
  }
  std::vector<RetryRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<client::AttemptOutcome> outcomes() {
    absl::MutexLock lock(&mu_);
    return outcomes_;
  }

 private:
  const std::vector<std::string> answers_;
  absl::Mutex mu_;
  std::vector<RetryRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<client::AttemptOutcome> outcomes_ ABSL_GUARDED_BY(mu_);
};

class ClientRetryTest : public ::testing::TestWithParam<SonicMode> {
 protected:
  static void SetUpTestSuite() {
    for (auto* server : {&first_, &second_}) {
      absl::StatusOr<TestServer> started = StartTestServer({}, AddQueueOfOne);
      if (!started.ok()) {
        setup_ = started.status();
        return;
      }
      *server = std::make_unique<TestServer>(*std::move(started));
    }
  }
  static void TearDownTestSuite() {
    first_.reset();
    second_.reset();
  }
  void SetUp() override { ASSERT_TRUE(setup_.ok()) << setup_; }

  static inline std::unique_ptr<TestServer> first_, second_;
  static inline absl::Status setup_;
};

// Freezes a server for the life of the object; resumes it at the end whatever happened.
class Frozen {
 public:
  explicit Frozen(sonic::testing::ServerProcess& server) : server_(server) {
    EXPECT_TRUE(server_.Freeze()) << "the server did not stop";
  }
  ~Frozen() { server_.Resume(); }

 private:
  sonic::testing::ServerProcess& server_;
};

TEST_P(ClientRetryTest, AFrozenServerTimesOutUnderTheAutomaticDeadlineAndIsFailedOver) {
  const std::string frozen = first_->server->address();
  const std::string other = second_->server->address();
  Recorder recorder({other});
  TritonClient::Options options = ClientOptions(*first_, "identity_fp32", GetParam());
  options.retry_resolver = recorder.Resolver();
  options.attempt_observer = recorder.Observer();
  options.allowed_tries = 2;
  options.auto_timeout_min = absl::Milliseconds(500);  // the default is seconds
  absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  // A second client stays on the frozen server: destroying it must not hang.
  absl::StatusOr<std::unique_ptr<TritonClient>> stays =
      TritonClient::Create(ClientOptions(*first_, "identity_fp32", GetParam()));
  ASSERT_TRUE(stays.ok()) << stays.status();
  ASSERT_TRUE(SendFp32(**stays, "INPUT0", {{9}}).ok());
  ASSERT_TRUE(DispatchAndWait(**stays).ok());

  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1, 2}}).ok());
  ASSERT_TRUE(DispatchAndWait(**client).ok());  // the deadline now follows this latency
  {
    Frozen freeze(*first_->server);
    (*client)->reset();
    ASSERT_TRUE(SendFp32(**client, "INPUT0", {{3, 4, 5}}).ok());
    absl::Status result = DispatchAndWait(**client);
    ASSERT_TRUE(result.ok()) << result;
    EXPECT_EQ((*client)->serverAddress(), other);
    EXPECT_EQ((*client)->tries(), 2);
    EXPECT_THAT(*ReadFp32(**client, "OUTPUT0"), ElementsAre(ElementsAre(3, 4, 5)));
    stays->reset();  // unregisters its region on the frozen server, within a short bound
  }
  std::vector<RetryRequest> requests = recorder.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].failed_address, frozen);
  EXPECT_EQ(requests[0].failure, FailureKind::kTimeout);
  EXPECT_EQ(requests[0].target, RetryTarget::kResolver);
  std::vector<client::AttemptOutcome> outcomes = recorder.outcomes();
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].status.ok());
  EXPECT_EQ(outcomes[1].address, frozen);
  EXPECT_EQ(outcomes[1].status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(outcomes[1].retry);
  EXPECT_EQ(outcomes[2].address, other);
  EXPECT_TRUE(outcomes[2].retry);
  EXPECT_TRUE(outcomes[2].status.ok());
}

TEST_P(ClientRetryTest, TheChainsStepsAreTakenInOrder) {
  absl::StatusOr<TestServer> doomed = StartTestServer({});
  ASSERT_TRUE(doomed.ok()) << doomed.status();
  const std::string dead = doomed->server->address();
  const std::string also_dead = UnusedAddress();
  const std::string alive = second_->server->address();
  // What each step finds: the same (dead) server, another dead one, then a live "fallback".
  Recorder recorder({dead, also_dead, alive});
  TritonClient::Options options = ClientOptions(*doomed, "identity_fp32", GetParam());
  options.retry_resolver = recorder.Resolver();
  options.attempt_observer = recorder.Observer();
  options.retry_chain = {
      {RetryTarget::kSameServer, 1}, {RetryTarget::kAnotherServer, 1}, {RetryTarget::kFallback, 1}};
  absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->allowedTries(), 4);
  ASSERT_TRUE(doomed->server->Stop(SIGKILL).ok());
  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{7, 8}}).ok());
  absl::Status result = DispatchAndWait(**client);
  ASSERT_TRUE(result.ok()) << result;
  EXPECT_EQ((*client)->tries(), 4);
  EXPECT_EQ((*client)->serverAddress(), alive);
  EXPECT_THAT(*ReadFp32(**client, "OUTPUT0"), ElementsAre(ElementsAre(7, 8)));
  std::vector<RetryRequest> requests = recorder.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, RetryTarget::kSameServer);
  EXPECT_EQ(requests[0].failed_address, dead);
  EXPECT_EQ(requests[1].target, RetryTarget::kAnotherServer);
  EXPECT_EQ(requests[1].failed_address, dead);
  EXPECT_EQ(requests[2].target, RetryTarget::kFallback);
  EXPECT_EQ(requests[2].failed_address, also_dead);
  for (const RetryRequest& request : requests) {
    EXPECT_EQ(request.failure, FailureKind::kUnavailable);
  }
  std::vector<client::AttemptOutcome> outcomes = recorder.outcomes();
  ASSERT_EQ(outcomes.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(outcomes[i].status.ok()) << i;
  EXPECT_TRUE(outcomes[3].status.ok());

  // With the chain used up, the last error ends the dispatch.
  Recorder nowhere({also_dead});
  options = ClientOptions(*second_, "identity_fp32", GetParam());
  options.retry_resolver = nowhere.Resolver();
  options.retry_chain = {{RetryTarget::kAnotherServer, 2}};
  client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1}}).ok());
  ASSERT_TRUE(DispatchAndWait(**client).ok());  // second_ answers: no retry
  EXPECT_TRUE(nowhere.requests().empty());
}

// Several clients at once on a model with one instance and a queue of one: most requests are
// refused at first, and every dispatch still succeeds, later.
TEST_P(ClientRetryTest, AFullQueueSlowsClientsDownInsteadOfFailingThem) {
  if (GetParam() == SonicMode::kSync) GTEST_SKIP() << "needs dispatches in flight together";
  constexpr int kClients = 6;
  Recorder recorder({first_->server->address()});
  auto budget = std::make_shared<client::RetryBudget>();
  std::vector<std::unique_ptr<TritonClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    TritonClient::Options options = ClientOptions(*first_, "queue_of_one", GetParam());
    options.attempt_observer = recorder.Observer();
    options.retry_budget = budget;
    absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(SendFp32(**client, "INPUT0", {{float(i), 1, 2, 3}}).ok());
    clients.push_back(*std::move(client));
  }
  std::vector<absl::Notification> done(kClients);
  std::vector<absl::Status> results(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients[i]->dispatch([&, i](absl::Status status) {
      results[i] = std::move(status);
      done[i].Notify();
    });
  }
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(done[i].WaitForNotificationWithTimeout(kDispatchWait));
    EXPECT_TRUE(results[i].ok()) << results[i];
    EXPECT_THAT(*ReadFp32(*clients[i], "OUTPUT0"), ElementsAre(ElementsAre(float(i), 1, 2, 3)));
  }
  int refused = 0;
  for (const client::AttemptOutcome& outcome : recorder.outcomes()) {
    if (outcome.status.ok()) continue;
    EXPECT_EQ(client::ClassifyFailure(outcome.status), FailureKind::kOverloaded) << outcome.status;
    EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("queue is full"));
    ++refused;
  }
  EXPECT_GT(refused, 0);
  EXPECT_EQ(budget->spent(), static_cast<uint64_t>(refused));
}

// A request refused for its expected queue time waits at least the server's retry delay
// (grpc-retry-pushback-ms, here >= 399 ms) before it is sent again, where the client's own jitter
// stays under 50 ms; every dispatch then succeeds.
TEST_P(ClientRetryTest, AQueueTimeRefusalWaitsTheServersPushbackThenSucceeds) {
  if (GetParam() == SonicMode::kSync) GTEST_SKIP() << "needs dispatches in flight together";
  constexpr int kClients = 3;
  Recorder recorder({second_->server->address()});
  std::vector<std::unique_ptr<TritonClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    TritonClient::Options options = ClientOptions(*second_, "queue_time_limit", GetParam());
    options.attempt_observer = recorder.Observer();
    options.backoff.max = absl::Milliseconds(50);
    absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(SendFp32(**client, "INPUT0", {{float(i), 1, 2, 3}}).ok());
    clients.push_back(*std::move(client));
  }
  // One alone first, so that the server has measured an execution.
  absl::Notification warm;
  absl::Status warm_status;
  clients[0]->dispatch([&](absl::Status status) {
    warm_status = std::move(status);
    warm.Notify();
  });
  ASSERT_TRUE(warm.WaitForNotificationWithTimeout(kDispatchWait));
  ASSERT_TRUE(warm_status.ok()) << warm_status;
  std::vector<absl::Notification> done(kClients);
  std::vector<absl::Status> results(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients[i]->dispatch([&, i](absl::Status status) {
      results[i] = std::move(status);
      done[i].Notify();
    });
  }
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(done[i].WaitForNotificationWithTimeout(kDispatchWait));
    EXPECT_TRUE(results[i].ok()) << results[i];
    EXPECT_THAT(*ReadFp32(*clients[i], "OUTPUT0"), ElementsAre(ElementsAre(float(i), 1, 2, 3)));
  }
  int refused = 0;
  for (const client::AttemptOutcome& outcome : recorder.outcomes()) {
    if (outcome.status.ok()) continue;
    ++refused;
    EXPECT_EQ(client::ClassifyFailure(outcome.status), FailureKind::kOverloaded) << outcome.status;
    EXPECT_THAT(std::string(outcome.status.message()), HasSubstr("max_expected_queue_time_us"));
    EXPECT_GE(outcome.backoff, absl::Milliseconds(399)) << outcome.status;
  }
  EXPECT_GT(refused, 0);
}

// Without tokens in the job's budget, a refusal ends the dispatch with the server's reason.
TEST_P(ClientRetryTest, AnEmptyRetryBudgetEndsTheDispatchOnAFullQueue) {
  if (GetParam() == SonicMode::kSync) GTEST_SKIP() << "needs dispatches in flight together";
  constexpr int kClients = 6;
  auto budget = std::make_shared<client::RetryBudget>(
      client::RetryBudget::Options{.capacity = 0, .initial = 0, .refill = 0});
  std::vector<std::unique_ptr<TritonClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    TritonClient::Options options = ClientOptions(*second_, "queue_of_one", GetParam());
    options.retry_budget = budget;
    absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1, 2, 3, 4}}).ok());
    clients.push_back(*std::move(client));
  }
  std::vector<absl::Notification> done(kClients);
  std::vector<absl::Status> results(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients[i]->dispatch([&, i](absl::Status status) {
      results[i] = std::move(status);
      done[i].Notify();
    });
  }
  int failed = 0;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(done[i].WaitForNotificationWithTimeout(kDispatchWait));
    if (results[i].ok()) continue;
    ++failed;
    EXPECT_EQ(results[i].code(), absl::StatusCode::kUnavailable) << results[i];
    EXPECT_THAT(std::string(results[i].message()), HasSubstr("queue is full"));
    EXPECT_EQ(clients[i]->tries(), 1);
  }
  EXPECT_GT(failed, 0);
  EXPECT_EQ(budget->refused(), static_cast<uint64_t>(failed));
}

INSTANTIATE_TEST_SUITE_P(Modes, ClientRetryTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const auto& info) {
                           return std::string(client::SonicModeName(info.param));
                         });

}  // namespace
}  // namespace sonic::testing
