#include "demonstrator/job/job_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

namespace sonic::demo {
namespace {

using ::testing::HasSubstr;

std::string Error(std::string_view yaml) {
  absl::StatusOr<JobConfig> config = ParseJobConfig(yaml, "/jobs");
  EXPECT_FALSE(config.ok());
  return std::string(config.status().message());
}

TEST(JobConfigTest, ParsesEverySection) {
  auto config = ParseJobConfig(R"(
source: {events: 50, seed: 9, first_event: 100}
threads: 3
concurrent_events: 6
mode: direct
models: repo
client: {mode: PseudoAsync, allowed_tries: 3, timeout_ms: 500, compression: gzip, shared_memory: off}
service:
  servers: [{name: gpu, address: "gpu01:8001"}]
  fallback: {enabled: true}
modules:
  - {type: pf_isolation, cones: 4}
  - {type: particlenet, label: pn8, jets: ak8, model: particlenet_padded, client: {mode: Sync}}
  - {type: deepmet}
)",
                               "/jobs");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->events, 50u);
  EXPECT_EQ(config->seed, 9u);
  EXPECT_EQ(config->first_event, 100u);
  EXPECT_EQ(config->threads, 3);
  EXPECT_EQ(config->concurrent_events, 6);
  EXPECT_EQ(config->mode, InferenceMode::kDirect);
  EXPECT_EQ(config->models, std::filesystem::path("/jobs/repo"));
  EXPECT_EQ(config->client.mode, client::SonicMode::kPseudoAsync);
  EXPECT_EQ(config->client.compression, client::Compression::kGzip);
  EXPECT_EQ(config->client.shared_memory, client::SharedMemoryMode::kOff);
  ASSERT_EQ(config->service.servers.size(), 1u);
  EXPECT_TRUE(config->service.fallback.enabled);
  ASSERT_EQ(config->modules.size(), 3u);
  EXPECT_EQ(config->modules[0].label, "pf_isolation");
  EXPECT_EQ(config->modules[0].parameters.at("cones"), "4");
  const ModuleConfig& pn = config->modules[1];
  EXPECT_EQ(pn.label, "pn8");
  EXPECT_EQ(pn.model, "particlenet_padded");
  EXPECT_EQ(pn.parameters.at("jets"), "ak8");
  // A module's client section overrides the job's, key by key.
  EXPECT_EQ(pn.client.mode, client::SonicMode::kSync);
  EXPECT_EQ(pn.client.allowed_tries, 3);
  EXPECT_EQ(pn.client.timeout_ms, 500u);
  EXPECT_EQ(config->modules[2].client.mode, client::SonicMode::kPseudoAsync);
}

TEST(JobConfigTest, DefaultsNeedOnlyModules) {
  auto config = ParseJobConfig("modules: [{type: deeptau}]", "/jobs");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->mode, InferenceMode::kSonic);
  EXPECT_EQ(config->models, std::filesystem::path("/jobs/models"));
  EXPECT_EQ(config->client.mode, client::SonicMode::kAsync);
  EXPECT_EQ(config->threads, 1);
}

TEST(JobConfigTest, MistakesAreNamedWithTheirLine) {
  EXPECT_THAT(Error("modules: [{type: deeptau}]\nthreds: 2\n"),
              HasSubstr("unknown key 'threds' in the job config"));
  EXPECT_THAT(Error("modules: [{type: deeptau}]\nthreads: 0\n"),
              HasSubstr("config.threads must be a whole number >= 1 (line 2)"));
  EXPECT_THAT(Error("modules: [{type: deeptau}]\nmode: gpu\n"),
              HasSubstr("mode 'gpu' is not direct or sonic"));
  EXPECT_THAT(Error("modules: [{type: deepjet}]"), HasSubstr("'deepjet' is not one of"));
  EXPECT_THAT(Error("modules: [{type: deeptau, jets: ak8}]"), HasSubstr("unknown key 'jets'"));
  EXPECT_THAT(Error("modules: [{type: pf_isolation, client: {mode: Sync}}]"),
              HasSubstr("unknown key 'client'"));
  EXPECT_THAT(Error("modules: [{type: deeptau}, {type: deeptau}]"),
              HasSubstr("duplicate module label 'deeptau'"));
  EXPECT_THAT(Error("modules: []"), HasSubstr("modules must be a non-empty list"));
  EXPECT_THAT(Error("modules: [{type: deeptau, client: {mode: Fast}}]"),
              HasSubstr("modules[0].client.mode 'Fast' is not one of Sync, Async, PseudoAsync"));
  EXPECT_THAT(Error("modules: [{type: deeptau}]\nservice: {retry_policy: never}\n"),
              HasSubstr("retry_policy 'never'"));
  EXPECT_THAT(Error("modules: [{type: deeptau}\n"), HasSubstr("malformed YAML"));
}

TEST(JobConfigTest, RetryChainInOrderAndDefaultTries) {
  absl::StatusOr<JobConfig> config = ParseJobConfig(R"(
client: {retry_chain: [{target: same_server}, {target: another_server, tries: 2}, {target: fallback}]}
modules: [{type: deeptau}, {type: deepmet, client: {retry_chain: []}}]
)",
                                                    "/jobs");
  ASSERT_TRUE(config.ok()) << config.status();
  const client::RetryChain expected = {{client::RetryTarget::kSameServer, 1},
                                       {client::RetryTarget::kAnotherServer, 2},
                                       {client::RetryTarget::kFallback, 1}};
  EXPECT_EQ(config->modules[0].client.retry_chain, expected);
  EXPECT_TRUE(config->modules[1].client.retry_chain.empty());
  EXPECT_EQ(config->modules[1].client.allowed_tries, 3);
  EXPECT_THAT(Error("modules: [{type: deeptau, client: {retry_chain: [{target: elsewhere}]}}]"),
              HasSubstr("'elsewhere' is not one of resolver, same_server"));
  EXPECT_THAT(Error("modules: [{type: deeptau, client: {retry_chain: [{target: fallback, "
                    "tries: 0}]}}]"),
              HasSubstr("tries must be a whole number >= 1"));
}

// The shipped configs parse; configs/ttbar_onnx.yaml picks each module's model, and so its format.
TEST(JobConfigTest, ShippedConfigsPickTheirModels) {
  const std::filesystem::path configs = std::filesystem::path(SONIC_SOURCE_DIR) / "configs";
  auto torchscript = LoadJobConfig(configs / "ttbar.yaml");
  ASSERT_TRUE(torchscript.ok()) << torchscript.status();
  auto onnx = LoadJobConfig(configs / "ttbar_onnx.yaml");
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  std::map<std::string, std::string> models;
  for (const ModuleConfig& module : onnx->modules) models[module.type] = module.model;
  EXPECT_EQ(models["particlenet"], "particlenet_ragged_onnx");
  EXPECT_EQ(models["deeptau"], "deeptau_onnx");
  EXPECT_EQ(models["deepmet"], "deepmet_tf");
  EXPECT_EQ(onnx->models, torchscript->models);
}

TEST(JobConfigTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadJobConfig("/no/such/job.yaml").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sonic::demo
