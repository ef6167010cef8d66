// TritonService's side of the retry policy, against real sonic-server processes: failed attempts
// count against their server, a server that fails repeatedly leaves routing until a probe finds
// it well (a frozen server, SIGSTOP, resumed with SIGCONT), and a client's retry chain goes to
// the same server, then another, then the fallback. No test asserts a duration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>

#include "service_test_util.h"

namespace sonic::service {
namespace {

using testing::RoundTrip;

class RetryChainTest : public testing::ServiceTest {
 protected:
  // A server on the whole test repository.
  std::unique_ptr<sonic::testing::ServerProcess> StartServer() {
    return ServiceTest::StartServer(all());
  }
};

ServerState StateOf(const TritonService& service, const std::string& name) {
  for (const ServerState& state : service.Servers()) {
    if (state.name == name) return state;
  }
  return {};
}

// Resumes a frozen server at the end whatever happened.
class Frozen {
 public:
  explicit Frozen(sonic::testing::ServerProcess& server) : server_(&server) {
    EXPECT_TRUE(server.Freeze()) << "the server did not stop";
  }
  ~Frozen() { Resume(); }
  void Resume() {
    if (server_ != nullptr) server_->Resume();
    server_ = nullptr;
  }

 private:
  sonic::testing::ServerProcess* server_;
};

TEST_F(RetryChainTest, AFrozenServerLeavesRoutingUntilAProbeFindsItWell) {
  auto a = StartServer();
  auto b = StartServer();
  ASSERT_TRUE(a && b);
  ServiceConfig config;
  config.servers = {{"a", a->address(), {}}, {"b", b->address(), {}}};
  config.probe_interval = absl::Hours(1);  // probes only when the test or a retry asks
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  // Two clients on a (its preferred server), each with a short automatic deadline.
  std::vector<std::unique_ptr<client::TritonClient>> clients;
  for (int i = 0; i < kOutOfRoutingFailures; ++i) {
    client::TritonClient::Options options = service->ClientOptions("identity_fp32", "a");
    options.allowed_tries = 2;
    options.auto_timeout_min = absl::Milliseconds(500);
    auto client = client::TritonClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_EQ((*client)->serverAddress(), a->address());
    ASSERT_TRUE(RoundTrip(**client, {float(i)}).ok());
    clients.push_back(*std::move(client));
  }
  Frozen frozen(*a);
  for (int i = 0; i < kOutOfRoutingFailures; ++i) {
    EXPECT_TRUE(RoundTrip(*clients[i], {float(i), 1}).ok());
    EXPECT_EQ(clients[i]->serverAddress(), b->address());
  }
  ServerState state = StateOf(*service, "a");
  EXPECT_TRUE(state.out_of_routing);
  EXPECT_FALSE(state.healthy);
  EXPECT_EQ(state.activity.timeouts, static_cast<uint64_t>(kOutOfRoutingFailures));
  EXPECT_EQ(state.activity.failures, static_cast<uint64_t>(kOutOfRoutingFailures));
  EXPECT_EQ(state.activity.failovers, static_cast<uint64_t>(kOutOfRoutingFailures));
  EXPECT_GT(state.activity.time_lost, absl::ZeroDuration());
  ServerState other = StateOf(*service, "b");
  EXPECT_EQ(other.activity.retries, static_cast<uint64_t>(kOutOfRoutingFailures));
  EXPECT_EQ(other.activity.failures, 0u);
  // Out of routing: a new client preferring a goes to b.
  auto newcomer = client::TritonClient::Create(service->ClientOptions("identity_fp32", "a"));
  ASSERT_TRUE(newcomer.ok()) << newcomer.status();
  EXPECT_EQ((*newcomer)->serverAddress(), b->address());
  // A probe while it is still frozen leaves it out.
  service->ProbeAll();
  EXPECT_TRUE(StateOf(*service, "a").out_of_routing || !StateOf(*service, "a").healthy);
  frozen.Resume();
  service->ProbeAll();
  state = StateOf(*service, "a");
  EXPECT_FALSE(state.out_of_routing);
  EXPECT_TRUE(state.healthy);
  auto back = client::TritonClient::Create(service->ClientOptions("identity_fp32", "a"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->serverAddress(), a->address());
  EXPECT_TRUE(RoundTrip(**back, {5, 6}).ok());
}

TEST_F(RetryChainTest, TheChainTriesTheSameServerThenAnotherThenTheFallback) {
  auto a = StartServer();
  auto b = StartServer();
  ASSERT_TRUE(a && b);
  ServiceConfig config;
  config.servers = {{"a", a->address(), {}}, {"b", b->address(), {}}};
  config.probe_interval = absl::Hours(1);
  config.fallback.enabled = true;
  config.fallback.binary =
      std::filesystem::path(std::getenv("SONIC_BUILD_DIR")) / "bin" / "sonic-server";
  config.fallback.cpu_cores = 1;
  config.models = {Model("identity_fp32")};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  client::TritonClient::Options options = service->ClientOptions("identity_fp32", "a");
  options.retry_chain = {{client::RetryTarget::kSameServer, 1},
                         {client::RetryTarget::kAnotherServer, 1},
                         {client::RetryTarget::kFallback, 1}};
  auto client = client::TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_EQ((*client)->serverAddress(), a->address());
  // b dies unnoticed (no probe); a's death is seen by the first failures.
  ASSERT_TRUE(b->Stop(SIGKILL).ok());
  ASSERT_TRUE(a->Stop(SIGKILL).ok());
  absl::Status result = RoundTrip(**client, {1, 2, 3});
  ASSERT_TRUE(result.ok()) << result << service->FallbackLogs();
  EXPECT_EQ((*client)->tries(), 4);
  ServerState state_a = StateOf(*service, "a");
  ServerState state_b = StateOf(*service, "b");
  EXPECT_EQ(state_a.activity.failures, 2u);  // the first attempt and the same-server retry
  EXPECT_EQ(state_a.activity.failovers, 1u);
  EXPECT_FALSE(state_a.healthy);
  EXPECT_EQ(state_b.activity.failures, 1u);  // the another-server retry
  EXPECT_EQ(state_b.activity.retries, 1u);
  EXPECT_EQ(state_b.activity.failovers, 1u);
  int fallbacks = 0;
  for (const ServerState& state : service->Servers()) {
    if (!state.fallback) continue;
    ++fallbacks;
    EXPECT_EQ(state.address, (*client)->serverAddress());
    EXPECT_EQ(state.activity.retries, 1u);
    EXPECT_EQ(state.activity.failures, 0u);
  }
  EXPECT_EQ(fallbacks, 1);
}

}  // namespace
}  // namespace sonic::service
