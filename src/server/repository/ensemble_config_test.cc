// Ensemble configs: the step order the graph gives, and the errors of a broken ensemble (static
// ones at config load, and those found against the composing models' configs).
#include "server/repository/ensemble_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "server/repository/model_config_loader.h"

namespace sonic::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

inference::ModelConfig Parse(const std::string& text) {
  absl::StatusOr<inference::ModelConfig> config = ParseModelConfig(text, "e");
  EXPECT_TRUE(config.ok()) << config.status();
  NormalizeModelConfig(*config);
  return *config;
}

std::string Step(const std::string& model, const std::string& inputs, const std::string& outputs) {
  return absl::StrCat("step { model_name: \"", model, "\" model_version: -1 ", inputs, " ", outputs,
                      " }\n");
}

std::string In(const std::string& key, const std::string& value) {
  return absl::StrCat("input_map { key: \"", key, "\" value: \"", value, "\" }");
}

std::string Out(const std::string& key, const std::string& value) {
  return absl::StrCat("output_map { key: \"", key, "\" value: \"", value, "\" }");
}

// Ensemble "e": inputs A, B; output Y (FP32 [4]); max_batch_size 4; the given steps.
std::string Ensemble(const std::string& steps) {
  return "name: \"e\" platform: \"ensemble\" max_batch_size: 4\n"
         "input { name: \"A\" data_type: TYPE_FP32 dims: [ 4 ] }\n"
         "input { name: \"B\" data_type: TYPE_FP32 dims: [ 4 ] }\n"
         "output { name: \"Y\" data_type: TYPE_FP32 dims: [ 4 ] }\n"
         "ensemble_scheduling {\n" +
         steps + "}\n";
}

// A fan-out / fan-in DAG listed out of order: step 0 needs steps 1 and 2, which need step 3.
std::string Diamond() {
  return Ensemble(Step("join", In("a", "left") + In("b", "right"), Out("y", "Y")) +
                  Step("id", In("x", "ab"), Out("y", "left")) +
                  Step("id", In("x", "ab"), Out("y", "right")) +
                  Step("join", In("a", "A") + In("b", "B"), Out("y", "ab")));
}

absl::Status Validate(const std::string& text) { return ValidateModelConfig(Parse(text)); }

TEST(EnsembleGraphTest, OrdersStepsByDependency) {
  absl::StatusOr<EnsembleGraph> graph = BuildEnsembleGraph(Parse(Diamond()));
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_THAT(graph->order, ElementsAre(3, 1, 2, 0));
  EXPECT_THAT(graph->readers.at("ab"), ElementsAre(1, 2));
  EXPECT_EQ(graph->writer.at("Y"), 0u);
  EXPECT_EQ(graph->steps[0].inputs[0], std::make_pair(std::string("a"), std::string("left")));
  EXPECT_TRUE(Validate(Diamond()).ok());
}

TEST(EnsembleGraphTest, NormalizationAddsNoInstancesOrBackend) {
  inference::ModelConfig config = Parse(Diamond());
  EXPECT_EQ(config.instance_group_size(), 0);
  EXPECT_TRUE(config.backend().empty());
  EXPECT_EQ(config.version_policy().latest().num_versions(), 1u);
}

struct BrokenCase {
  std::string what;
  std::string config;
  std::string message;
};

TEST(EnsembleGraphTest, RefusesBrokenGraphsWithTheReason) {
  const std::vector<BrokenCase> cases = {
      {"cycle",
       Ensemble(Step("m", In("a", "A") + In("b", "y2"), Out("y", "y1")) +
                Step("m", In("a", "y1") + In("b", "B"), Out("y", "y2")) +
                Step("m", In("a", "y2") + In("b", "B"), Out("y", "Y"))),
       "the steps form a cycle: step[0] (model 'm') reads 'y2' from step[1] (model 'm'), which "
       "reads 'y1' from step[0] (model 'm')"},
      {"unknown tensor", Ensemble(Step("m", In("a", "A") + In("b", "nowhere"), Out("y", "Y"))),
       "reads ensemble tensor 'nowhere', which is neither an ensemble input nor written"},
      {"output never written", Ensemble(Step("m", In("a", "A") + In("b", "B"), Out("y", "Z"))),
       "ensemble output 'Y' is not written by any step"},
      {"input unused", Ensemble(Step("m", In("a", "A") + In("b", "A"), Out("y", "Y"))),
       "ensemble input 'B' is not read by any step"},
      {"written twice",
       Ensemble(Step("m", In("a", "A"), Out("y", "Y")) + Step("m", In("a", "B"), Out("y", "Y"))),
       "ensemble tensor 'Y' is written by step[0] (model 'm') and by step[1] (model 'm')"},
      {"writes an input", Ensemble(Step("m", In("a", "A") + In("b", "B"), Out("y", "A"))),
       "writes ensemble input 'A'"},
      {"no steps", Ensemble(""), "at least one step"},
      {"no model name", Ensemble(Step("", In("a", "A") + In("b", "B"), Out("y", "Y"))),
       "step[0]: model_name is empty"},
      {"no output map", Ensemble(Step("m", In("a", "A") + In("b", "B"), "")),
       "output_map is empty"},
      {"version 0",
       Ensemble("step { model_name: \"m\" " + In("a", "A") + In("b", "B") + Out("y", "Y") + "}"),
       "model_version must be -1"},
      {"instance group", Diamond() + "instance_group { kind: KIND_CPU }",
       "instance_group must not be set for an ensemble"},
  };
  for (const BrokenCase& c : cases) {
    absl::Status status = Validate(c.config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.what << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.what;
    EXPECT_THAT(status.message(), HasSubstr("model 'e'")) << c.what;
  }
}

// Composing models of Diamond(): "join" (a, b -> y) and "id" (x -> y), FP32 [4], batching 8.
struct Composing {
  inference::ModelConfig join = Parse(
      "name: \"join\" backend: \"identity\" max_batch_size: 8\n"
      "input { name: \"a\" data_type: TYPE_FP32 dims: [ 4 ] }\n"
      "input { name: \"b\" data_type: TYPE_FP32 dims: [ -1 ] }\n"
      "output { name: \"y\" data_type: TYPE_FP32 dims: [ 4 ] }\n");
  inference::ModelConfig id = Parse(
      "name: \"id\" backend: \"identity\" max_batch_size: 8\n"
      "input { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] }\n"
      "output { name: \"y\" data_type: TYPE_FP32 dims: [ 4 ] }\n");

  absl::Status Check(const inference::ModelConfig& ensemble) const {
    absl::StatusOr<EnsembleGraph> graph = BuildEnsembleGraph(ensemble);
    if (!graph.ok()) return graph.status();
    std::vector<const inference::ModelConfig*> configs;
    for (const auto& step : graph->steps) configs.push_back(step.model_name == "id" ? &id : &join);
    return ValidateComposingModels(ensemble, *graph, configs);
  }
};

TEST(ValidateComposingModelsTest, AcceptsMatchingModels) {
  Composing models;
  EXPECT_TRUE(models.Check(Parse(Diamond())).ok()) << models.Check(Parse(Diamond()));
}

TEST(ValidateComposingModelsTest, AcceptsANonBatchingModelWithTheBatchDimension) {
  Composing models;
  models.id.set_max_batch_size(0);
  models.id.mutable_input(0)->clear_dims();
  models.id.mutable_input(0)->add_dims(-1);
  models.id.mutable_input(0)->add_dims(4);
  models.id.mutable_output(0)->clear_dims();
  models.id.mutable_output(0)->add_dims(-1);
  models.id.mutable_output(0)->add_dims(4);
  EXPECT_TRUE(models.Check(Parse(Diamond())).ok()) << models.Check(Parse(Diamond()));
}

TEST(ValidateComposingModelsTest, RefusesMismatchesWithTheReason) {
  struct Case {
    std::string what;
    std::function<void(Composing&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"data type",
       [](Composing& m) { m.id.mutable_output(0)->set_data_type(inference::TYPE_INT32); },
       "ensemble tensor 'left' has data type TYPE_INT32 in model 'id' but TYPE_FP32 in model "
       "'join'"},
      {"shape", [](Composing& m) { m.id.mutable_output(0)->set_dims(0, 5); },
       "has shape [-1,5] in model 'id' but [-1,4] in model 'join'"},
      {"unknown input", [](Composing& m) { m.id.mutable_input(0)->set_name("z"); },
       "input_map names 'x', which is not an input of model 'id'"},
      {"unknown output", [](Composing& m) { m.id.mutable_output(0)->set_name("z"); },
       "output_map names 'y', which is not an output of model 'id'"},
      {"unmapped input",
       [](Composing& m) {
         auto* extra = m.id.add_input();
         extra->set_name("extra");
         extra->set_data_type(inference::TYPE_FP32);
         extra->add_dims(1);
       },
       "input 'extra' of model 'id' is not mapped to any ensemble tensor"},
      {"max_batch_size", [](Composing& m) { m.join.set_max_batch_size(2); },
       "the ensemble's max_batch_size is 4 but step[3] (model 'join') allows at most 2"},
  };
  for (const Case& c : cases) {
    Composing models;
    c.change(models);
    absl::Status status = models.Check(Parse(Diamond()));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.what << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.what;
  }
}

TEST(ValidateComposingModelsTest, AnOptionalInputNeedNotBeMapped) {
  Composing models;
  auto* extra = models.id.add_input();
  extra->set_name("extra");
  extra->set_data_type(inference::TYPE_FP32);
  extra->add_dims(1);
  extra->set_optional(true);
  EXPECT_TRUE(models.Check(Parse(Diamond())).ok());
}

}  // namespace
}  // namespace sonic::server
