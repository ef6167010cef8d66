// TritonClient against the real sonic-server: the three modes, variable shapes, an empty batch,
// setup errors, the local config check, statistics, and misuse of the API.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

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

class ClientModesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestServer> server = StartTestServer({});
    setup_ = server.status();
    if (server.ok()) server_ = std::make_unique<TestServer>(*std::move(server));
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_TRUE(setup_.ok()) << setup_; }

  static std::unique_ptr<TritonClient> NewClient(const std::string& model,
                                                 SonicMode mode = SonicMode::kAsync) {
    absl::StatusOr<std::unique_ptr<TritonClient>> client =
        TritonClient::Create(ClientOptions(*server_, model, mode));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  static inline std::unique_ptr<TestServer> server_;
  static inline absl::Status setup_;
};

class ClientModeTest : public ClientModesTest,
                       public ::testing::WithParamInterface<SonicMode> {};

TEST_P(ClientModeTest, ReturnsTheIdentityOverSeveralEvents) {
  std::unique_ptr<TritonClient> client = NewClient("identity_fp32", GetParam());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->mode(), GetParam());
  EXPECT_EQ(client->maxBatchSize(), 8);
  for (int event = 0; event < 3; ++event) {
    const float base = static_cast<float>(event * 10);
    ASSERT_TRUE(SendFp32(*client, "INPUT0", {{base, base + 1, base + 2}, {base + 3, 4, 5}}).ok());
    ASSERT_TRUE(DispatchAndWait(*client).ok());
    EXPECT_EQ(client->lastBatchMode(), client::BatchMode::kRectangular);
    EXPECT_EQ(client->lastRequestCount(), 1u);
    absl::StatusOr<std::vector<std::vector<float>>> rows = ReadFp32(*client, "OUTPUT0");
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_THAT(*rows, ElementsAre(ElementsAre(base, base + 1, base + 2),
                                   ElementsAre(base + 3, 4, 5)));
    client->reset();
  }
}

TEST_P(ClientModeTest, ReportsWhenTheCallerRegainsItsThread) {
  std::unique_ptr<TritonClient> client = NewClient("identity_fp32", GetParam());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(SendFp32(*client, "INPUT0", {{1, 2}}).ok());
  absl::Notification returned, done;
  bool callback_saw_return = false;
  std::thread::id callback_thread;
  client->dispatch([&](absl::Status status) {
    EXPECT_TRUE(status.ok()) << status;
    callback_thread = std::this_thread::get_id();
    // Sync calls back before dispatch() returns; the others must not need dispatch() to wait.
    callback_saw_return = GetParam() != SonicMode::kSync &&
                          returned.WaitForNotificationWithTimeout(kDispatchWait);
    done.Notify();
  });
  returned.Notify();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kDispatchWait));
  if (GetParam() == SonicMode::kSync) {
    EXPECT_EQ(callback_thread, std::this_thread::get_id());
  } else {
    EXPECT_TRUE(callback_saw_return);
    EXPECT_NE(callback_thread, std::this_thread::get_id());
  }
}

TEST_P(ClientModeTest, TheCallbackMayDestroyTheClient) {
  std::unique_ptr<TritonClient> client = NewClient("identity_fp32", GetParam());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(SendFp32(*client, "INPUT0", {{1, 2}}).ok());
  TritonClient* raw = client.release();
  absl::Notification done;
  raw->dispatch([&](absl::Status status) {
    EXPECT_TRUE(status.ok()) << status;
    delete raw;
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(kDispatchWait));
}

INSTANTIATE_TEST_SUITE_P(Modes, ClientModeTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const auto& info) {
                           return std::string(client::SonicModeName(info.param));
                         });

TEST_F(ClientModesTest, VariableShapesChangeFromEventToEvent) {
  std::unique_ptr<TritonClient> client = NewClient("identity_fp32");
  ASSERT_NE(client, nullptr);
  for (int length : {1, 7, 3}) {
    std::vector<float> row(length);
    for (int i = 0; i < length; ++i) row[i] = static_cast<float>(i * length);
    ASSERT_TRUE(SendFp32(*client, "INPUT0", {row}).ok());
    ASSERT_TRUE(DispatchAndWait(*client).ok());
    const client::TritonOutputData* output = *client->output("OUTPUT0");
    EXPECT_EQ(*output->shape(0), (Shape{length}));
    EXPECT_THAT(*ReadFp32(*client, "OUTPUT0"), ElementsAre(row));
    client->reset();
  }
}

TEST_F(ClientModesTest, AnEmptyBatchSendsNothingAndYieldsEmptyOutputs) {
  std::unique_ptr<TritonClient> client = NewClient("identity_fp32");
  ASSERT_NE(client, nullptr);
  client->setBatchSize(0);
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_EQ(client->lastRequestCount(), 0u);
  absl::StatusOr<client::TritonOutput<float>> views =
      (*client->output("OUTPUT0"))->fromServer<float>();
  ASSERT_TRUE(views.ok()) << views.status();
  EXPECT_TRUE(views->empty());
}

TEST_F(ClientModesTest, SetupErrorsNameModelAndServerAndTheirCategory) {
  absl::StatusOr<std::unique_ptr<TritonClient>> unknown =
      TritonClient::Create(ClientOptions(*server_, "no_such_model"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(GetErrorCategory(unknown.status()), ErrorCategory::kModelError);
  EXPECT_THAT(Message(unknown.status()), HasSubstr("model 'no_such_model'"));
  EXPECT_THAT(Message(unknown.status()), HasSubstr(server_->server->address()));
  EXPECT_FALSE(client::MayRetry(unknown.status()));

  TritonClient::Options nobody = ClientOptions(*server_, "identity_fp32");
  nobody.server_address = UnusedAddress();
  absl::StatusOr<std::unique_ptr<TritonClient>> refused = TritonClient::Create(nobody);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(GetErrorCategory(refused.status()), ErrorCategory::kServerUnavailable);
  EXPECT_THAT(Message(refused.status()), HasSubstr(nobody.server_address));
  EXPECT_TRUE(client::MayRetry(refused.status()));

  TritonClient::Options outputs = ClientOptions(*server_, "identity_fp32");
  outputs.outputs = {"OUTPUT7"};
  absl::StatusOr<std::unique_ptr<TritonClient>> bad_output = TritonClient::Create(outputs);
  EXPECT_EQ(GetErrorCategory(bad_output.status()), ErrorCategory::kBadInput);
  EXPECT_THAT(Message(bad_output.status()), HasSubstr("'OUTPUT7'"));
}

TEST_F(ClientModesTest, ALocalConfigMustMatchTheServers) {
  const std::filesystem::path file = server_->dir->path() / "local_config.pbtxt";
  auto check = [&](const std::string& dims) {
    std::ofstream(file) << "name: \"identity_fp32\" max_batch_size: 8\n"
                        << "input { name: \"INPUT0\" data_type: TYPE_FP32 dims: " << dims
                        << " }\noutput { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [-1] }\n";
    TritonClient::Options options = ClientOptions(*server_, "identity_fp32");
    options.local_config_path = file.string();
    return TritonClient::Create(options).status();
  };
  EXPECT_TRUE(check("[-1]").ok()) << check("[-1]");
  absl::Status mismatch = check("[16]");
  EXPECT_EQ(GetErrorCategory(mismatch), ErrorCategory::kModelError);
  EXPECT_THAT(Message(mismatch), HasSubstr("input 'INPUT0' has dims [16] locally, [-1]"));
}

TEST_F(ClientModesTest, VerboseStatisticsDiffTheServersCounters) {
  TritonClient::Options options = ClientOptions(*server_, "identity_fp32");
  options.verbose = true;
  absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(SendFp32(**client, "INPUT0", {{1, 2, 3}}).ok());
    ASSERT_TRUE(DispatchAndWait(**client).ok());
    (*client)->reset();
  }
  absl::StatusOr<client::ClientStatistics> stats = (*client)->statistics();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->dispatches, 3u);
  EXPECT_EQ(stats->requests, 3u);
  EXPECT_EQ(stats->failures, 0u);
  EXPECT_GE(stats->server.success_count, 3u);
  EXPECT_GE(stats->server.inference_count, 3u);
  EXPECT_THAT(stats->ToString(), HasSubstr("dispatches: 3"));
}

TEST_F(ClientModesTest, MisuseGivesClearErrors) {
  std::unique_ptr<TritonClient> client = NewClient("identity_delay");
  ASSERT_NE(client, nullptr);
  client::TritonInputData* input = *client->input("INPUT0");
  absl::StatusOr<client::TritonInputContainer<int32_t>> wrong_type = input->allocate<int32_t>();
  EXPECT_EQ(GetErrorCategory(wrong_type.status()), ErrorCategory::kBadInput);
  EXPECT_THAT(Message(wrong_type.status()), HasSubstr("FP32"));
  absl::Status fixed = input->setShape({5});
  EXPECT_EQ(GetErrorCategory(fixed), ErrorCategory::kBadInput);
  EXPECT_THAT(Message(fixed), HasSubstr("dimension 0 is fixed at 4"));
  EXPECT_THAT(Message(client->input("INPUT9").status()), HasSubstr("inputs: INPUT0"));

  const client::TritonOutputData* output = *client->output("OUTPUT0");
  EXPECT_THAT(Message(output->fromServer<float>().status()), HasSubstr("before a dispatch"));
  absl::Status no_data = DispatchAndWait(*client);
  EXPECT_EQ(GetErrorCategory(no_data), ErrorCategory::kBadInput);
  EXPECT_THAT(Message(no_data), HasSubstr("call toServer() before dispatch()"));

  auto data = *input->allocate<float>();
  (*data)[0] = {1, 2, 3, 4};
  ASSERT_TRUE(input->toServer(data).ok());
  EXPECT_THAT(Message(input->toServer(data)), HasSubstr("already called"));

  absl::Notification done;
  client->dispatch([&](absl::Status status) {
    EXPECT_TRUE(status.ok()) << status;
    done.Notify();
  });
  // identity_delay takes 300 ms, so this read comes before the result (on any sane schedule;
  // a read after it would succeed, which is correct too).
  absl::StatusOr<client::TritonOutput<float>> during = output->fromServer<float>();
  if (!during.ok()) {
    EXPECT_THAT(Message(during.status()), HasSubstr("before a dispatch completed"));
  }
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kDispatchWait));
  ASSERT_TRUE(output->fromServer<float>().ok());
  EXPECT_THAT(Message(output->fromServer<int64_t>().status()), HasSubstr("read as INT64"));
  client->reset();
  EXPECT_THAT(Message(output->fromServer<float>().status()), HasSubstr("after reset()"));
}

}  // namespace
}  // namespace sonic::testing
