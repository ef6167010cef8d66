// The overlay `sonic plan --deploy` writes for the seed-scale plan, and the errors for a base
// that lacks what it patches. (tests/deploy/test_plan.py renders and validates the overlay.)
#include "plan_deploy.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>

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
  EXPECT_EQ(container["resources"]["limits"]["nvidia.com/gpu"].as<int>(), 1);
  // The base's request stays quoted (no CPU measured in these profiles).
  std::ifstream in(dir_ / "overlay/sonic-server.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("cpu: \"4\""), std::string::npos) << text;

  const YAML::Node scaling = YAML::LoadFile((dir_ / "overlay/scaling.yaml").string());
  EXPECT_EQ(scaling["spec"]["minReplicaCount"].as<int>(), 100);
  EXPECT_EQ(scaling["spec"]["maxReplicaCount"].as<int>(), 100);
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
