// The job's fallback server through TritonService, against the real sonic-server: one process
// per job into which later models are loaded, the mode and shared-memory advice to its clients,
// its verbose, debug and temp_dir settings, its log shown after failed calls, and a launch
// command that returns at once. No test asserts a duration; every wait is bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <mutex>

#include "service_test_util.h"
#include "sonic/service/fallback_server.h"

namespace sonic::service::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(ServiceTest, OneFallbackPerJobLoadsLaterModelsIntoIt) {
  ServiceConfig config = WithFallback();
  config.models = {Model("identity_fp32")};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto first = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_TRUE(first.ok()) << first.status() << service->FallbackLogs();
  const std::vector<int> pids = service->FallbackPids();
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_EQ(CommandLineValue(pids[0], "--model-control-mode"), "explicit");
  // A model declared later is loaded into the same process.
  ASSERT_TRUE(service->DeclareModel(Model("identity_delay")).ok());
  auto later = client::TritonClient::Create(service->ClientOptions("identity_delay"));
  ASSERT_TRUE(later.ok()) << later.status() << service->FallbackLogs();
  EXPECT_EQ((*later)->serverAddress(), (*first)->serverAddress());
  EXPECT_EQ(service->FallbackPids(), pids);
  EXPECT_TRUE(RoundTrip(**first, {1, 2, 3}).ok());
  EXPECT_TRUE(RoundTrip(**later, {1, 2, 3, 4}).ok());
  EXPECT_THAT(service->FallbackLogs(), HasSubstr("loaded model 'identity_delay'"));
  int fallbacks = 0;
  for (const ServerState& state : service->Servers()) {
    if (!state.fallback) continue;
    ++fallbacks;
    EXPECT_THAT(state.models, ::testing::ElementsAre("identity_delay", "identity_fp32"));
  }
  EXPECT_EQ(fallbacks, 1);
}

TEST_F(ServiceTest, CpuFallbackClientsTakeTheConfiguredModeUnlessTheyChoseOne) {
  ServiceConfig config = WithFallback();
  config.models = {Model("identity_fp32")};
  auto plain = CreateService(config);
  ASSERT_TRUE(plain);
  auto endpoint = plain->Resolve("identity_fp32", "");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_FALSE(endpoint->mode.has_value());  // the default keeps the client's own default
  EXPECT_FALSE(endpoint->shared_memory.has_value());
  auto async = client::TritonClient::Create(plain->ClientOptions("identity_fp32"));
  ASSERT_TRUE(async.ok()) << async.status();
  EXPECT_EQ((*async)->mode(), client::SonicMode::kAsync);

  config.fallback.cpu_client_mode = client::SonicMode::kSync;  // CMSSW's choice
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto sync = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_EQ((*sync)->mode(), client::SonicMode::kSync);
  EXPECT_TRUE(RoundTrip(**sync, {1, 2}).ok());
  auto options = service->ClientOptions("identity_fp32");
  options.mode = client::SonicMode::kPseudoAsync;  // the user's choice wins
  auto chosen = client::TritonClient::Create(options);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  EXPECT_EQ((*chosen)->mode(), client::SonicMode::kPseudoAsync);
}

TEST_F(ServiceTest, GpuFallbackAdvisesCudaSharedMemory) {
  ServiceConfig config = WithFallback();
  config.fallback.device = FallbackDevice::kGpu;
  config.fallback.cpu_client_mode = client::SonicMode::kSync;  // not for a GPU fallback
  config.models = {Model("identity_fp32")};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto endpoint = service->Resolve("identity_fp32", "");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status() << service->FallbackLogs();
  EXPECT_EQ(endpoint->shared_memory, client::SharedMemoryMode::kCuda);
  EXPECT_FALSE(endpoint->mode.has_value());
  // Advised, not chosen: without a usable GPU the client falls back to system shared memory.
  auto advised = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_TRUE(advised.ok()) << advised.status();
  EXPECT_TRUE(RoundTrip(**advised, {5, 6}).ok());
  if (!GpuVisible()) {
    auto options = service->ClientOptions("identity_fp32");
    options.shared_memory = client::SharedMemoryMode::kCuda;  // chosen: its failure stands
    auto chosen = client::TritonClient::Create(options);
    EXPECT_FALSE(chosen.ok());
    EXPECT_EQ(client::GetErrorCategory(chosen.status()), client::ErrorCategory::kBadInput);
  }
}

TEST_F(ServiceTest, VerboseDebugAndTempDirSettings) {
  ServiceConfig config = WithFallback();
  config.fallback.verbose = true;
  config.fallback.debug = true;
  config.fallback.temp_dir = dir_->path() / "scratch";
  config.models = {Model("identity_fp32")};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto client = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_TRUE(client.ok()) << client.status() << service->FallbackLogs();
  ASSERT_EQ(service->FallbackPids().size(), 1u);
  const std::filesystem::path repository =
      CommandLineValue(service->FallbackPids()[0], "--model-repository");
  EXPECT_EQ(CommandLineValue(service->FallbackPids()[0], "--log-verbose"), "1");
  const std::filesystem::path folder = repository.parent_path();
  EXPECT_EQ(folder.parent_path(), dir_->path() / "scratch");
  EXPECT_TRUE(RoundTrip(**client, {1}).ok());
  const std::string logs = service->FallbackLogs();
  EXPECT_THAT(logs, HasSubstr("infer request"));  // a verbose line of the server
  EXPECT_THAT(logs, HasSubstr(folder.string()));
  client->reset();
  service.reset();
  EXPECT_TRUE(std::filesystem::exists(folder / "models" / "identity_fp32" / "config.pbtxt"))
      << "debug keeps the folder";
}

TEST_F(ServiceTest, FallbackLogIsWrittenAtTheEndWhenCallsToItFailed) {
  std::mutex mu;
  std::vector<std::string> messages;
  auto sink = [&](std::string_view message) {
    std::lock_guard<std::mutex> lock(mu);
    messages.emplace_back(message);
  };
  ServiceConfig config = WithFallback();
  config.models = {Model("identity_fp32")};
  {
    auto quiet = CreateService(config, sink);
    ASSERT_TRUE(quiet);
    auto client = client::TritonClient::Create(quiet->ClientOptions("identity_fp32"));
    ASSERT_TRUE(client.ok()) << client.status();
    EXPECT_TRUE(RoundTrip(**client, {1, 2}).ok());
  }
  EXPECT_TRUE(messages.empty()) << "no call failed, nothing to show";
  auto service = CreateService(config, sink);
  ASSERT_TRUE(service);
  auto options = service->ClientOptions("identity_fp32");
  options.allowed_tries = 2;
  auto client = client::TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_EQ(service->FallbackPids().size(), 1u);
  const int first = service->FallbackPids()[0];
  ASSERT_EQ(kill(first, SIGKILL), 0);
  ASSERT_TRUE(sonic::testing::WaitFor([&] { return ProcessGone(first); }, absl::Seconds(10)));
  // The retry reaches a new fallback (the dead one is replaced); either way a call failed.
  (void)RoundTrip(**client, {3, 4});
  client->reset();  // the client goes before its service
  service.reset();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_THAT(messages[0], HasSubstr("calls to the fallback server failed"));
  EXPECT_THAT(messages[0], HasSubstr("listening on"));  // the log itself
}

// Kills, by the PID its launcher wrote, a server a test's launcher left running.
struct DetachedServer {
  std::filesystem::path pid_file;
  ~DetachedServer() {
    std::ifstream in(pid_file);
    pid_t pid = 0;
    if (in >> pid && pid > 0) kill(pid, SIGKILL);
  }
};

TEST_F(ServiceTest, ALauncherThatReturnsAtOnceIsWaitedForOnThePort) {
  DetachedServer detached{dir_->path() / "server.pid"};
  const auto script = dir_->path() / "launch.sh";
  std::ofstream(script) << "#!/bin/sh\n"
                        << "echo launcher-returned\n"
                        << "nohup " << ServerBinary().string()
                        << " --grpc-address 127.0.0.1 --grpc-port \"$1\" --model-repository \"$2\""
                        << " --model-control-mode explicit --allow-metrics=false"
                        << " --allow-http=false >> \"$3\" 2>&1 &\n"
                        << "echo $! > \"$4\"\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  ServiceConfig config = WithFallback();
  config.fallback.binary.clear();
  config.fallback.launch_command =
      absl::StrCat(script.string(), " {port} {repository} {log} ", detached.pid_file.string());
  config.models = {Model("identity_fp32")};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto client = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_TRUE(client.ok()) << client.status() << service->FallbackLogs();
  EXPECT_TRUE(RoundTrip(**client, {7, 8}).ok());
  EXPECT_TRUE(service->FallbackPids().empty());  // not the job's child
  const std::string logs = service->FallbackLogs();
  EXPECT_THAT(logs, HasSubstr("launcher-returned"));
  EXPECT_THAT(logs, HasSubstr("loaded model 'identity_fp32'"));
  EXPECT_THAT(logs, ::testing::Not(HasSubstr("[exited]")));
}

}  // namespace
}  // namespace sonic::service::testing
