// TritonService against real sonic-server processes. No test asserts a duration; every wait is
// bounded.
#include "sonic/service/triton_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client_test_util.h"
#include "integration_test_util.h"
#include "sonic/service/fallback_server.h"
#include "test_certificates.h"
#include "test_models.h"

namespace sonic::service {
namespace {

using ::sonic::testing::ServerProcess;
using ::sonic::testing::TempDirectory;
using ::testing::HasSubstr;

std::filesystem::path ServerBinary() {
  return std::filesystem::path(std::getenv("SONIC_BUILD_DIR")) / "bin" / "sonic-server";
}

// Whether process `pid` is gone (or a zombie nobody reaped yet).
bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0) return true;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren == std::string::npos || text.substr(paren + 2, 1) == "Z";
}

class TritonServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(std::getenv("SONIC_BUILD_DIR"), nullptr);
    auto dir = TempDirectory::Create("sonic-service");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
    ASSERT_TRUE(testing::WriteTestRepository(all()).ok());
  }
  std::filesystem::path all() const { return dir_->path() / "all"; }
  ModelDeclaration Model(const std::string& name) const { return {name, all() / name, ""}; }

  // A server on a repository of exactly `models` (symlinks into the test repository), with
  // `flags` added to its command line.
  std::unique_ptr<ServerProcess> StartServer(const std::string& name,
                                             const std::vector<std::string>& models,
                                             const std::vector<std::string>& flags = {}) {
    const auto repository = dir_->path() / name;
    std::filesystem::create_directories(repository);
    for (const auto& model : models) {
      std::filesystem::create_directory_symlink(all() / model, repository / model);
    }
    ServerProcess::Options options;
    options.args = {"--model-repository", repository.string()};
    options.args.insert(options.args.end(), flags.begin(), flags.end());
    auto server = ServerProcess::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  std::unique_ptr<TritonService> CreateService(ServiceConfig config) {
    auto service = TritonService::Create({config, false});
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? std::move(*service) : nullptr;
  }

  static ServiceConfig FallbackConfig() {
    ServiceConfig config;
    config.fallback.enabled = true;
    config.fallback.binary = ServerBinary();
    config.fallback.device = FallbackDevice::kAuto;
    return config;
  }

  std::unique_ptr<TempDirectory> dir_;
};

// Sends `values` to INPUT0 of an identity model and checks OUTPUT0 comes back the same.
absl::Status RoundTrip(client::TritonClient& client, const std::vector<float>& values) {
  client.reset();
  SONIC_RETURN_IF_ERROR(testing::SendFp32(client, "INPUT0", {values}));
  SONIC_RETURN_IF_ERROR(testing::DispatchAndWait(client));
  SONIC_ASSIGN_OR_RETURN(auto outputs, testing::ReadFp32(client, "OUTPUT0"));
  if (outputs.size() != 1 || outputs[0] != values) {
    return absl::InternalError("outputs differ from inputs");
  }
  return absl::OkStatus();
}

TEST_F(TritonServiceTest, RoutesEachModelToTheServerThatServesIt) {
  auto a = StartServer("a", {"identity_fp32"});
  auto b = StartServer("b", {"identity_delay"});
  ASSERT_TRUE(a && b);
  ServiceConfig config;
  config.servers = {{"a", a->address(), {}}, {"b", b->address(), {}}};
  config.preferred_server = "b";  // does not serve identity_fp32: must not be used for it
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  for (int i = 0; i < 3; ++i) {
    auto fp32 = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
    ASSERT_TRUE(fp32.ok()) << fp32.status();
    EXPECT_EQ((*fp32)->serverAddress(), a->address());
    EXPECT_TRUE(RoundTrip(**fp32, {1, 2, 3}).ok());
    auto delay = client::TritonClient::Create(service->ClientOptions("identity_delay"));
    ASSERT_TRUE(delay.ok()) << delay.status();
    EXPECT_EQ((*delay)->serverAddress(), b->address());
    EXPECT_TRUE(RoundTrip(**delay, {1, 2, 3, 4}).ok());
  }
  EXPECT_EQ(service->Resolve("no_such_model", "").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(service->FallbackPids().empty());
}

TEST_F(TritonServiceTest, AModelNoServerServesFailsResolveWithEachServersReason) {
  auto a = StartServer("a", {"identity_fp32", "broken_model"});
  ASSERT_TRUE(a);
  ServiceConfig config;
  const std::string unreachable = testing::UnusedAddress();
  config.servers = {{"a", a->address(), {}}, {"gone", unreachable, {}}};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto broken = service->Resolve("broken_model", "");
  ASSERT_FALSE(broken.ok()) << "resolved to " << broken->address;
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(broken.status().message(),
              HasSubstr(absl::StrCat("server 'a' (", a->address(), "): has it UNAVAILABLE: ")));
  EXPECT_THAT(broken.status().message(),
              HasSubstr(absl::StrCat("server 'gone' (", unreachable, "): not reachable: ")));
  auto missing = service->Resolve("identity_delay", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("server 'a' (" + a->address() +
                                                    "): does not have it (1 ready models)"));
}

TEST_F(TritonServiceTest, BalancesAmongServersByLoadAndPrefersThePreferred) {
  auto a = StartServer("a", {"identity_fp32"});
  auto b = StartServer("b", {"identity_fp32"});
  ASSERT_TRUE(a && b);
  ServiceConfig config;
  config.servers = {{"a", a->address(), {}}, {"b", b->address(), {}}};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto first = service->Resolve("identity_fp32", "");
  auto second = service->Resolve("identity_fp32", "");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->address, second->address);  // the second client goes to the less loaded one
  config.preferred_server = "b";
  auto preferring = CreateService(config);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(preferring->Resolve("identity_fp32", "")->address, b->address());
  }
  // A client's own preferred server (CMSSW's per-module preferredServer) comes first.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(preferring->Resolve("identity_fp32", "", "a")->address, a->address());
  }
  auto client = client::TritonClient::Create(preferring->ClientOptions("identity_fp32", "a"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->serverAddress(), a->address());
}

TEST_F(TritonServiceTest, EveryRequestCompletesOnceWhenAServerIsKilledMidRun) {
  auto a = StartServer("a", {"identity_fp32"});
  auto b = StartServer("b", {"identity_fp32"});
  ASSERT_TRUE(a && b);
  ServiceConfig config;
  config.servers = {{"a", a->address(), {}}, {"b", b->address(), {}}};
  config.preferred_server = "a";
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  constexpr int kThreads = 4, kRequests = 15;
  std::atomic<int> completed{0}, failed{0};
  std::atomic<bool> killed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto options = service->ClientOptions("identity_fp32");
      options.allowed_tries = 3;
      auto client = client::TritonClient::Create(options);
      if (!client.ok()) return void(failed += kRequests);
      for (int i = 0; i < kRequests; ++i) {
        // Half the run before the kill, half after (bounded wait).
        if (i == kRequests / 2) testing::WaitFor([&] { return killed.load(); }, absl::Seconds(60));
        const std::vector<float> values = {float(t), float(i), float(t * 100 + i)};
        if (RoundTrip(**client, values).ok()) {
          ++completed;
        } else {
          ++failed;
        }
      }
    });
  }
  ASSERT_TRUE(testing::WaitFor([&] { return completed + failed >= 10; }, absl::Seconds(60)));
  ASSERT_TRUE(a->Stop(SIGKILL).ok());
  killed = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(completed, kThreads * kRequests);
  for (const ServerState& state : service->Servers()) {
    if (state.name == "a") {
      EXPECT_FALSE(state.healthy);
    }
  }
}

TEST_F(TritonServiceTest, FallbackServesAModelNoServerHasAndStopsWithTheJob) {
  auto a = StartServer("a", {"identity_delay"});
  ASSERT_TRUE(a);
  ServiceConfig config = FallbackConfig();
  config.servers = {{"a", a->address(), {}}};
  config.models = {Model("identity_fp32"), Model("identity_delay")};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto client = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_TRUE(client.ok()) << client.status() << service->FallbackLogs();
  EXPECT_NE((*client)->serverAddress(), a->address());
  EXPECT_TRUE(RoundTrip(**client, {4, 5, 6}).ok()) << service->FallbackLogs();
  const std::vector<int> pids = service->FallbackPids();
  ASSERT_EQ(pids.size(), 1u);
  // The fallback serves exactly the unserved model (identity_delay is on server a).
  for (const ServerState& state : service->Servers()) {
    if (state.fallback) {
      EXPECT_THAT(state.models, ::testing::ElementsAre("identity_fp32"));
    }
  }
  EXPECT_THAT(service->FallbackLogs(), HasSubstr("listening on"));
  client->reset();
  service.reset();
  EXPECT_TRUE(ProcessGone(pids[0]));
}

// The value after `flag` on the command line of process `pid`; "" when not there.
std::string CommandLineValue(pid_t pid, const std::string& flag) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"));
  std::vector<std::string> args;
  for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) return args[i + 1];
  }
  return "";
}

// Starts a job (service_job_helper) whose TritonService starts a fallback server, kills the job
// with `signal`, and checks that the fallback server and its temporary folder go away.
void KillJobAndCheckTheFallbackIsGone(const std::filesystem::path& model_dir, int signal) {
  const char* helper = std::getenv("SONIC_SERVICE_JOB_HELPER");
  ASSERT_NE(helper, nullptr);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const std::string binary = ServerBinary().string();
  const std::string model = model_dir.string();
  const pid_t job = fork();
  ASSERT_GE(job, 0);
  if (job == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    execl(helper, helper, binary.c_str(), "identity_fp32", model.c_str(), nullptr);
    _exit(127);
  }
  close(pipe_fds[1]);
  FILE* out = fdopen(pipe_fds[0], "r");
  char line[256] = {};
  const bool got_line = fgets(line, sizeof(line), out) != nullptr;  // bounded: the job exits
  int fallback_pid = 0;
  const bool parsed = got_line && sscanf(line, "fallback pid %d", &fallback_pid) == 1;
  const std::filesystem::path repository =
      parsed ? CommandLineValue(fallback_pid, "--model-repository") : "";
  kill(job, signal);
  waitpid(job, nullptr, 0);
  fclose(out);
  ASSERT_TRUE(parsed) << line;
  ASSERT_FALSE(repository.empty());
  const std::filesystem::path folder = repository.parent_path();
  EXPECT_THAT(folder.string(), HasSubstr("sonic-fallback-"));
  EXPECT_TRUE(testing::WaitFor([&] { return ProcessGone(fallback_pid); }, absl::Seconds(30)));
  EXPECT_TRUE(testing::WaitFor([&] { return !std::filesystem::exists(folder); },
                               absl::Seconds(30)))
      << folder << " is left behind";
}

TEST_F(TritonServiceTest, FallbackAndItsFolderGoWhenTheJobIsKilled) {
  KillJobAndCheckTheFallbackIsGone(all() / "identity_fp32", SIGKILL);
}

TEST_F(TritonServiceTest, FallbackAndItsFolderGoWhenTheJobIsTerminated) {
  KillJobAndCheckTheFallbackIsGone(all() / "identity_fp32", SIGTERM);
}

TEST_F(TritonServiceTest, AModelTheFallbackCannotLoadFailsResolveNamingItsReason) {
  ServiceConfig config = FallbackConfig();
  config.models = {Model("broken_model"), Model("identity_fp32")};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto broken = service->Resolve("broken_model", "");
  ASSERT_FALSE(broken.ok()) << "resolved to " << broken->address;
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(client::MayRetry(broken.status()));
  EXPECT_THAT(broken.status().message(), HasSubstr("model 'broken_model'"));
  EXPECT_THAT(broken.status().message(), HasSubstr("cannot load it: state UNAVAILABLE: "));
  // The fallback serves the model it could load, and is not started again for the other.
  auto client = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_TRUE(client.ok()) << client.status() << service->FallbackLogs();
  EXPECT_TRUE(RoundTrip(**client, {1, 2}).ok());
  auto again = client::TritonClient::Create(service->ClientOptions("broken_model"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(client::GetErrorCategory(again.status()), client::ErrorCategory::kModelError);
  EXPECT_THAT(again.status().message(), HasSubstr("the fallback server cannot load it"));
  EXPECT_EQ(service->FallbackPids().size(), 1u);
}

TEST_F(TritonServiceTest, EachClientUsesTheTlsOptionsOfItsServer) {
  const auto certs = dir_->path() / "certs";
  std::filesystem::create_directories(certs);
  ASSERT_TRUE(testing::MakeTestCertificates(certs).ok());
  auto secure = StartServer(
      "secure", {"identity_fp32"},
      {"--grpc-use-ssl", "--grpc-server-cert", (certs / "server.crt").string(),
       "--grpc-server-key", (certs / "server.key").string()});
  auto plain = StartServer("plain", {"identity_fp32", "identity_delay"});
  ASSERT_TRUE(secure && plain);
  client::TlsOptions tls;
  tls.enabled = true;
  tls.root_certificates_file = (certs / "ca.crt").string();
  ServiceConfig config;
  config.servers = {{"secure", secure->address(), tls}, {"plain", plain->address(), {}}};
  config.preferred_server = "secure";
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  // Only the plain server serves identity_delay: its client must not speak TLS.
  auto delay = client::TritonClient::Create(service->ClientOptions("identity_delay"));
  ASSERT_TRUE(delay.ok()) << delay.status();
  EXPECT_EQ((*delay)->serverAddress(), plain->address());
  EXPECT_TRUE(RoundTrip(**delay, {1, 2, 3, 4}).ok());
  // identity_fp32 goes to the TLS server, and fails over to the plain one without TLS.
  auto options = service->ClientOptions("identity_fp32");
  options.allowed_tries = 2;
  auto fp32 = client::TritonClient::Create(options);
  ASSERT_TRUE(fp32.ok()) << fp32.status();
  EXPECT_EQ((*fp32)->serverAddress(), secure->address());
  EXPECT_TRUE(RoundTrip(**fp32, {5, 6}).ok());
  ASSERT_TRUE(secure->Stop(SIGKILL).ok());
  absl::Status failed_over = RoundTrip(**fp32, {7, 8});
  EXPECT_TRUE(failed_over.ok()) << failed_over;
  EXPECT_EQ((*fp32)->serverAddress(), plain->address());
}

TEST_F(TritonServiceTest, FallbackLogIsShownWhenItFails) {
  ServiceConfig config = FallbackConfig();
  // A launcher that fails (a non-zero exit; one exiting 0 would be waited for on the port).
  config.fallback.launch_command = "sh -c 'echo broken-server-on-port-{port} >&2; exit 3'";
  config.models = {Model("identity_fp32")};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto client = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(client::MayRetry(client.status())) << client.status();
  EXPECT_THAT(client.status().message(), HasSubstr("broken-server-on-port-"));
  EXPECT_THAT(service->FallbackLogs(), HasSubstr("broken-server-on-port-"));
}

TEST_F(TritonServiceTest, ExternalLaunchCommandReplacesTheBuiltInServer) {
  const auto script = dir_->path() / "my-triton.sh";
  std::ofstream(script) << "#!/bin/sh\necho my-triton-started\nexec " << ServerBinary().string()
                        << " --grpc-address 127.0.0.1 --allow-metrics=false --allow-http=false"
                        << " --grpc-port \"$2\""
                        << " --model-repository \"$4\"\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  ServiceConfig config = FallbackConfig();
  config.fallback.binary.clear();
  config.fallback.launch_command = script.string() + " --port {port} --repo {repository}";
  config.models = {Model("identity_fp32")};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto client = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(RoundTrip(**client, {7, 8}).ok());
  EXPECT_THAT(service->FallbackLogs(), HasSubstr("my-triton-started"));
}

TEST(FallbackServerTest, NamesWhereItLookedForAMissingBinary) {
  EXPECT_GE(AvailableCores(), 1);
  service::FallbackConfig config;
  config.binary = "/nonexistent/sonic-server";
  auto binary = FindServerBinary(config);
  EXPECT_EQ(binary.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(binary.status().message(), HasSubstr("/nonexistent/sonic-server"));
}

}  // namespace
}  // namespace sonic::service
