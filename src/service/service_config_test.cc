#include "sonic/service/service_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace sonic::service {
namespace {

using ::testing::HasSubstr;

TEST(ServiceConfigTest, ParsesEveryField) {
  auto config = ParseServiceConfig(R"(
servers:
  - name: gpu
    address: gpu01:8001
    tls:
      root_certificates: /ca.pem
    token_file: /run/token
  - name: cpu
    address: 127.0.0.1:8001
    token_env: SITE_TOKEN
preferred_server: gpu
models:
  - name: pn
    path: /models/pn
    preferred_server: cpu
retry_policy: fallback
probe_interval_seconds: 5
fallback:
  enabled: true
  binary: /bin/sonic-server
  launch_command: "x --port {port} --repo {repository}"
  device: cpu
  cpu_cores: 4
  startup_timeout_seconds: 30
  stop_grace_seconds: 2
)");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->servers.size(), 2u);
  EXPECT_EQ(config->servers[0].address, "gpu01:8001");
  EXPECT_TRUE(config->servers[0].tls.enabled);
  EXPECT_EQ(config->servers[0].tls.root_certificates_file, "/ca.pem");
  EXPECT_FALSE(config->servers[1].tls.enabled);
  EXPECT_EQ(config->servers[0].tls.token_file, "/run/token");
  EXPECT_EQ(config->servers[1].tls.token_env, "SITE_TOKEN");
  EXPECT_EQ(config->preferred_server, "gpu");
  ASSERT_EQ(config->models.size(), 1u);
  EXPECT_EQ(config->models[0].directory, "/models/pn");
  EXPECT_EQ(config->models[0].preferred_server, "cpu");
  EXPECT_EQ(config->retry_policy, RetryPolicy::kFallback);
  EXPECT_EQ(config->probe_interval, absl::Seconds(5));
  EXPECT_TRUE(config->fallback.enabled);
  EXPECT_EQ(config->fallback.device, FallbackDevice::kCpu);
  EXPECT_EQ(config->fallback.cpu_cores, 4);
  EXPECT_EQ(config->fallback.stop_grace, absl::Seconds(2));
  EXPECT_EQ(config->fallback.launch_command, "x --port {port} --repo {repository}");
}

TEST(ServiceConfigTest, EmptyIsDefaults) {
  auto config = ParseServiceConfig("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->servers.empty());
  EXPECT_FALSE(config->fallback.enabled);
  EXPECT_EQ(config->retry_policy, RetryPolicy::kAnotherServer);
}

void ExpectError(const std::string& yaml, const std::string& message) {
  auto config = ParseServiceConfig(yaml);
  ASSERT_FALSE(config.ok()) << yaml;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr(message)) << yaml;
}

TEST(ServiceConfigTest, BadInputGivesClearErrors) {
  ExpectError("servers: [ {name: a", "malformed YAML");
  ExpectError("srevers: []", "unknown key 'srevers'");
  ExpectError("servers:\n  - name: a\n", "servers[0] needs 'address'");
  ExpectError("servers:\n  - name: a\n    address: nohostport\n", "not host:port");
  ExpectError("servers:\n  - {name: a, address: 'h:1'}\n  - {name: a, address: 'h:2'}\n",
              "duplicate server name 'a'");
  ExpectError("models:\n  - name: m\n", "models[0] needs 'path'");
  ExpectError("retry_policy: sometimes", "retry_policy 'sometimes'");
  ExpectError("fallback:\n  device: tpu\n", "fallback.device 'tpu'");
  ExpectError("fallback:\n  enabled: maybe\n", "fallback.enabled must be true or false");
  ExpectError("probe_interval_seconds: -1", "probe_interval_seconds must be a number >= 0");
  ExpectError("servers: 3", "servers must be a list");
  ExpectError("servers:\n  - name: a\n    adress: 'h:1'\n", "line 3");
}

TEST(ServiceConfigTest, FallbackDebugSettingsAndClientMode) {
  auto config = ParseServiceConfig(R"(
fallback:
  verbose: true
  debug: true
  temp_dir: /scratch/job
  cpu_client_mode: Sync
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->fallback.verbose);
  EXPECT_TRUE(config->fallback.debug);
  EXPECT_EQ(config->fallback.temp_dir, "/scratch/job");
  EXPECT_EQ(config->fallback.cpu_client_mode, client::SonicMode::kSync);
  auto defaults = ParseServiceConfig("fallback: {enabled: true}");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_FALSE(defaults->fallback.verbose);
  EXPECT_FALSE(defaults->fallback.debug);
  EXPECT_TRUE(defaults->fallback.temp_dir.empty());
  EXPECT_FALSE(defaults->fallback.cpu_client_mode.has_value());
  ExpectError("fallback:\n  cpu_client_mode: Fast\n", "fallback.cpu_client_mode 'Fast'");
  ExpectError("fallback:\n  debug: sometimes\n", "fallback.debug must be true or false");
}

TEST(ServiceConfigTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadServiceConfig("/nonexistent/job.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ServiceConfigTest, ServersFromEnvironment) {
  ::unsetenv(kServerAddressEnv);
  EXPECT_TRUE(ServersFromEnvironment()->empty());
  ::setenv(kServerAddressEnv, "lb.site:8001, 10.0.0.2:9000", 1);
  auto servers = ServersFromEnvironment();
  ASSERT_TRUE(servers.ok()) << servers.status();
  ASSERT_EQ(servers->size(), 2u);
  EXPECT_EQ((*servers)[0].name, "env0");
  EXPECT_EQ((*servers)[1].address, "10.0.0.2:9000");
  ::setenv(kServerAddressEnv, "nonsense", 1);
  EXPECT_EQ(ServersFromEnvironment().status().code(), absl::StatusCode::kInvalidArgument);
  ::unsetenv(kServerAddressEnv);
  ::setenv(kServerAddressEnv, "lb.site:8001", 1);
  ::setenv(kServerTokenFileEnv, "/run/site-token", 1);
  auto with_token = ServersFromEnvironment();
  ASSERT_TRUE(with_token.ok()) << with_token.status();
  EXPECT_EQ(with_token->front().tls.token_file, "/run/site-token");
  ::unsetenv(kServerTokenFileEnv);
  ::unsetenv(kServerAddressEnv);
}

TEST(ServiceConfigTest, CmsswLocalBalancerFromEnvironment) {
  ::unsetenv(kServerAddressEnv);
  ::setenv(kLocalBalancerHostEnv, "balancer.site", 1);
  ::setenv(kLocalBalancerPortEnv, "8001", 1);
  auto servers = ServersFromEnvironment();
  ASSERT_TRUE(servers.ok()) << servers.status();
  ASSERT_EQ(servers->size(), 1u);
  EXPECT_EQ((*servers)[0].name, "SONIC_LOCAL_BALANCER");
  EXPECT_EQ((*servers)[0].address, "balancer.site:8001");
  ::unsetenv(kLocalBalancerPortEnv);
  auto incomplete = ServersFromEnvironment();
  EXPECT_EQ(incomplete.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(incomplete.status().message()),
              ::testing::HasSubstr("SONIC_LOCAL_BALANCER_PORT is missing"));
  ::unsetenv(kLocalBalancerHostEnv);
  EXPECT_TRUE(ServersFromEnvironment()->empty());
}

}  // namespace
}  // namespace sonic::service
