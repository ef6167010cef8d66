// The overlay `sonic plan --deploy` writes for the seed-scale plan and for a split one, and the
// errors for a base that lacks what it patches. (tests/deploy/test_plan.py renders and
// validates the overlay.)
#include "plan_deploy.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <string_view>
#include <vector>

#include "google/protobuf/text_format.h"
#include "inference/model_config.pb.h"
#include "plan_inputs.h"

namespace sonic::tools {
namespace {

const std::filesystem::path kBase = std::filesystem::path(SONIC_SOURCE_DIR) / "deploy/kubernetes";

class PlanDeployTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("plan_deploy_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    absl::StatusOr<PlanInputs> inputs =
        ReadPlanInputs(std::filesystem::path(SONIC_SOURCE_DIR) / "configs/plan/seed_scale.yaml");
    ASSERT_TRUE(inputs.ok()) << inputs.status();
    absl::StatusOr<Plan> plan = MakePlan(*inputs);
    ASSERT_TRUE(plan.ok()) << plan.status();
    plan_ = *plan;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  Plan plan_;
};

TEST_F(PlanDeployTest, PatchesTheServersReplicasModelsAndAutoscalerFloor) {
  ASSERT_TRUE(WriteDeployment(plan_, {.base = kBase, .out = dir_ / "overlay"}).ok());
  const YAML::Node kustomization = YAML::LoadFile((dir_ / "overlay/kustomization.yaml").string());
  ASSERT_EQ(kustomization["resources"].size(), 1u);  // everywhere: no further groups
  EXPECT_TRUE(std::filesystem::equivalent(
      dir_ / "overlay" / kustomization["resources"][0].as<std::string>(), kBase));
  EXPECT_EQ(kustomization["namespace"].as<std::string>(), "sonic");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "overlay/server-groups.yaml"));

  const YAML::Node patch = YAML::LoadFile((dir_ / "overlay/sonic-server.yaml").string());
  EXPECT_EQ(patch["spec"]["replicas"].as<int>(), 100);
  const YAML::Node container = patch["spec"]["template"]["spec"]["containers"][0];
  std::vector<std::string> args = container["args"].as<std::vector<std::string>>();
  for (const char* expected :
       {"--model-control-mode=explicit", "--load-model=particlenet", "--load-model=deeptau",
        "--load-model=deepmet", "--model-repository=/models"}) {
    EXPECT_NE(std::find(args.begin(), args.end(), expected), args.end()) << expected;
  }
  EXPECT_EQ(std::find(args.begin(), args.end(), "--model-control-mode=none"), args.end());
  // No model repository given: no configurations to select.
  EXPECT_EQ(std::find(args.begin(), args.end(), "--model-config-name=sonic-plan"), args.end());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "overlay/model-repository"));
  EXPECT_EQ(container["resources"]["limits"]["nvidia.com/gpu"].as<int>(), 1);
  // The base's request stays quoted (no CPU measured in these profiles).
  std::ifstream in(dir_ / "overlay/sonic-server.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("cpu: \"4\""), std::string::npos) << text;

  const YAML::Node scaling = YAML::LoadFile((dir_ / "overlay/scaling.yaml").string());
  EXPECT_EQ(scaling["spec"]["minReplicaCount"].as<int>(), 100);
  EXPECT_EQ(scaling["spec"]["maxReplicaCount"].as<int>(), 100);
}

// Two models that never share a device's memory, at 2 GPUs per server: m carries 1.2 devices'
// worth (one device at 0.8, 0.4 left on a device of its own), n 2.4 (three devices at 0.8).
constexpr char kSplitSite[] = R"(
profiles:
  - model: m
    memory_mb_per_instance: 50000
    levels: [{batch_size: 1, concurrency: 1, throughput: 100, latency_ms: {avg: 10}}]
  - model: n
    memory_mb_per_instance: 50000
    levels: [{batch_size: 1, concurrency: 1, throughput: 100, latency_ms: {avg: 10}}]
workload:
  jobs: 1
  threads: 1
  events_per_second_per_thread: 240
  models: [{model: m, calls_per_event: 0.5}, {model: n, calls_per_event: 1}]
constraints: {gpu_memory_mb: 80000, gpus_per_server: 2}
)";

std::vector<std::string> LoadedModels(const YAML::Node& deployment) {
  std::vector<std::string> models;
  for (const YAML::Node& arg : deployment["spec"]["template"]["spec"]["containers"][0]["args"]) {
    const std::string text = arg.as<std::string>();
    constexpr std::string_view kFlag = "--load-model=";
    if (text.starts_with(kFlag)) models.push_back(text.substr(kFlag.size()));
  }
  return models;
}

TEST_F(PlanDeployTest, GroupsOfDevicesWithTheSameModelsAreOneDeployment) {
  absl::StatusOr<PlanInputs> inputs = ParsePlanInputs(kSplitSite, dir_);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  absl::StatusOr<Plan> plan = MakePlan(*inputs);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // Devices: m's full one, n's three, m's remainder; servers 1 + 2 + 1.
  ASSERT_EQ(plan->chosen, PlacementKind::kSplit);
  const std::vector<DeviceGroup>& groups = plan->split.groups;
  ASSERT_EQ(groups.size(), 3u);
  ASSERT_EQ(groups[0].shares.size(), 1u);
  ASSERT_EQ(groups[2].shares.size(), 1u);
  ASSERT_EQ(groups[0].shares[0].model, groups[2].shares[0].model);
  ASSERT_EQ(plan->servers, 4);

  ASSERT_TRUE(WriteDeployment(*plan, {.base = kBase, .out = dir_ / "overlay"}).ok());
  // m's two groups are sonic-server: 1 + 1 servers (not ceil(2 devices / 2)).
  const YAML::Node patch = YAML::LoadFile((dir_ / "overlay/sonic-server.yaml").string());
  EXPECT_EQ(patch["spec"]["replicas"].as<int>(), 2);
  EXPECT_EQ(LoadedModels(patch), std::vector<std::string>{"m"});
  const YAML::Node scaling = YAML::LoadFile((dir_ / "overlay/scaling.yaml").string());
  EXPECT_EQ(scaling["spec"]["minReplicaCount"].as<int>(), 2);

  // n is the only further group: one Deployment and its Service.
  const std::vector<YAML::Node> extra =
      YAML::LoadAllFromFile((dir_ / "overlay/server-groups.yaml").string());
  ASSERT_EQ(extra.size(), 2u);
  EXPECT_EQ(extra[0]["kind"].as<std::string>(), "Deployment");
  EXPECT_EQ(extra[0]["metadata"]["name"].as<std::string>(), "sonic-server-g2");
  EXPECT_EQ(extra[0]["spec"]["replicas"].as<int>(), 2);
  EXPECT_EQ(LoadedModels(extra[0]), std::vector<std::string>{"n"});
  EXPECT_EQ(extra[1]["kind"].as<std::string>(), "Service");
  EXPECT_EQ(extra[1]["metadata"]["name"].as<std::string>(), "sonic-server-g2");
  // The Deployments' replicas are the plan's servers.
  EXPECT_EQ(patch["spec"]["replicas"].as<int>() + extra[0]["spec"]["replicas"].as<int>(),
            plan->servers);
}

// A model repository as a site has it: particlenet batches with one instance group, deeptau
// has none, deepmet does not batch.
void WriteRepository(const std::filesystem::path& repo) {
  const std::map<std::string, std::string> configs = {
      {"particlenet",
       "backend: \"pytorch\"\nmax_batch_size: 512\n"
       "input [{ name: \"x\" data_type: TYPE_FP32 dims: [ 20, -1 ] }]\n"
       "output [{ name: \"y\" data_type: TYPE_FP32 dims: [ 10 ] }]\n"
       "instance_group [{ count: 1 kind: KIND_GPU }]\n"
       "dynamic_batching { preferred_batch_size: [ 8, 16 ] max_queue_delay_microseconds: 7 }\n"},
      {"deeptau",
       "platform: \"onnxruntime_onnx\"\nmax_batch_size: 64\n"
       "input [{ name: \"x\" data_type: TYPE_FP32 dims: [ 5 ] }]\n"
       "output [{ name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] }]\n"},
      {"deepmet",
       "backend: \"pytorch\"\nmax_batch_size: 0\n"
       "input [{ name: \"x\" data_type: TYPE_FP32 dims: [ -1, 8 ] }]\n"
       "output [{ name: \"y\" data_type: TYPE_FP32 dims: [ 2 ] }]\n"
       "instance_group [{ count: 1 kind: KIND_GPU }, { count: 1 kind: KIND_CPU }]\n"}};
  for (const auto& [model, text] : configs) {
    std::filesystem::create_directories(repo / model / "1");
    std::ofstream(repo / model / "config.pbtxt") << text;
  }
}

inference::ModelConfig ReadPlanConfig(const std::filesystem::path& overlay,
                                      const std::string& model) {
  std::ifstream in(overlay / "model-repository" / model / "configs" / "sonic-plan.pbtxt");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

ModelLoad& Planned(Plan& plan, const std::string& model) {
  return *std::find_if(plan.models.begin(), plan.models.end(),
                       [&](const ModelLoad& m) { return m.model == model; });
}

TEST_F(PlanDeployTest, ThePlansInstancesAndBatchingReachTheServersAsCustomConfigs) {
  // Settings a plan may choose, different from the repository's.
  for (ModelLoad& model : plan_.models) {
    model.instances = 3;
    model.preferred_batch_size = 40;
    model.max_queue_delay_us = 2500;
  }
  Planned(plan_, "deeptau").preferred_batch_size = 100;  // above its max
  WriteRepository(dir_ / "repo");
  ASSERT_TRUE(
      WriteDeployment(plan_,
                      {.base = kBase, .out = dir_ / "overlay", .model_repository = dir_ / "repo"})
          .ok());
  const YAML::Node patch = YAML::LoadFile((dir_ / "overlay/sonic-server.yaml").string());
  const std::vector<std::string> args =
      patch["spec"]["template"]["spec"]["containers"][0]["args"].as<std::vector<std::string>>();
  EXPECT_NE(std::find(args.begin(), args.end(), "--model-config-name=sonic-plan"), args.end());

  const inference::ModelConfig particlenet = ReadPlanConfig(dir_ / "overlay", "particlenet");
  ASSERT_EQ(particlenet.instance_group_size(), 1);
  EXPECT_EQ(particlenet.instance_group(0).count(), 3);
  EXPECT_EQ(particlenet.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_GPU);
  ASSERT_EQ(particlenet.dynamic_batching().preferred_batch_size_size(), 1);
  EXPECT_EQ(particlenet.dynamic_batching().preferred_batch_size(0), 40);
  EXPECT_EQ(particlenet.dynamic_batching().max_queue_delay_microseconds(), 2500u);
  // The rest of the site's config stays.
  EXPECT_EQ(particlenet.backend(), "pytorch");
  EXPECT_EQ(particlenet.max_batch_size(), 512);
  ASSERT_EQ(particlenet.input_size(), 1);
  EXPECT_EQ(particlenet.input(0).dims(0), 20);

  const inference::ModelConfig deeptau = ReadPlanConfig(dir_ / "overlay", "deeptau");
  ASSERT_EQ(deeptau.instance_group_size(), 1);  // none in the repository: one on the GPU
  EXPECT_EQ(deeptau.instance_group(0).count(), 3);
  EXPECT_EQ(deeptau.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_GPU);
  EXPECT_EQ(deeptau.dynamic_batching().preferred_batch_size(0), 64);  // at most max_batch_size

  const inference::ModelConfig deepmet = ReadPlanConfig(dir_ / "overlay", "deepmet");
  ASSERT_EQ(deepmet.instance_group_size(), 2);
  EXPECT_EQ(deepmet.instance_group(0).count(), 3);
  EXPECT_EQ(deepmet.instance_group(1).count(), 3);
  EXPECT_FALSE(deepmet.has_dynamic_batching());  // max_batch_size 0: no batching to set
}

TEST_F(PlanDeployTest, ARepositoryLackingAPlannedModelIsAnError) {
  WriteRepository(dir_ / "repo");
  std::filesystem::remove_all(dir_ / "repo/deeptau");
  const absl::Status written = WriteDeployment(
      plan_, {.base = kBase, .out = dir_ / "overlay", .model_repository = dir_ / "repo"});
  EXPECT_EQ(written.code(), absl::StatusCode::kNotFound) << written;
  EXPECT_NE(written.message().find("deeptau"), std::string::npos) << written;
}

TEST_F(PlanDeployTest, ABaseWithoutWhatItPatchesIsAnError) {
  EXPECT_EQ(WriteDeployment(plan_, {.base = dir_ / "nowhere", .out = dir_ / "overlay"}).code(),
            absl::StatusCode::kNotFound);
  std::filesystem::create_directories(dir_ / "base");
  std::filesystem::copy_file(kBase / "sonic-server.yaml", dir_ / "base/sonic-server.yaml");
  const absl::Status no_scaler =
      WriteDeployment(plan_, {.base = dir_ / "base", .out = dir_ / "overlay"});
  EXPECT_EQ(no_scaler.code(), absl::StatusCode::kNotFound) << no_scaler;
  std::ofstream(dir_ / "base/keda-scaledobject.yaml")
      << "kind: ScaledObject\nmetadata: {name: x}\n";
  const absl::Status wrong_name =
      WriteDeployment(plan_, {.base = dir_ / "base", .out = dir_ / "overlay"});
  EXPECT_EQ(wrong_name.code(), absl::StatusCode::kInvalidArgument) << wrong_name;
  EXPECT_NE(wrong_name.message().find("ScaledObject sonic-server"), std::string::npos);
}

}  // namespace
}  // namespace sonic::tools
