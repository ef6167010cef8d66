// The demonstrator job end to end: direct inference, SONIC against a running sonic-server (each
// client mode), SONIC through the local fallback server, validation of every ML output, and
// threads released while requests are in flight. No test asserts a duration; the Async vs Sync
// test compares two runs of the same work side by side.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "demonstrator/job/job.h"
#include "demonstrator/job/job_report.h"
#include "demonstrator/models/model_zoo.h"
#include "server_process.h"

namespace sonic::demo {
namespace {

using ::sonic::testing::ServerProcess;
using ::sonic::testing::TempDirectory;
using ::testing::HasSubstr;

// Four identity instances that each take 100 ms per execution: a slow model with room for four
// requests at once.
constexpr char kSlowEcho[] = R"(name: "slow_echo"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
instance_group [ { kind: KIND_CPU count: 4 } ]
parameters { key: "execute_delay_ms" value { string_value: "100" } }
)";

std::filesystem::path BuildDir() { return std::getenv("SONIC_BUILD_DIR"); }

class DemonstratorJobTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unsetenv(service::kServerAddressEnv);
    auto dir = TempDirectory::Create("sonic-demo");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = dir->release();
    ASSERT_TRUE(models::GenerateModels(Models(), 2026).ok());
    std::filesystem::create_directories(Models() / "slow_echo" / "1");
    std::ofstream(Models() / "slow_echo" / "config.pbtxt") << kSlowEcho;
    ServerProcess::Options options;
    options.args = {"--model-repository", Models().string()};
    auto server = ServerProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static std::filesystem::path Models() { return dir_->path() / "models"; }

  // The demonstrator's four modules on a few events, two threads, four events in flight.
  static JobConfig TtbarJob(InferenceMode mode, uint64_t events) {
    absl::StatusOr<JobConfig> config = ParseJobConfig(R"(
source: {events: 1, seed: 77}
threads: 2
concurrent_events: 4
modules:
  - {type: pf_isolation, label: isolation, cones: 2}
  - {type: particlenet, label: particlenet}
  - {type: particlenet, label: particlenet8, jets: ak8, inputs: padded}
  - {type: deeptau, label: deeptau}
  - {type: deepmet, label: deepmet}
)",
                                                      dir_->path());
    EXPECT_TRUE(config.ok()) << config.status();
    config->events = events;
    config->mode = mode;
    config->service.servers.push_back({"test", server_->address(), {}});
    return *config;
  }

  static TempDirectory* dir_;
  static ServerProcess* server_;
};
TempDirectory* DemonstratorJobTest::dir_ = nullptr;
ServerProcess* DemonstratorJobTest::server_ = nullptr;

JobOptions Validating() {
  JobOptions options;
  options.validate = true;
  return options;
}

void ExpectValidated(const JobResult& result, uint64_t events) {
  ASSERT_TRUE(result.validation.has_value());
  const Validation& validation = *result.validation;
  EXPECT_EQ(validation.events, events);
  EXPECT_TRUE(validation.passed());
  std::set<std::string> modules;
  for (const QuantityComparison& row : validation.quantities) {
    modules.insert(row.module);
    EXPECT_EQ(row.mismatched_objects, 0u) << row.module << "." << row.quantity;
    EXPECT_LE(row.largest_difference, 1e-5) << row.module << "." << row.quantity;
    if (row.module != "particlenet8") {  // few events have AK8 jets
      EXPECT_GT(row.objects_compared, 0u) << row.module << "." << row.quantity;
    }
  }
  EXPECT_EQ(modules, (std::set<std::string>{"deepmet", "deeptau", "particlenet", "particlenet8"}));
}

TEST_F(DemonstratorJobTest, DirectRunProducesEveryModulesOutputs) {
  auto result = RunJob(TtbarJob(InferenceMode::kDirect, 6), {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->report.events, 6u);
  ASSERT_EQ(result->report.modules.size(), 5u);
  EXPECT_EQ(result->report.modules[1].category, "ParticleNet");
  for (const auto& module : result->report.modules) EXPECT_EQ(module.events, 6u);
  EXPECT_TRUE(result->servers.empty());
  // The calls each ML module made and their entries, as the report (and `sonic plan`) has them:
  // DeepMET one event per call on every event; the taggers one call per event with objects.
  ASSERT_EQ(result->model_calls.size(), 4u);
  const nlohmann::json report = JobReportJson(TtbarJob(InferenceMode::kDirect, 6), *result);
  ASSERT_EQ(report["models"].size(), 4u);
  for (const ModelCallCount& calls : result->model_calls) {
    SCOPED_TRACE(calls.module);
    EXPECT_LE(calls.calls, 6);
    EXPECT_GE(calls.entries, calls.calls);
  }
  EXPECT_EQ(result->model_calls[3].module, "deepmet");
  EXPECT_EQ(result->model_calls[3].model, "deepmet");
  EXPECT_EQ(result->model_calls[3].calls, 6);
  EXPECT_EQ(result->model_calls[3].entries, 6);
  EXPECT_EQ(result->model_calls[0].model, "particlenet_ragged");
  EXPECT_GT(result->model_calls[0].entries, result->model_calls[0].calls);  // several jets
  EXPECT_EQ(report["models"][0]["entries"], result->model_calls[0].entries);
}

TEST_F(DemonstratorJobTest, SonicOutputsEqualDirectOnesInEveryClientMode) {
  for (client::SonicMode mode :
       {client::SonicMode::kAsync, client::SonicMode::kSync, client::SonicMode::kPseudoAsync}) {
    SCOPED_TRACE(std::string(client::SonicModeName(mode)));
    JobConfig config = TtbarJob(InferenceMode::kSonic, 8);
    for (ModuleConfig& module : config.modules) module.client.mode = mode;
    auto result = RunJob(config, Validating());
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->report.events, 8u);
    ExpectValidated(*result, 8);
    ASSERT_EQ(result->servers.size(), 1u);
    EXPECT_THAT(result->servers[0], HasSubstr(server_->address()));
  }
}

TEST_F(DemonstratorJobTest, DirectValidatesAgainstSonicToo) {
  auto result = RunJob(TtbarJob(InferenceMode::kDirect, 4), Validating());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->validation->reference, InferenceMode::kSonic);
  ExpectValidated(*result, 4);
}

// No server configured: TritonService starts sonic-server on the job's model repository.
TEST_F(DemonstratorJobTest, WithoutServersTheFallbackServesTheModels) {
  JobConfig config = TtbarJob(InferenceMode::kSonic, 4);
  config.service.servers.clear();
  config.service.fallback.enabled = true;
  config.service.fallback.binary = BuildDir() / "bin" / "sonic-server";
  config.service.fallback.cpu_cores = 2;
  auto result = RunJob(config, Validating());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->servers.size(), 1u);
  EXPECT_THAT(result->servers[0], HasSubstr("(local fallback)"));
  ExpectValidated(*result, 4);
}

// With one thread and four events in flight, Async clients let the thread prepare the other
// events while a request waits on the slow model; Sync clients hold it. Same work, side by side.
TEST_F(DemonstratorJobTest, AsyncReleasesThreadsWhileRequestsAreInFlight) {
  auto run = [](client::SonicMode mode) {
    absl::StatusOr<JobConfig> config = ParseJobConfig(
        "modules: [{type: pf_echo, model: slow_echo}]\nthreads: 1\nconcurrent_events: 4\n",
        dir_->path());
    EXPECT_TRUE(config.ok());
    config->events = 8;
    config->service.servers.push_back({"test", server_->address(), {}});
    config->modules[0].client.mode = mode;
    return RunJob(*config, {});
  };
  auto async = run(client::SonicMode::kAsync);
  auto sync = run(client::SonicMode::kSync);
  ASSERT_TRUE(async.ok()) << async.status();
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_GT(async->report.max_concurrent_waits, 1);
  EXPECT_EQ(sync->report.max_concurrent_waits, 1);
  // 8 events x 100 ms on one thread for Sync; up to four at once for Async.
  EXPECT_LT(async->report.wall, sync->report.wall);
}

TEST_F(DemonstratorJobTest, ErrorsNameTheProblem) {
  JobConfig config = TtbarJob(InferenceMode::kDirect, 2);
  config.models = dir_->path() / "missing";
  auto missing = RunJob(config, {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("sonic models generate"));

  config = TtbarJob(InferenceMode::kSonic, 2);
  config.modules[1].model = "no_such_model";
  auto unknown = RunJob(config, {});
  EXPECT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("no_such_model"));
}

}  // namespace
}  // namespace sonic::demo
