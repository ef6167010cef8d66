// The CMSSW-style module (cms_style_module.h) run by our framework against real sonic-servers,
// in each client mode: a job's TritonService knows two servers, the module's clients prefer the
// first, and the first is killed in the middle of the job. Every event must come out once with
// the model's answer; the events after the kill get it from the second server through the
// client's retries (allowed tries), as a CMSSW job would.
#include "cms_style_module.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>

#include "absl/synchronization/mutex.h"
#include "client_test_util.h"
#include "sonic/framework/event_processor.h"
#include "sonic/service/triton_service.h"

namespace sonic::testing {
namespace {

using client::SonicMode;
using cms_style::JetFeatures;
using cms_style::JetTagsSonicProducer;

constexpr uint64_t kEvents = 24;
constexpr uint64_t kKillAfter = 8;  // events done before the first server is killed
constexpr char kModel[] = "identity_fp32";

// Up to 5 jets of 3 features, different in every event; some events have none.
JetFeatures JetsOf(uint64_t event) {
  JetFeatures jets(event % 6);
  for (size_t jet = 0; jet < jets.size(); ++jet) {
    for (int k = 0; k < 3; ++k) {
      jets[jet].push_back(static_cast<float>(event) + 0.25f * static_cast<float>(jet) +
                          0.01f * static_cast<float>(k));
    }
  }
  return jets;
}

struct Outcome {
  JetFeatures tags;
  int tries = 0;
  std::string server;
};

class CmsStyleModuleTest : public ::testing::TestWithParam<SonicMode> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestServer> server = StartTestServer({});
    setup_ = server.status();
    if (server.ok()) backup_ = std::make_unique<TestServer>(*std::move(server));
  }
  static void TearDownTestSuite() { backup_.reset(); }
  void SetUp() override { ASSERT_TRUE(setup_.ok()) << setup_; }

  static inline std::unique_ptr<TestServer> backup_;
  static inline absl::Status setup_;
};

TEST_P(CmsStyleModuleTest, RunsAJobAndRetriesOnTheOtherServerWhenItsServerDies) {
  absl::StatusOr<TestServer> primary = StartTestServer({});
  ASSERT_TRUE(primary.ok()) << primary.status();
  const std::string primary_address = primary->server->address();
  const std::string backup_address = backup_->server->address();

  service::ServiceConfig config;
  for (const auto& [name, address] :
       {std::pair{"primary", primary_address}, std::pair{"backup", backup_address}}) {
    service::ServerConfig server;
    server.name = name;
    server.address = address;
    config.servers.push_back(server);
  }
  service::TritonService::Options service_options;
  service_options.config = config;
  service_options.use_environment = false;
  absl::StatusOr<std::unique_ptr<service::TritonService>> service =
      service::TritonService::Create(service_options);
  ASSERT_TRUE(service.ok()) << service.status();
  // As a CMSSW client declares its model to the service.
  service::ModelDeclaration model;
  model.name = kModel;
  model.directory = primary->repository() / kModel;
  ASSERT_TRUE((*service)->DeclareModel(model).ok());

  framework::ProcessorOptions options;
  options.events = kEvents;
  options.threads = 2;
  options.streams = 3;
  options.source = [](framework::Event& event) {
    event.put(cms_style::kJetsLabel, JetsOf(event.id()));
    return absl::OkStatus();
  };
  service::TritonService& job_service = **service;
  options.modules.push_back({"jetTags", "ParticleNet",
                             [&](int stream) -> absl::StatusOr<std::unique_ptr<framework::Module>> {
                               // CMSSW: Client = cms.PSet(modelName, mode, allowedTries,
                               // preferredServer, ...).
                               client::TritonClient::Options client =
                                   job_service.ClientOptions(kModel, "primary");
                               client.mode = GetParam();
                               client.allowed_tries = 3;
                               SONIC_ASSIGN_OR_RETURN(std::unique_ptr<JetTagsSonicProducer> module,
                                                      JetTagsSonicProducer::Create(
                                                          "jetTags", client, "INPUT0", "OUTPUT0"));
                               return module;
                             }});

  absl::Mutex mu;
  std::map<uint64_t, Outcome> outcomes;
  std::once_flag killed;
  std::atomic<uint64_t> done{0};
  options.on_event_done = [&](framework::Event& event) {
    Outcome outcome;
    if (auto tags = event.get<JetFeatures>(cms_style::kTagsLabel); tags.ok()) {
      outcome.tags = **tags;
    }
    if (auto tries = event.get<int>(cms_style::kTriesLabel); tries.ok()) outcome.tries = **tries;
    if (auto server = event.get<std::string>(cms_style::kServerLabel); server.ok()) {
      outcome.server = **server;
    }
    {
      absl::MutexLock lock(&mu);
      outcomes[event.id()] = std::move(outcome);
    }
    if (done.fetch_add(1) + 1 == kKillAfter) {
      std::call_once(killed, [&] { EXPECT_TRUE(primary->server->Stop(SIGKILL).ok()); });
    }
  };

  absl::StatusOr<framework::ProcessorReport> report = framework::RunEvents(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->events, kEvents);

  absl::MutexLock lock(&mu);
  ASSERT_EQ(outcomes.size(), kEvents);
  int retried = 0;
  int from_backup = 0;
  for (const auto& [id, outcome] : outcomes) {
    EXPECT_EQ(outcome.tags, JetsOf(id)) << "event " << id;  // the identity model's answer
    EXPECT_GE(outcome.tries, 1);
    EXPECT_LE(outcome.tries, 3);
    if (outcome.tries > 1) ++retried;
    if (outcome.server == backup_address) ++from_backup;
    EXPECT_THAT(outcome.server, ::testing::AnyOf(primary_address, backup_address));
  }
  // Each stream's next dispatch after the kill fails on the primary and is retried.
  EXPECT_GE(retried, 1);
  EXPECT_GE(from_backup, 1);
  for (const service::ServerState& server : (*service)->Servers()) {
    if (server.name == "primary") {
      EXPECT_GE(server.failures, 1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, CmsStyleModuleTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const ::testing::TestParamInfo<SonicMode>& info) {
                           return std::string(client::SonicModeName(info.param));
                         });

}  // namespace
}  // namespace sonic::testing
