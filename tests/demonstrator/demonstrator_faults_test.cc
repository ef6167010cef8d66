// The demonstrator job under faults and overload, at small size: a server frozen (SIGSTOP) or
// killed while the job runs, with a second server configured, a server whose queues hold one
// request (max_queue_size 1), and one that refuses every request that would wait at all
// (max_expected_queue_time_us 1). In each the job completes, every event once, the outputs
// validate against direct inference, and the report shows what happened per server. Faults are
// injected once the victim has answered its first request; no test asserts a duration.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_replace.h"
#include "demonstrator/job/job.h"
#include "demonstrator/job/job_report.h"
#include "demonstrator/models/model_zoo.h"
#include "inference/grpc_service.grpc.pb.h"
#include "server_process.h"

namespace sonic::demo {
namespace {

using ::sonic::testing::ServerProcess;
using ::sonic::testing::TempDirectory;
using ::testing::HasSubstr;

constexpr uint64_t kEvents = 12;

// Requests the server at `address` has answered successfully, over all models.
uint64_t SuccessfulRequests(const std::string& address) {
  auto stub = inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  inference::ModelStatisticsRequest request;
  inference::ModelStatisticsResponse response;
  if (!stub->ModelStatistics(&context, request, &response).ok()) return 0;
  uint64_t count = 0;
  for (const auto& model : response.model_stats())
    count += model.inference_stats().success().count();
  return count;
}

class DemonstratorFaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unsetenv(service::kServerAddressEnv);
    auto dir = TempDirectory::Create("sonic-faults");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = dir->release();
    ASSERT_TRUE(models::GenerateModels(Models(), 2026).ok());
    // The same models, each with a queue of one request; and each with a queue-time limit.
    CopyModels(QueueOfOne(), "dynamic_batching { default_queue_policy { max_queue_size: 1 } }");
    CopyModels(QueueTimeLimit(),
               "dynamic_batching { }\n"
               "parameters { key: \"max_expected_queue_time_us\" value { string_value: \"1\" } }");
  }
  // Copies the models to `to`, their `dynamic_batching { }` replaced by `replacement`.
  static void CopyModels(const std::filesystem::path& to, const std::string& replacement) {
    std::filesystem::copy(Models(), to, std::filesystem::copy_options::recursive);
    for (const auto& entry : std::filesystem::directory_iterator(to)) {
      const auto config = entry.path() / "config.pbtxt";
      if (!std::filesystem::exists(config)) continue;
      std::stringstream text;
      text << std::ifstream(config).rdbuf();
      std::ofstream(config) << absl::StrReplaceAll(text.str(),
                                                   {{"dynamic_batching { }", replacement}});
    }
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path Models() { return dir_->path() / "models"; }
  static std::filesystem::path QueueOfOne() { return dir_->path() / "queue_of_one"; }
  static std::filesystem::path QueueTimeLimit() { return dir_->path() / "queue_time_limit"; }

  static std::unique_ptr<ServerProcess> StartServer(const std::filesystem::path& models) {
    ServerProcess::Options options;
    options.args = {"--model-repository", models.string()};
    auto server = ServerProcess::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  // The demonstrator's ML modules, two threads, four events in flight, validated.
  static JobConfig Job(const std::vector<const ServerProcess*>& servers) {
    absl::StatusOr<JobConfig> config = ParseJobConfig(R"(
threads: 2
concurrent_events: 4
modules:
  - {type: pf_isolation, label: isolation, cones: 2}
  - {type: particlenet, label: particlenet}
  - {type: deeptau, label: deeptau}
  - {type: deepmet, label: deepmet}
)",
                                                      dir_->path());
    EXPECT_TRUE(config.ok()) << config.status();
    config->events = kEvents;
    config->seed = 5;
    for (size_t i = 0; i < servers.size(); ++i) {
      config->service.servers.push_back({absl::StrCat("s", i), servers[i]->address(), {}});
    }
    return *config;
  }

  // Runs `config` with validation; `fault` runs on another thread once `victim` has answered
  // a request.
  static absl::StatusOr<JobResult> RunWithFault(const JobConfig& config,
                                                const ServerProcess* victim,
                                                const std::function<void()>& fault) {
    std::atomic<bool> stop{false};
    std::thread injector;
    if (victim != nullptr) {
      injector = std::thread([&] {
        while (!stop && SuccessfulRequests(victim->address()) == 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (!stop) fault();
      });
    }
    JobOptions options;
    options.validate = true;
    absl::StatusOr<JobResult> result = RunJob(config, options);
    stop = true;
    if (injector.joinable()) injector.join();
    return result;
  }

  static TempDirectory* dir_;
};
TempDirectory* DemonstratorFaultsTest::dir_ = nullptr;

// Every event once through every module, and the ML outputs equal direct inference's.
void ExpectCompleteAndValid(const JobResult& result) {
  EXPECT_EQ(result.report.events, kEvents);
  for (const auto& module : result.report.modules) EXPECT_EQ(module.events, kEvents);
  ASSERT_TRUE(result.validation.has_value());
  EXPECT_EQ(result.validation->events, kEvents);
  EXPECT_TRUE(result.validation->passed());
}

const service::ServerState* Find(const JobResult& result, const std::string& address) {
  for (const service::ServerState& state : result.server_states) {
    if (state.address == address) return &state;
  }
  return nullptr;
}

TEST_F(DemonstratorFaultsTest, AFrozenServerIsFailedOverAndTheJobCompletes) {
  auto victim = StartServer(Models());
  auto other = StartServer(Models());
  ASSERT_TRUE(victim && other);
  JobConfig config = Job({victim.get(), other.get()});
  config.client.timeout_ms = 2000;
  for (ModuleConfig& module : config.modules) module.client.timeout_ms = 2000;
  std::atomic<bool> frozen{false};
  absl::StatusOr<JobResult> result = RunWithFault(config, victim.get(), [&] {
    kill(victim->pid(), SIGSTOP);
    frozen = true;
  });
  kill(victim->pid(), SIGCONT);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(frozen);
  ExpectCompleteAndValid(*result);
  const service::ServerState* state = Find(*result, victim->address());
  ASSERT_NE(state, nullptr);
  EXPECT_GT(state->activity.timeouts, 0u);
  EXPECT_GT(state->activity.failovers, 0u);
  EXPECT_GT(state->activity.time_lost, absl::ZeroDuration());
  EXPECT_GT(Find(*result, other->address())->activity.retries, 0u);
  const std::string report = FormatJobReport(config, *result);
  EXPECT_THAT(report, HasSubstr("timeouts"));
  EXPECT_THAT(report, HasSubstr("failovers"));
  EXPECT_THAT(report, HasSubstr("validation passed"));
}

TEST_F(DemonstratorFaultsTest, AKilledServerIsFailedOverAndTheJobCompletes) {
  auto victim = StartServer(Models());
  auto other = StartServer(Models());
  ASSERT_TRUE(victim && other);
  const pid_t pid = victim->pid();
  std::atomic<bool> killed{false};
  absl::StatusOr<JobResult> result =
      RunWithFault(Job({victim.get(), other.get()}), victim.get(), [&] {
        kill(pid, SIGKILL);
        killed = true;
      });
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(killed);
  ExpectCompleteAndValid(*result);
  const service::ServerState* state = Find(*result, victim->address());
  ASSERT_NE(state, nullptr);
  EXPECT_GT(state->activity.failures, 0u);
  EXPECT_GT(state->activity.failovers, 0u);
  EXPECT_FALSE(state->healthy);
  nlohmann::json json = JobReportJson(Job({victim.get(), other.get()}), *result);
  bool reported = false;
  for (const auto& server : json["server_activity"]) {
    if (server["address"] == victim->address()) reported = server["failovers"].get<int>() > 0;
  }
  EXPECT_TRUE(reported) << json.dump();
}

// max_queue_size 1 and a ParticleNet event sending several requests at once: most are refused
// at first; the job waits and retries instead of failing.
TEST_F(DemonstratorFaultsTest, AFullQueueSlowsTheJobDownInsteadOfFailingIt) {
  auto server = StartServer(QueueOfOne());
  ASSERT_TRUE(server);
  JobConfig config = Job({server.get()});
  absl::StatusOr<JobResult> result = RunWithFault(config, nullptr, {});
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectCompleteAndValid(*result);
  ASSERT_EQ(result->server_states.size(), 1u);
  const service::ServerState& state = result->server_states[0];
  EXPECT_GT(state.activity.overloads, 0u);
  EXPECT_EQ(state.activity.failures, 0u);
  EXPECT_FALSE(state.out_of_routing);
  EXPECT_THAT(FormatJobReport(config, *result), HasSubstr("full-queue refusals"));
}

// Admission control refusing every request that would wait behind another (a limit of 1 us of
// expected queue time): the refusals carry the server's retry delay; the job backs off, sends
// again, and completes with every event, validated.
TEST_F(DemonstratorFaultsTest, AQueueTimeLimitSlowsTheJobDownInsteadOfFailingIt) {
  auto server = StartServer(QueueTimeLimit());
  ASSERT_TRUE(server);
  JobConfig config = Job({server.get()});
  absl::StatusOr<JobResult> result = RunWithFault(config, nullptr, {});
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectCompleteAndValid(*result);
  ASSERT_EQ(result->server_states.size(), 1u);
  const service::ServerState& state = result->server_states[0];
  EXPECT_GT(state.activity.overloads, 0u);
  EXPECT_EQ(state.activity.failures, 0u);
  EXPECT_FALSE(state.out_of_routing);
}

}  // namespace
}  // namespace sonic::demo
