// Model lifecycle on a real repository of identity models: what loads, what is UNAVAILABLE and
// why, which version a request gets, reloads, polling, and unloading under running requests.
#include "server/core/model_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <future>
#include <thread>

#include "server/repository/temp_directory_for_test.h"

namespace sonic::server {
namespace {

std::string IdentityConfig(std::string_view name, std::string_view extra = "") {
  return "name: \"" + std::string(name) + "\"\nbackend: \"identity\"\nmax_batch_size: 4\n" +
         "input { name: \"IN\" data_type: TYPE_FP32 dims: [ 2 ] }\n" +
         "output { name: \"OUT\" data_type: TYPE_FP32 dims: [ 2 ] }\n" + std::string(extra);
}

class ModelManagerTest : public ::testing::Test {
 protected:
  void AddModel(std::string_view name, std::string_view extra = "",
                std::vector<int> versions = {1}) {
    dir_.WriteFile(std::filesystem::path(name) / "config.pbtxt", IdentityConfig(name, extra));
    for (int v : versions) dir_.MakeDirectory(std::filesystem::path(name) / std::to_string(v));
  }

  ModelManager& Manager(ModelControlMode mode = ModelControlMode::kNone) {
    if (!manager_) {
      auto repository = ModelRepository::Create({dir_.path()});
      EXPECT_TRUE(repository.ok()) << repository.status();
      repository_ = *std::move(repository);
      backends_ = *BackendRegistry::Create({dir_.path() / "no-plugins"});
      manager_ = std::make_unique<ModelManager>(
          ModelManager::Options{.repository = repository_.get(),
                                .backends = backends_.get(),
                                .mode = mode,
                                .gpu_count = gpu_count_,
                                .max_instances_per_model = max_instances_per_model_,
                                .max_instances = max_instances_});
    }
    return *manager_;
  }

  const ModelIndexEntry* Find(const std::vector<ModelIndexEntry>& index, std::string_view name,
                              std::optional<int64_t> version) {
    for (const auto& entry : index) {
      if (entry.name == name && entry.version == version) return &entry;
    }
    return nullptr;
  }

  // A one-row request whose completion is reported through the returned future.
  std::future<absl::StatusOr<InferenceResponse>> Infer(std::shared_ptr<ModelVersion> model) {
    auto done = std::make_shared<std::promise<absl::StatusOr<InferenceResponse>>>();
    auto request = std::make_unique<InferenceRequest>();
    request->model = model;
    request->inputs.push_back(
        {"IN", DataType::kFp32, {1, 2}, std::as_bytes(std::span<const float>(row_))});
    request->outputs = {{"OUT"}};
    request->on_complete = [done](absl::StatusOr<InferenceResponse> r) {
      done->set_value(std::move(r));
    };
    model->Enqueue(std::move(request));
    return done->get_future();
  }

  TempDirectoryForTest dir_;
  int gpu_count_ = 0;  // the CUDA devices the manager is told about, before Manager()
  uint64_t max_instances_per_model_ = 64;
  uint64_t max_instances_ = 512;
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<BackendRegistry> backends_;
  std::unique_ptr<ModelManager> manager_;
  const float row_[2] = {1.5f, -2.5f};
};

TEST_F(ModelManagerTest, BrokenModelsAreUnavailableAndOthersServe) {
  AddModel("good");
  dir_.WriteFile("bad_syntax/config.pbtxt", "name: \"bad_syntax\" max_batch_size: [");
  dir_.MakeDirectory("bad_syntax/1");
  AddModel("no_versions", "", {});
  dir_.WriteFile("torch_missing/config.pbtxt",
                 "name: \"torch_missing\" backend: \"pytorch\" max_batch_size: 1\n"
                 "input { name: \"IN\" data_type: TYPE_FP32 dims: [ 2 ] }\n"
                 "output { name: \"OUT\" data_type: TYPE_FP32 dims: [ 2 ] }\n");
  dir_.MakeDirectory("torch_missing/1");
  Manager().LoadAll();

  ASSERT_TRUE(Manager().Get("good").ok());
  auto index = Manager().Index();
  ASSERT_NE(Find(index, "good", 1), nullptr);
  EXPECT_EQ(Find(index, "good", 1)->state, ModelState::kReady);

  const ModelIndexEntry* syntax = Find(index, "bad_syntax", std::nullopt);
  ASSERT_NE(syntax, nullptr);
  EXPECT_EQ(syntax->state, ModelState::kUnavailable);
  EXPECT_NE(syntax->reason.find("config.pbtxt line"), std::string::npos) << syntax->reason;
  EXPECT_EQ(Manager().Get("bad_syntax").status().code(), absl::StatusCode::kUnavailable);

  const ModelIndexEntry* empty = Find(index, "no_versions", std::nullopt);
  ASSERT_NE(empty, nullptr);
  EXPECT_NE(empty->reason.find("version"), std::string::npos) << empty->reason;

  // The plugin library does not exist in this test's backend directory.
  const ModelIndexEntry* torch = Find(index, "torch_missing", 1);
  ASSERT_NE(torch, nullptr);
  EXPECT_EQ(torch->state, ModelState::kUnavailable);
  EXPECT_NE(torch->reason.find("libsonic_backend_pytorch.so"), std::string::npos)
      << torch->reason;

  EXPECT_EQ(Manager().Get("nobody").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(Manager().AllModelsReady()) << "strict readiness: some models are unavailable";
}

TEST_F(ModelManagerTest, AModelInTwoRepositoriesIsUnavailableWithTheReason) {
  AddModel("twice");
  AddModel("once");
  TempDirectoryForTest other;
  other.WriteFile("twice/config.pbtxt", IdentityConfig("twice", ""));
  other.MakeDirectory("twice/1");
  auto repository = ModelRepository::Create({dir_.path(), other.path()});
  ASSERT_TRUE(repository.ok()) << repository.status();
  auto backends = BackendRegistry::Create({dir_.path() / "no-plugins"});
  ASSERT_TRUE(backends.ok());
  ModelManager manager({.repository = repository->get(), .backends = backends->get()});
  manager.LoadAll();

  EXPECT_TRUE(manager.Get("once").ok());
  auto index = manager.Index();
  const ModelIndexEntry* twice = Find(index, "twice", std::nullopt);
  ASSERT_NE(twice, nullptr);
  EXPECT_EQ(twice->state, ModelState::kUnavailable);
  EXPECT_NE(twice->reason.find("not unique across all model repositories"), std::string::npos)
      << twice->reason;
  EXPECT_EQ(manager.Get("twice").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ModelManagerTest, KindGpuWithoutAVisibleGpuIsUnavailableWithTheReason) {
  AddModel("gpu", "instance_group { kind: KIND_GPU }");
  AddModel("auto");  // no instance_group: KIND_AUTO, on the CPU here
  Manager().LoadAll();
  EXPECT_TRUE(Manager().Get("auto").ok());
  EXPECT_EQ(Manager().Get("gpu").status().code(), absl::StatusCode::kUnavailable);
  const std::vector<ModelIndexEntry> index = Manager().Index();
  const ModelIndexEntry* gpu = Find(index, "gpu", 1);
  ASSERT_NE(gpu, nullptr);
  EXPECT_NE(gpu->reason.find("no CUDA device is visible"), std::string::npos) << gpu->reason;
}

TEST_F(ModelManagerTest, ListedGpusMustExist) {
  gpu_count_ = 2;
  AddModel("third", "instance_group { kind: KIND_GPU gpus: [ 0, 2 ] }");
  Manager().LoadAll();
  const std::vector<ModelIndexEntry> index = Manager().Index();
  const ModelIndexEntry* third = Find(index, "third", 1);
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->state, ModelState::kUnavailable);
  EXPECT_NE(third->reason.find("GPU 2 does not exist"), std::string::npos) << third->reason;
}

// The identity backend refuses GPU instances (FAILED_PRECONDITION), as a CPU-only LibTorch does.
TEST_F(ModelManagerTest, KindAutoFallsBackToTheCpuWhenTheBackendCannotUseTheGpu) {
  gpu_count_ = 2;
  AddModel("auto", "instance_group { kind: KIND_AUTO count: 2 }");
  AddModel("gpu", "instance_group { kind: KIND_GPU }");
  Manager().LoadAll();
  auto model = Manager().Get("auto");
  ASSERT_TRUE(model.ok()) << model.status();
  auto result = Infer(*model).get();
  ASSERT_TRUE(result.ok()) << result.status();
  const std::vector<ModelIndexEntry> index = Manager().Index();
  const ModelIndexEntry* gpu = Find(index, "gpu", 1);
  ASSERT_NE(gpu, nullptr);
  EXPECT_EQ(gpu->state, ModelState::kUnavailable);
  EXPECT_NE(gpu->reason.find("runs on the CPU only"), std::string::npos) << gpu->reason;
}

TEST_F(ModelManagerTest, VersionSelection) {
  AddModel("m", "version_policy { latest { num_versions: 2 } }", {1, 2, 3});
  Manager().LoadAll();
  EXPECT_EQ(Manager().ReadyVersions("m"), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ((*Manager().Get("m"))->version(), 3);
  EXPECT_EQ((*Manager().Get("m", "2"))->version(), 2);
  EXPECT_EQ(Manager().Get("m", "1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Manager().Get("m", "two").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ModelManagerTest, ExplicitLoadUnloadAndConfigOverride) {
  AddModel("m");
  ModelManager& manager = Manager(ModelControlMode::kExplicit);
  EXPECT_TRUE(manager.AllModelsReady()) << "models never loaded do not count";
  EXPECT_EQ(manager.Get("m").status().code(), absl::StatusCode::kNotFound);
  auto index = manager.Index();
  ASSERT_NE(Find(index, "m", std::nullopt), nullptr);
  EXPECT_FALSE(Find(index, "m", std::nullopt)->state.has_value());

  ASSERT_TRUE(manager.Load("m").ok());
  EXPECT_EQ((*manager.Get("m"))->config().max_batch_size(), 4);
  std::string json = R"({"name":"m","backend":"identity","max_batch_size":2,
      "input":[{"name":"IN","data_type":"TYPE_FP32","dims":[2]}],
      "output":[{"name":"OUT","data_type":"TYPE_FP32","dims":[2]}]})";
  ASSERT_TRUE(manager.Load("m", json).ok());
  EXPECT_EQ((*manager.Get("m"))->config().max_batch_size(), 2);
  EXPECT_EQ(manager.Load("m", "{not json").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager.Get("m").ok()) << "a failed reload keeps the model serving";
  EXPECT_TRUE(manager.AllModelsReady());

  ASSERT_TRUE(manager.Unload("m").ok());
  EXPECT_EQ(manager.Get("m").status().code(), absl::StatusCode::kUnavailable);
  index = manager.Index();
  ASSERT_NE(Find(index, "m", 1), nullptr);
  EXPECT_EQ(Find(index, "m", 1)->reason, "unloaded");
  EXPECT_TRUE(manager.AllModelsReady()) << "a model unloaded on request does not count";
  EXPECT_EQ(manager.Load("absent").code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelManagerTest, UnloadWaitsForRunningRequests) {
  AddModel("slow", "parameters { key: \"execute_delay_ms\" value { string_value: \"200\" } }");
  Manager(ModelControlMode::kExplicit);
  ASSERT_TRUE(manager_->Load("slow").ok());
  auto model = *manager_->Get("slow");
  std::vector<std::future<absl::StatusOr<InferenceResponse>>> running;
  for (int i = 0; i < 3; ++i) running.push_back(Infer(model));
  model.reset();  // only the requests hold the version now, besides the manager

  ASSERT_TRUE(manager_->Unload("slow").ok());
  for (auto& future : running) {
    ASSERT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready)
        << "Unload returned before a running request finished";
    EXPECT_TRUE(future.get().ok());
  }
}

TEST_F(ModelManagerTest, PollLoadsChangesAndUnloadsRemovedModels) {
  AddModel("a");
  ModelManager& manager = Manager(ModelControlMode::kPoll);
  manager.Poll();
  ASSERT_TRUE(manager.Get("a").ok());

  AddModel("b");
  manager.Poll();
  EXPECT_TRUE(manager.Get("b").ok());

  dir_.WriteFile("a/config.pbtxt", IdentityConfig("a").replace(
                                       IdentityConfig("a").find("max_batch_size: 4"),
                                       17, "max_batch_size: 3"));
  manager.Poll();
  EXPECT_EQ((*manager.Get("a"))->config().max_batch_size(), 3);

  std::filesystem::remove_all(dir_.path() / "b");
  manager.Poll();
  EXPECT_EQ(manager.Get("b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Find(manager.Index(), "b", 1), nullptr);
}

TEST_F(ModelManagerTest, InstanceCountsBeyondTheBoundsAreRefusedWithTheReason) {
  max_instances_per_model_ = 4;
  max_instances_ = 6;
  AddModel("huge", "instance_group { kind: KIND_CPU count: 2147483647 }");
  AddModel("two_versions", "instance_group { kind: KIND_CPU count: 3 }\n"
                           "version_policy { all {} }", {1, 2});
  AddModel("four", "instance_group { kind: KIND_CPU count: 4 }");
  AddModel("three", "instance_group { kind: KIND_CPU count: 3 }");
  ModelManager& manager = Manager(ModelControlMode::kExplicit);

  absl::Status huge = manager.Load("huge");
  EXPECT_EQ(huge.code(), absl::StatusCode::kInvalidArgument) << huge;
  EXPECT_THAT(std::string(huge.message()), ::testing::HasSubstr("--max-instances-per-model"));
  const std::vector<ModelIndexEntry> index = manager.Index();
  const ModelIndexEntry* row = Find(index, "huge", std::nullopt);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->state, ModelState::kUnavailable);
  EXPECT_EQ(row->reason, huge.message());
  EXPECT_EQ(manager.Load("two_versions").code(), absl::StatusCode::kInvalidArgument)
      << "3 instances x 2 versions";

  ASSERT_TRUE(manager.Load("four").ok());
  absl::Status three = manager.Load("three");
  EXPECT_EQ(three.code(), absl::StatusCode::kResourceExhausted) << three;
  EXPECT_THAT(std::string(three.message()), ::testing::HasSubstr("--max-instances"));
  EXPECT_TRUE(manager.Load("four").ok()) << "a reload replaces its own instances";
  ASSERT_TRUE(manager.Unload("four").ok());
  EXPECT_TRUE(manager.Load("three").ok()) << "the unloaded model's instances are free again";

  // A config override is held to the same bounds.
  absl::Status overridden = manager.Load(
      "four", R"({"backend":"identity","max_batch_size":4,
                  "input":[{"name":"IN","data_type":"TYPE_FP32","dims":[2]}],
                  "output":[{"name":"OUT","data_type":"TYPE_FP32","dims":[2]}],
                  "instance_group":[{"kind":"KIND_CPU","count":100000}]})");
  EXPECT_EQ(overridden.code(), absl::StatusCode::kInvalidArgument) << overridden;
}

TEST_F(ModelManagerTest, ALabelFileThatIsAFifoMakesTheModelUnavailableWithoutBlocking) {
  AddModel("labelled", "");
  dir_.WriteFile("labelled/config.pbtxt",
                 "name: \"labelled\"\nbackend: \"identity\"\nmax_batch_size: 4\n"
                 "input { name: \"IN\" data_type: TYPE_FP32 dims: [ 2 ] }\n"
                 "output { name: \"OUT\" data_type: TYPE_FP32 dims: [ 2 ] "
                 "label_filename: \"labels.txt\" }\n");
  ASSERT_EQ(mkfifo((dir_.path() / "labelled" / "labels.txt").c_str(), 0600), 0);
  absl::Status loaded = Manager(ModelControlMode::kExplicit).Load("labelled");
  EXPECT_EQ(loaded.code(), absl::StatusCode::kUnavailable) << loaded;
  EXPECT_THAT(std::string(loaded.message()), ::testing::HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace sonic::server
