#include "demonstrator/job/module_types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "demonstrator/models/model_shapes.h"

namespace sonic::demo {
namespace {

using ::testing::HasSubstr;

ModuleConfig Module(std::string type, std::map<std::string, std::string> parameters = {}) {
  ModuleConfig module;
  module.label = type;
  module.type = std::move(type);
  module.parameters = std::move(parameters);
  return module;
}

TEST(ModuleTypesTest, EveryTypeIsFoundByItsNameAndComplete) {
  for (const ModuleType& type : ModuleTypes()) {
    EXPECT_EQ(FindModuleType(type.name), &type);
    EXPECT_NE(type.default_model, nullptr) << type.name;
    EXPECT_NE(type.configure, nullptr) << type.name;
    EXPECT_FALSE(type.category.empty()) << type.name;
  }
  EXPECT_EQ(FindModuleType("particle_net"), nullptr);
  EXPECT_FALSE(FindModuleType("pf_isolation")->runs_model);
  EXPECT_TRUE(FindModuleType("deepmet")->runs_model);
}

TEST(ModuleTypesTest, DefaultModels) {
  EXPECT_EQ(ModelOf(Module("deepmet")), models::kDeepMet);
  EXPECT_EQ(ModelOf(Module("deeptau")), models::kDeepTau);
  EXPECT_EQ(ModelOf(Module("particlenet")), models::kParticleNetRagged);
  EXPECT_EQ(ModelOf(Module("particlenet", {{"inputs", "padded"}})), models::kParticleNetPadded);
  EXPECT_EQ(ModelOf(Module("pf_echo")), "");
  ModuleConfig named = Module("deepmet");
  named.model = "my_met";
  EXPECT_EQ(ModelOf(named), "my_met");
}

TEST(ModuleTypesTest, ConfigureChecksParameters) {
  EXPECT_THAT(FindModuleType("particlenet")
                  ->configure(Module("particlenet", {{"jets", "ak5"}}))
                  .status()
                  .message(),
              HasSubstr("jets 'ak5' is not ak4 or ak8"));
  EXPECT_THAT(FindModuleType("particlenet")
                  ->configure(Module("particlenet", {{"inputs", "dense"}}))
                  .status()
                  .message(),
              HasSubstr("inputs 'dense' is not ragged or padded"));
  EXPECT_THAT(FindModuleType("pf_isolation")
                  ->configure(Module("pf_isolation", {{"cones", "0"}}))
                  .status()
                  .message(),
              HasSubstr("cones '0' is not a whole number >= 1"));
  EXPECT_THAT(FindModuleType("pf_echo")->configure(Module("pf_echo")).status().message(),
              HasSubstr("needs a model"));
}

TEST(ModuleTypesTest, NonMlProducerNeedsNoEngine) {
  absl::StatusOr<ProducerFactory> make =
      FindModuleType("pf_isolation")->configure(Module("pf_isolation", {{"cones", "4"}}));
  ASSERT_TRUE(make.ok()) << make.status();
  absl::StatusOr<std::unique_ptr<framework::Module>> producer = (*make)(nullptr);
  ASSERT_TRUE(producer.ok()) << producer.status();
  EXPECT_EQ((*producer)->label(), "pf_isolation");
}

}  // namespace
}  // namespace sonic::demo
