// A verbose TritonClient against the real sonic-server, in each mode: the model description at
// Create, and per attempt the server's statistics of the model over that attempt (CMSSW's
// verbose report), logged before the dispatch's callback runs; nothing from a failed attempt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client_test_util.h"

namespace sonic::testing {
namespace {

using client::SonicMode;
using client::TritonClient;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Collects what a client logs; thread-safe (a kAsync client logs on gRPC threads).
class Messages {
 public:
  client::LogSink Sink() {
    return [this](std::string_view message) {
      absl::MutexLock lock(&mu_);
      messages_.emplace_back(message);
    };
  }
  std::vector<std::string> Get() const {
    absl::MutexLock lock(&mu_);
    return messages_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> messages_;
};

class ClientVerboseTest : public ::testing::TestWithParam<SonicMode> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestServer> server = StartTestServer({});
    setup_ = server.status();
    if (server.ok()) server_ = std::make_unique<TestServer>(*std::move(server));
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_TRUE(setup_.ok()) << setup_; }

  TritonClient::Options VerboseOptions(const std::string& model) {
    TritonClient::Options options = ClientOptions(*server_, model, GetParam());
    options.verbose = true;
    options.log = messages_.Sink();
    return options;
  }

  // Dispatches and returns the callback's status and the messages logged when it ran.
  std::pair<absl::Status, std::vector<std::string>> DispatchAndLook(TritonClient& client) {
    absl::Notification done;
    absl::Status result;
    std::vector<std::string> seen;
    client.dispatch([&](absl::Status status) {
      result = std::move(status);
      seen = messages_.Get();
      done.Notify();
    });
    if (!done.WaitForNotificationWithTimeout(kDispatchWait)) {
      return {absl::DeadlineExceededError("no callback"), {}};
    }
    return {result, seen};
  }

  static inline std::unique_ptr<TestServer> server_;
  static inline absl::Status setup_;
  Messages messages_;
};

TEST_P(ClientVerboseTest, CreateDescribesTheModelAndServer) {
  absl::StatusOr<std::unique_ptr<TritonClient>> client =
      TritonClient::Create(VerboseOptions("identity_fp32"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_THAT(messages_.Get(),
              ElementsAre(AllOf(HasSubstr("TritonClient(identity_fp32): model 'identity_fp32'"),
                                HasSubstr(server_->server->address()),
                                HasSubstr("max batch size 8; inputs: INPUT0 (FP32, 4 b) [-1]; "
                                          "outputs: OUTPUT0 (FP32, 4 b) [-1]"))));
}

TEST_P(ClientVerboseTest, EachDispatchReportsTheServersStatisticsOfItsRequests) {
  absl::StatusOr<std::unique_ptr<TritonClient>> client =
      TritonClient::Create(VerboseOptions("identity_fp32"));
  ASSERT_TRUE(client.ok()) << client.status();
  for (int event = 0; event < 2; ++event) {
    // Rectangular: one request of two entries, run in one execution.
    ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1, 2, 3}, {4, 5, 6}}).ok());
    auto [status, seen] = DispatchAndLook(**client);
    ASSERT_TRUE(status.ok()) << status;
    ASSERT_THAT(seen, SizeIs(2 + event)) << "the report comes before the callback";
    EXPECT_THAT(seen.back(),
                AllOf(HasSubstr("TritonClient(identity_fp32): model 'identity_fp32' on server"),
                      HasSubstr("2 inferences, 1 executions, 1 successful requests"),
                      HasSubstr("average request latency"), HasSubstr("queue"),
                      HasSubstr("compute input"), HasSubstr("compute infer"),
                      HasSubstr("compute output"), HasSubstr("round trip at the client")));
    (*client)->reset();
  }
  // Ragged: one request per entry, both counted in the one report of the dispatch.
  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1, 2, 3}, {4, 5}}).ok());
  auto [status, seen] = DispatchAndLook(**client);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ((*client)->lastRequestCount(), 2u);
  ASSERT_THAT(seen, SizeIs(4));
  EXPECT_THAT(seen.back(), AllOf(HasSubstr("2 inferences"), HasSubstr("2 successful requests")));
}

TEST_P(ClientVerboseTest, AFailedDispatchReportsNothing) {
  absl::StatusOr<std::unique_ptr<TritonClient>> client =
      TritonClient::Create(VerboseOptions("identity_fp32"));
  ASSERT_TRUE(client.ok()) << client.status();
  auto [status, seen] = DispatchAndLook(**client);  // no toServer(): refused before sending
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(seen, SizeIs(1));  // the description only
}

TEST_P(ClientVerboseTest, OnlyTheSuccessfulRetryIsReportedNamingItsServer) {
  absl::StatusOr<TestServer> doomed = StartTestServer({});
  ASSERT_TRUE(doomed.ok()) << doomed.status();
  const std::string doomed_address = doomed->server->address();
  const std::string good_address = server_->server->address();
  TritonClient::Options options = VerboseOptions("identity_fp32");
  options.allowed_tries = 2;
  options.resolver = [&](const std::string&, const std::string& failed) {
    return client::ServerEndpoint{failed.empty() ? doomed_address : good_address, {}};
  };
  absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(doomed->server->Stop(SIGKILL).ok());
  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{7, 8}}).ok());
  auto [status, seen] = DispatchAndLook(**client);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ((*client)->tries(), 2);
  // Besides the reports, the client notes that its shared-memory region died with the server.
  std::vector<std::string> reports;
  for (const std::string& message : seen) {
    if (message.find("statistics") != std::string::npos) reports.push_back(message);
  }
  EXPECT_THAT(reports, ElementsAre(AllOf(HasSubstr(good_address),
                                         HasSubstr("server statistics of this request"),
                                         HasSubstr("1 successful requests"))));
}

TEST_P(ClientVerboseTest, ANonVerboseClientLogsNothing) {
  TritonClient::Options options = VerboseOptions("identity_fp32");
  options.verbose = false;
  absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1}}).ok());
  ASSERT_TRUE(DispatchAndWait(**client).ok());
  EXPECT_THAT(messages_.Get(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Modes, ClientVerboseTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const ::testing::TestParamInfo<SonicMode>& info) {
                           return std::string(client::SonicModeName(info.param));
                         });

}  // namespace
}  // namespace sonic::testing
