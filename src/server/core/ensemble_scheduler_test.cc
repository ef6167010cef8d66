// Ensembles on a real repository of identity models, through the ModelManager: a fan-out /
// fan-in DAG runs in dependency order with each step on its composing model's scheduler, the
// statistics of both, a step's failure failing the ensemble request, only the steps a request
// needs running, and the ensemble's lifecycle against its composing models.
#include "server/core/ensemble_scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <optional>

#include "absl/strings/str_cat.h"
#include "server/core/model_manager.h"
#include "server/repository/temp_directory_for_test.h"

namespace sonic::server {
namespace {

using ::testing::HasSubstr;

// "id": IN -> OUT; "pair": A, B -> A_OUT, B_OUT; FP32 [2], max_batch_size 4.
constexpr char kId[] = R"pb(
  name: "id"
  backend: "identity"
  max_batch_size: 4
  input {
    name: "IN"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
  output {
    name: "OUT"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
)pb";
constexpr char kPair[] = R"pb(
  name: "pair"
  backend: "identity"
  max_batch_size: 4
  input {
    name: "A"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
  input {
    name: "B"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
  output {
    name: "A_OUT"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
  output {
    name: "B_OUT"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
)pb";
// X fans out to two "id" steps whose outputs meet again in "pair"; steps listed out of order.
constexpr char kDiamond[] = R"pb(
  name: "diamond"
  platform: "ensemble"
  max_batch_size: 4
  input {
    name: "X"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }
  output {
    name: "Y1"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
  output {
    name: "Y2"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
  ensemble_scheduling {
    step {
      model_name: "pair"
      model_version: -1
      input_map { key: "A" value: "left" }
      input_map { key: "B" value: "right" }
      output_map { key: "A_OUT" value: "Y1" }
      output_map { key: "B_OUT" value: "Y2" }
    }
    step {
      model_name: "id"
      model_version: -1
      input_map { key: "IN" value: "X" }
      output_map { key: "OUT" value: "left" }
    }
    step {
      model_name: "id"
      model_version: 1
      input_map { key: "IN" value: "X" }
      output_map { key: "OUT" value: "right" }
    }
  }
)pb";

class EnsembleTest : public ::testing::Test {
 protected:
  void Write(std::string_view name, std::string_view config) {
    dir_.WriteFile(std::filesystem::path(name) / "config.pbtxt", std::string(config));
    dir_.MakeDirectory(std::filesystem::path(name) / "1");
  }

  ModelManager& Manager() {
    if (!manager_) {
      repository_ = *ModelRepository::Create({dir_.path()});
      backends_ = *BackendRegistry::Create({dir_.path() / "no-plugins"});
      manager_ = std::make_unique<ModelManager>(
          ModelManager::Options{.repository = repository_.get(),
                                .backends = backends_.get(),
                                .mode = ModelControlMode::kExplicit});
    }
    return *manager_;
  }

  // A request of X = `x` (shape [1, x.size()], or `shape`) for `outputs`.
  absl::StatusOr<InferenceResponse> Infer(std::string_view model, std::vector<float> x,
                                          std::vector<std::string> outputs,
                                          std::optional<Shape> shape = std::nullopt) {
    absl::StatusOr<std::shared_ptr<ModelVersion>> version = Manager().Get(model);
    if (!version.ok()) return version.status();
    std::promise<absl::StatusOr<InferenceResponse>> done;
    auto request = std::make_unique<InferenceRequest>();
    request->model = *version;
    request->id = "r1";
    request->batch_size = 1;
    request->inputs.push_back({"X", DataType::kFp32,
                               shape.value_or(Shape{1, static_cast<int64_t>(x.size())}),
                               std::as_bytes(std::span<const float>(x))});
    for (const std::string& name : outputs) request->outputs.push_back({name, 0});
    request->on_complete = [&done](absl::StatusOr<InferenceResponse> r) {
      done.set_value(std::move(r));
    };
    (*version)->Enqueue(std::move(request));
    return done.get_future().get();
  }

  static std::vector<float> Floats(const OutputTensor& tensor) {
    std::vector<float> values(tensor.data.size() / sizeof(float));
    std::memcpy(values.data(), tensor.data.data(), tensor.data.size());
    return values;
  }

  StatisticsSnapshot Stats(std::string_view model) {
    return (*Manager().Get(model))->stats().Snapshot();
  }

  TempDirectoryForTest dir_;
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<BackendRegistry> backends_;
  std::unique_ptr<ModelManager> manager_;
};

TEST_F(EnsembleTest, RunsADiamondThroughTheComposingModels) {
  Write("id", kId);
  Write("pair", kPair);
  Write("diamond", kDiamond);
  ASSERT_TRUE(Manager().Load("diamond").ok());  // loads "id" and "pair" first
  ASSERT_TRUE(Manager().Get("id").ok());

  absl::StatusOr<InferenceResponse> response = Infer("diamond", {1.5f, -2.5f}, {"Y2", "Y1"});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->model_name, "diamond");
  EXPECT_EQ(response->id, "r1");
  ASSERT_EQ(response->outputs.size(), 2u);
  EXPECT_EQ(response->outputs[0].name, "Y2");  // in the order asked for
  EXPECT_EQ(response->outputs[0].shape, (Shape{1, 2}));
  EXPECT_EQ(Floats(response->outputs[0]), (std::vector<float>{1.5f, -2.5f}));
  EXPECT_EQ(Floats(response->outputs[1]), (std::vector<float>{1.5f, -2.5f}));

  StatisticsSnapshot id = Stats("id");
  EXPECT_EQ(id.success.count, 2u);  // two steps on "id"
  EXPECT_EQ(id.inference_count, 2u);
  EXPECT_EQ(Stats("pair").success.count, 1u);
  StatisticsSnapshot diamond = Stats("diamond");
  EXPECT_EQ(diamond.success.count, 1u);
  EXPECT_EQ(diamond.execution_count, 1u);
  EXPECT_EQ(diamond.inference_count, 1u);
  EXPECT_GE(diamond.compute_infer.ns, id.compute_infer.ns);  // the sum of its steps'
}

TEST_F(EnsembleTest, RunsOnlyTheStepsTheRequestedOutputsNeed) {
  Write("id", kId);
  Write("pair", kPair);
  Write("chain", R"pb(
    name: "chain"
    platform: "ensemble"
    max_batch_size: 4
    input {
      name: "X"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    output {
      name: "MID"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    output {
      name: "Y"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    ensemble_scheduling {
      step {
        model_name: "id"
        model_version: -1
        input_map { key: "IN" value: "X" }
        output_map { key: "OUT" value: "MID" }
      }
      step {
        model_name: "pair"
        model_version: -1
        input_map { key: "A" value: "MID" }
        input_map { key: "B" value: "X" }
        output_map { key: "A_OUT" value: "Y" }
      }
    }
  )pb");
  ASSERT_TRUE(Manager().Load("chain").ok());
  absl::StatusOr<InferenceResponse> response = Infer("chain", {3.0f, 4.0f}, {"MID"});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(Floats(response->outputs[0]), (std::vector<float>{3.0f, 4.0f}));
  EXPECT_EQ(Stats("id").success.count, 1u);
  EXPECT_EQ(Stats("pair").success.count, 0u);  // not needed for MID
}

TEST_F(EnsembleTest, StepsOfConcurrentRequestsShareTheComposingModelsBatches) {
  Write("dyn", R"pb(
    name: "dyn"
    backend: "identity"
    max_batch_size: 4
    input {
      name: "IN"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    output {
      name: "OUT"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    dynamic_batching {
      preferred_batch_size: [ 4 ]
      max_queue_delay_microseconds: 30000000
    }
  )pb");
  Write("via_dyn", R"pb(
    name: "via_dyn"
    platform: "ensemble"
    max_batch_size: 4
    input {
      name: "X"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    output {
      name: "Y"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    ensemble_scheduling {
      step {
        model_name: "dyn"
        model_version: -1
        input_map { key: "IN" value: "X" }
        output_map { key: "OUT" value: "Y" }
      }
    }
  )pb");
  ASSERT_TRUE(Manager().Load("via_dyn").ok());
  std::vector<std::future<absl::StatusOr<InferenceResponse>>> results;
  for (int i = 0; i < 4; ++i) {
    results.push_back(std::async(std::launch::async, [this, i] {
      return Infer("via_dyn", {float(i), float(-i)}, {"Y"});
    }));
  }
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<InferenceResponse> response = results[i].get();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(Floats(response->outputs[0]), (std::vector<float>{float(i), float(-i)}));
  }
  // The batch forms when the fourth request arrives (preferred size), long before the delay.
  StatisticsSnapshot dyn = Stats("dyn");
  EXPECT_EQ(dyn.execution_count, 1u);
  EXPECT_EQ(dyn.inference_count, 4u);
  EXPECT_EQ(Stats("via_dyn").execution_count, 4u);
}

TEST_F(EnsembleTest, ANonBatchingEnsembleRunsABatchingModelWithABatchOfOne) {
  Write("id", kId);
  Write("flat", R"pb(
    name: "flat"
    platform: "ensemble"
    max_batch_size: 0
    input {
      name: "X"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    output {
      name: "Y"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    ensemble_scheduling {
      step {
        model_name: "id"
        model_version: -1
        input_map { key: "IN" value: "X" }
        output_map { key: "OUT" value: "Y" }
      }
    }
  )pb");
  ASSERT_TRUE(Manager().Load("flat").ok());
  absl::StatusOr<InferenceResponse> response = Infer("flat", {5.0f, 6.0f}, {"Y"}, Shape{2});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->outputs[0].shape, (Shape{2}));  // the step ran [1, 2]; the batch goes again
  EXPECT_EQ(Floats(response->outputs[0]), (std::vector<float>{5.0f, 6.0f}));
  EXPECT_EQ(Stats("id").inference_count, 1u);
}

TEST_F(EnsembleTest, AStepThatFailsFailsTheRequestWithTheReason) {
  Write("id", kId);
  Write("pair", kPair);
  Write("diamond", kDiamond);
  ASSERT_TRUE(Manager().Load("diamond").ok());
  // X is [-1] in the ensemble but "id" takes [2]: the first steps cannot take 3 values.
  absl::StatusOr<InferenceResponse> response = Infer("diamond", {1, 2, 3}, {"Y1"});
  ASSERT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
  EXPECT_THAT(response.status().message(), HasSubstr("in ensemble 'diamond', step[1] (model 'id') "
                                                     "input 'IN' (ensemble tensor 'X') has shape "
                                                     "[1,3]"));
  EXPECT_EQ(Stats("diamond").fail.count, 1u);
  EXPECT_TRUE(Infer("diamond", {1, 2}, {"Y1"}).ok());  // and it keeps serving
}

TEST_F(EnsembleTest, IsUnavailableWhileAComposingModelIsNotReady) {
  Write("id", kId);
  Write("pair", kPair);
  Write("diamond", kDiamond);
  ASSERT_TRUE(Manager().Load("diamond").ok());
  ASSERT_TRUE(Manager().Unload("pair").ok());

  absl::StatusOr<std::shared_ptr<ModelVersion>> got = Manager().Get("diamond");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(got.status().message(), HasSubstr("ensemble 'diamond' depends on 'pair'"));
  bool listed = false;
  for (const ModelIndexEntry& entry : Manager().Index()) {
    if (entry.name != "diamond" || !entry.version) continue;
    listed = true;
    EXPECT_EQ(entry.state, ModelState::kUnavailable);
    EXPECT_THAT(entry.reason, HasSubstr("'pair'"));
  }
  EXPECT_TRUE(listed);

  ASSERT_TRUE(Manager().Load("pair").ok());
  EXPECT_TRUE(Infer("diamond", {1, 2}, {"Y1"}).ok());
}

TEST_F(EnsembleTest, RefusesUnknownModelsAndCircularDependenciesAtLoad) {
  Write("id", kId);
  Write("lost", R"pb(
    name: "lost"
    platform: "ensemble"
    max_batch_size: 4
    input {
      name: "X"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    output {
      name: "Y"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    ensemble_scheduling {
      step {
        model_name: "nowhere"
        model_version: -1
        input_map { key: "IN" value: "X" }
        output_map { key: "OUT" value: "Y" }
      }
    }
  )pb");
  // Each uses the other (built with StrCat: clang-format would reflow a split pb string).
  for (std::string name : {"e1", "e2"}) {
    const std::string other = name == "e1" ? "e2" : "e1";
    Write(name, absl::StrCat("name: \"", name, "\" platform: \"ensemble\" max_batch_size: 4\n",
                             "input { name: \"IN\" data_type: TYPE_FP32 dims: [ 2 ] }\n",
                             "output { name: \"OUT\" data_type: TYPE_FP32 dims: [ 2 ] }\n",
                             "ensemble_scheduling { step { model_name: \"", other,
                             "\" model_version: -1 input_map { key: \"IN\" value: \"IN\" } ",
                             "output_map { key: \"OUT\" value: \"OUT\" } } }\n"));
  }
  absl::Status lost = Manager().Load("lost");
  EXPECT_EQ(lost.code(), absl::StatusCode::kInvalidArgument) << lost;
  EXPECT_THAT(lost.message(), HasSubstr("ensemble 'lost' depends on 'nowhere' which has no "
                                        "loaded version"));
  absl::Status cycle = Manager().Load("e1");
  EXPECT_THAT(cycle.message(), HasSubstr("circular dependency: 'e1' -> 'e2' -> 'e1'")) << cycle;
  EXPECT_TRUE(Manager().Load("id").ok());  // the others load
}

}  // namespace
}  // namespace sonic::server
