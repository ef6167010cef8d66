// Loads libsonic_backend_pytorch.so through the registry, as the server does, and runs the test
// repository's TorchScript models.
#include <omp.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "inference/model_config.pb.h"
#include "server/backend/backend_model.h"
#include "server/backend/backend_registry.h"
#include "server/backend/collecting_output_allocator.h"
#include "test_models.h"

namespace sonic::backends::pytorch {
namespace {

using server::BackendInstance;
using server::BackendModel;
using server::BackendRegistry;
using server::CollectingOutputAllocator;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pointwise;

// ctest runs each test in its own process, possibly in parallel: every process gets its own
// directory.
std::filesystem::path ProcessTempDir() {
  return std::filesystem::path(::testing::TempDir()) /
         ("pytorch_backend_test_" + std::to_string(getpid()));
}

std::filesystem::path BackendDirectory() {
  const char* build_dir = std::getenv("SONIC_BUILD_DIR");
  return build_dir != nullptr ? std::filesystem::path(build_dir) / "lib"
                              : server::DefaultBackendDirectory();
}

class PytorchBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repository_ = new std::filesystem::path(ProcessTempDir() / "repository");
    ASSERT_TRUE(sonic::testing::WriteTestRepository(*repository_).ok());
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(ProcessTempDir());
    delete repository_;
  }

  void SetUp() override {
    auto registry = BackendRegistry::Create({.backend_directory = BackendDirectory()});
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    auto api = registry_->Get("pytorch");
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = *api;
  }

  // The config.pbtxt of a test repository model; the repository loader would also fill in
  // default_model_filename, which the backend defaults the same way.
  static inference::ModelConfig ReadConfig(const std::string& model) {
    std::ifstream in(*repository_ / model / "config.pbtxt");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    inference::ModelConfig config;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << model;
    return config;
  }

  absl::StatusOr<std::unique_ptr<BackendModel>> CreateModel(
      const std::string& name, const inference::ModelConfig& config,
      const std::filesystem::path& version_path) {
    return BackendModel::Create(api_, name, 1, version_path, config);
  }

  std::unique_ptr<BackendModel> LoadRepositoryModel(const std::string& name) {
    auto model = CreateModel(name, ReadConfig(name), *repository_ / name / "1");
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? *std::move(model) : nullptr;
  }

  static std::unique_ptr<BackendInstance> CreateInstance(BackendModel& model) {
    auto instance =
        BackendInstance::Create(model, model.name() + "_0", SONIC_BACKEND_INSTANCE_CPU, -1);
    EXPECT_TRUE(instance.ok()) << instance.status();
    return instance.ok() ? *std::move(instance) : nullptr;
  }

  // Writes a model with `forward_source` and the given config into a fresh directory.
  std::filesystem::path WriteCustomModel(const std::string& name, const std::string& source) {
    const std::filesystem::path version_path = ProcessTempDir() / "custom" / name / "1";
    EXPECT_TRUE(sonic::testing::WriteTorchScriptModule(version_path / "model.pt", source).ok());
    return version_path;
  }

  static std::filesystem::path* repository_;
  std::unique_ptr<BackendRegistry> registry_;
  const SonicBackendApi* api_ = nullptr;
};

std::filesystem::path* PytorchBackendTest::repository_ = nullptr;

inference::ModelConfig ParseConfig(const std::string& text) {
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

SonicBackendTensor Fp32Tensor(const char* name, const std::vector<float>& data,
                              const std::vector<int64_t>& shape) {
  return {name,         11,
          shape.data(), static_cast<uint32_t>(shape.size()),
          data.data(),  data.size() * sizeof(float)};
}

TEST_F(PytorchBackendTest, MlpBatchMatchesInProcessTorch) {
  std::unique_ptr<BackendModel> model = LoadRepositoryModel("torch_mlp");
  ASSERT_NE(model, nullptr);
  std::unique_ptr<BackendInstance> instance = CreateInstance(*model);
  ASSERT_NE(instance, nullptr);
  std::vector<float> input(3 * 16);
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  const std::vector<int64_t> shape = {3, 16};
  const SonicBackendTensor tensor = Fp32Tensor("INPUT__0", input, shape);
  const char* const outputs[] = {"OUTPUT__0"};
  CollectingOutputAllocator allocator;
  ASSERT_TRUE(instance->Execute({&tensor, 1}, outputs, 3, allocator).ok());
  const CollectingOutputAllocator::Output* out = allocator.Find("OUTPUT__0");
  ASSERT_NE(out, nullptr);
  EXPECT_THAT(out->shape, ElementsAre(3, 4));
  absl::StatusOr<std::vector<float>> expected =
      sonic::testing::RunTorchMlpInProcess(*repository_, input);
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_THAT(*allocator.Values<float>("OUTPUT__0"), Pointwise(::testing::FloatEq(), *expected));
}

// With a CPU-only LibTorch (Debian's) a GPU instance is refused with FAILED_PRECONDITION, the
// code on which the server puts a KIND_AUTO instance on the CPU. With a CUDA LibTorch on a GPU
// machine the instance runs on cuda:0 and agrees with in-process torch on the CPU.
TEST_F(PytorchBackendTest, GpuInstanceRunsOnTheGpuOrIsAClearFailedPrecondition) {
  std::unique_ptr<BackendModel> model = LoadRepositoryModel("torch_mlp");
  ASSERT_NE(model, nullptr);
  auto instance = BackendInstance::Create(*model, "torch_mlp_gpu", SONIC_BACKEND_INSTANCE_GPU, 0);
  if (!instance.ok()) {
    EXPECT_EQ(instance.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(instance.status().message()),
                ::testing::AnyOf(HasSubstr("GPU 0 requested but this LibTorch has no CUDA"),
                                 HasSubstr("GPU 0 requested but LibTorch sees 0 CUDA device")));
    return;
  }
  std::vector<float> input(4 * 16);
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i % 5) * 0.5f - 1.0f;
  const std::vector<int64_t> shape = {4, 16};
  const SonicBackendTensor tensor = Fp32Tensor("INPUT__0", input, shape);
  const char* const outputs[] = {"OUTPUT__0"};
  CollectingOutputAllocator allocator;
  ASSERT_TRUE((*instance)->Execute({&tensor, 1}, outputs, 4, allocator).ok());
  absl::StatusOr<std::vector<float>> expected =
      sonic::testing::RunTorchMlpInProcess(*repository_, input);
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_THAT(*allocator.Values<float>("OUTPUT__0"),
              Pointwise(::testing::FloatNear(1e-4f), *expected));
}

TEST_F(PytorchBackendTest, InstancesAreIndependent) {
  std::unique_ptr<BackendModel> model = LoadRepositoryModel("torch_mlp");
  ASSERT_NE(model, nullptr);
  std::unique_ptr<BackendInstance> first = CreateInstance(*model);
  auto second = BackendInstance::Create(*model, "torch_mlp_1", SONIC_BACKEND_INSTANCE_CPU, -1);
  ASSERT_TRUE(second.ok());
  const std::vector<float> input(16, 1.0f);
  const std::vector<int64_t> shape = {1, 16};
  const SonicBackendTensor tensor = Fp32Tensor("INPUT__0", input, shape);
  const char* const outputs[] = {"OUTPUT__0"};
  CollectingOutputAllocator a, b;
  ASSERT_TRUE(first->Execute({&tensor, 1}, outputs, 1, a).ok());
  ASSERT_TRUE((*second)->Execute({&tensor, 1}, outputs, 1, b).ok());
  EXPECT_EQ(*a.Values<float>("OUTPUT__0"), *b.Values<float>("OUTPUT__0"));
}

// Instances of one model execute at the same time (one Execute per instance at a time).
TEST_F(PytorchBackendTest, InstancesExecuteConcurrently) {
  std::unique_ptr<BackendModel> model = LoadRepositoryModel("torch_mlp");
  ASSERT_NE(model, nullptr);
  std::vector<std::unique_ptr<BackendInstance>> instances;
  for (int i = 0; i < 3; ++i) {
    auto instance = BackendInstance::Create(*model, "torch_mlp_" + std::to_string(i),
                                            SONIC_BACKEND_INSTANCE_CPU, -1);
    ASSERT_TRUE(instance.ok()) << instance.status();
    instances.push_back(*std::move(instance));
  }
  const std::vector<float> input(2 * 16, 0.75f);
  const std::vector<int64_t> shape = {2, 16};
  const SonicBackendTensor tensor = Fp32Tensor("INPUT__0", input, shape);
  const char* const outputs[] = {"OUTPUT__0"};
  absl::StatusOr<std::vector<float>> expected =
      sonic::testing::RunTorchMlpInProcess(*repository_, input);
  ASSERT_TRUE(expected.ok()) << expected.status();
  std::vector<std::thread> threads;
  for (auto& instance : instances) {
    threads.emplace_back([&, instance = instance.get()] {
      for (int run = 0; run < 20; ++run) {
        CollectingOutputAllocator allocator;
        ASSERT_TRUE(instance->Execute({&tensor, 1}, outputs, 2, allocator).ok());
        EXPECT_THAT(*allocator.Values<float>("OUTPUT__0"),
                    Pointwise(::testing::FloatEq(), *expected));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
}

TEST_F(PytorchBackendTest, TwoIoMapsInputsByNameAndOutputsByIndex) {
  std::unique_ptr<BackendModel> model = LoadRepositoryModel("torch_two_io");
  ASSERT_NE(model, nullptr);
  std::unique_ptr<BackendInstance> instance = CreateInstance(*model);
  ASSERT_NE(instance, nullptr);
  const std::vector<float> a = {1, 2, 3, 4}, b = {10, 20, 30, 40};
  const std::vector<int64_t> shape = {2, 2};
  // Passed in the opposite order: matching is by name, not by position in the call.
  const SonicBackendTensor inputs[] = {Fp32Tensor("b", b, shape), Fp32Tensor("a", a, shape)};
  const char* const outputs[] = {"OUTPUT__1", "OUTPUT__0"};
  CollectingOutputAllocator allocator;
  ASSERT_TRUE(instance->Execute(inputs, outputs, 2, allocator).ok());
  EXPECT_THAT(*allocator.Values<float>("OUTPUT__0"), ElementsAre(11, 22, 33, 44));
  EXPECT_THAT(*allocator.Values<float>("OUTPUT__1"), ElementsAre(10, 40, 90, 160));
}

// The first config input is 1 and the second 10. forward(self, y, x) with config inputs x, y:
// names decide (y - 2x = 8). forward(self, p, q) with config inputs INPUT__1, INPUT__0: the index
// convention decides (INPUT__0 - 2 * INPUT__1 = 8). Matching by config order would give -19.
TEST_F(PytorchBackendTest, NamedAndPositionalInputMapping) {
  const std::string source = "def forward(self, {0}, {1}):\n    return {0} - 2.0 * {1}\n";
  struct Case {
    std::string arguments[2];
    std::string inputs[2];
  } cases[] = {
      {{"y", "x"}, {"x", "y"}},
      {{"p", "q"}, {"INPUT__1", "INPUT__0"}},
  };
  for (const Case& c : cases) {
    std::string forward = source;
    for (int i = 0; i < 2; ++i) {
      const std::string placeholder = "{" + std::to_string(i) + "}";
      for (size_t pos; (pos = forward.find(placeholder)) != std::string::npos;) {
        forward.replace(pos, placeholder.size(), c.arguments[i]);
      }
    }
    const std::filesystem::path version_path = WriteCustomModel("map_" + c.inputs[0], forward);
    auto model =
        CreateModel("map",
                    ParseConfig(absl::StrCat(
                        "input { name: '", c.inputs[0], "' data_type: TYPE_FP32 dims: [1] }",
                        "input { name: '", c.inputs[1], "' data_type: TYPE_FP32 dims: [1] }",
                        "output { name: 'OUT' data_type: TYPE_FP32 dims: [1] }")),
                    version_path);
    ASSERT_TRUE(model.ok()) << model.status();
    std::unique_ptr<BackendInstance> instance = CreateInstance(**model);
    ASSERT_NE(instance, nullptr);
    const std::vector<float> one = {1}, ten = {10};
    const std::vector<int64_t> shape = {1};
    const SonicBackendTensor inputs[] = {Fp32Tensor(c.inputs[0].c_str(), one, shape),
                                         Fp32Tensor(c.inputs[1].c_str(), ten, shape)};
    const char* const outputs[] = {"OUT"};
    CollectingOutputAllocator allocator;
    ASSERT_TRUE(instance->Execute(inputs, outputs, 1, allocator).ok());
    EXPECT_THAT(*allocator.Values<float>("OUT"), ElementsAre(8.0f)) << forward;
  }
}

TEST_F(PytorchBackendTest, OutputTypeAndShapeMismatchesNameTheOutput) {
  const std::filesystem::path version_path =
      WriteCustomModel("mismatch", "def forward(self, x):\n    return x.double()\n");
  auto model = CreateModel("mismatch", ParseConfig(R"pb(
                             input {
                               name: "x"
                               data_type: TYPE_FP32
                               dims: [ 2 ]
                             }
                             output {
                               name: "y"
                               data_type: TYPE_FP32
                               dims: [ 2 ]
                             }
                           )pb"),
                           version_path);
  ASSERT_TRUE(model.ok()) << model.status();
  std::unique_ptr<BackendInstance> instance = CreateInstance(**model);
  ASSERT_NE(instance, nullptr);
  const std::vector<float> x = {1, 2};
  const std::vector<int64_t> shape = {2};
  const SonicBackendTensor input = Fp32Tensor("x", x, shape);
  const char* const outputs[] = {"y"};
  CollectingOutputAllocator allocator;
  absl::Status status = instance->Execute({&input, 1}, outputs, 1, allocator);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("output 'y' should be FP32"));
  EXPECT_THAT(status.message(), HasSubstr("Double"));

  const std::filesystem::path shape_path =
      WriteCustomModel("shape", "def forward(self, x):\n    return x.repeat(2)\n");
  auto shape_model = CreateModel("shape", ParseConfig(R"pb(
                                   input {
                                     name: "x"
                                     data_type: TYPE_FP32
                                     dims: [ 2 ]
                                   }
                                   output {
                                     name: "y"
                                     data_type: TYPE_FP32
                                     dims: [ 2 ]
                                   }
                                 )pb"),
                                 shape_path);
  ASSERT_TRUE(shape_model.ok()) << shape_model.status();
  std::unique_ptr<BackendInstance> shape_instance = CreateInstance(**shape_model);
  ASSERT_NE(shape_instance, nullptr);
  status = shape_instance->Execute({&input, 1}, outputs, 1, allocator);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("output 'y' should have shape [2]"));
  EXPECT_THAT(status.message(), HasSubstr("produced [4]"));
}

TEST_F(PytorchBackendTest, GarbageModelFileIsInvalidArgumentNamingTheFile) {
  auto model =
      CreateModel("broken_model", ReadConfig("broken_model"), *repository_ / "broken_model" / "1");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("broken_model/1/model.pt"));

  auto missing = CreateModel("missing", ReadConfig("broken_model"), *repository_ / "nowhere");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("does not exist"));
}

TEST_F(PytorchBackendTest, BytesAndUnsignedWideTypesAreRefusedAtCreate) {
  for (const char* type : {"TYPE_STRING", "TYPE_UINT32"}) {
    auto model = CreateModel(
        "types",
        ParseConfig(absl::StrCat("input { name: 'INPUT__0' data_type: ", type, " dims: [1] }",
                                 "output { name: 'OUTPUT__0' data_type: ", type, " dims: [1] }")),
        *repository_ / "torch_mlp" / "1");
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << type;
    EXPECT_THAT(model.status().message(), HasSubstr("does not support")) << type;
  }
}

// Errors raised inside TorchScript (a shape error here) come back as statuses, not exceptions.
TEST_F(PytorchBackendTest, ForwardExceptionBecomesInternalError) {
  std::unique_ptr<BackendModel> model = LoadRepositoryModel("torch_mlp");
  ASSERT_NE(model, nullptr);
  std::unique_ptr<BackendInstance> instance = CreateInstance(*model);
  ASSERT_NE(instance, nullptr);
  const std::vector<float> input(5, 1.0f);
  const std::vector<int64_t> shape = {1, 5};  // The MLP needs 16 features.
  const SonicBackendTensor tensor = Fp32Tensor("INPUT__0", input, shape);
  const char* const outputs[] = {"OUTPUT__0"};
  CollectingOutputAllocator allocator;
  absl::Status status = instance->Execute({&tensor, 1}, outputs, 1, allocator);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("forward() failed"));

  const char* const unknown[] = {"NOPE"};
  const std::vector<float> good(16, 1.0f);
  const std::vector<int64_t> good_shape = {1, 16};
  const SonicBackendTensor good_tensor = Fp32Tensor("INPUT__0", good, good_shape);
  status = instance->Execute({&good_tensor, 1}, unknown, 1, allocator);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PytorchBackendTest, ThreadParametersAreValidated) {
  inference::ModelConfig config = ReadConfig("torch_mlp");
  (*config.mutable_parameters())["INTRA_OP_THREAD_COUNT"].set_string_value("2");
  EXPECT_TRUE(CreateModel("torch_mlp", config, *repository_ / "torch_mlp" / "1").ok());
  (*config.mutable_parameters())["INTRA_OP_THREAD_COUNT"].set_string_value("many");
  auto model = CreateModel("torch_mlp", config, *repository_ / "torch_mlp" / "1");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("INTRA_OP_THREAD_COUNT"));
}

// A batch_output target follows the ragged input's layout, not [batch, dims]: the server splits
// it, so the backend must not reject a flat output.
TEST_F(PytorchBackendTest, ScatteredOutputsMayBeFlat) {
  const std::filesystem::path version_path =
      WriteCustomModel("scatter", "def forward(self, x):\n    return x * 2.0\n");
  inference::ModelConfig config = ParseConfig(R"pb(
    name: "scatter" backend: "pytorch" max_batch_size: 4
    input { name: "x" data_type: TYPE_FP32 dims: [ -1 ] allow_ragged_batch: true }
    output { name: "y" data_type: TYPE_FP32 dims: [ -1 ] }
    batch_output { target_name: "y" kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: "x" }
  )pb");
  auto model = CreateModel("scatter", config, version_path);
  ASSERT_TRUE(model.ok()) << model.status();
  std::unique_ptr<BackendInstance> instance = CreateInstance(**model);
  const std::vector<float> input = {1, 2, 3, 4, 5};  // two requests of 2 and 3 elements
  const std::vector<int64_t> shape = {5};
  const SonicBackendTensor tensor = Fp32Tensor("x", input, shape);
  const char* const outputs[] = {"y"};
  CollectingOutputAllocator allocator;
  absl::Status status = instance->Execute({&tensor, 1}, outputs, 2, allocator);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(allocator.Find("y")->shape, ElementsAre(5));
}

// Each instance's executing thread runs with its model's intra-op thread count, whatever other
// models ask for: instances x threads is what a model uses.
TEST_F(PytorchBackendTest, IntraOpThreadsArePerInstanceThread) {
  auto threads_seen_after_execute = [&](const std::string& count) {
    inference::ModelConfig config = ReadConfig("torch_mlp");
    (*config.mutable_parameters())["INTRA_OP_THREAD_COUNT"].set_string_value(count);
    auto model = CreateModel("torch_mlp", config, *repository_ / "torch_mlp" / "1");
    EXPECT_TRUE(model.ok()) << model.status();
    auto instance = CreateInstance(**model);
    int seen = 0;
    std::thread worker([&] {
      const std::vector<float> input(16, 1.0f);
      const std::vector<int64_t> shape = {1, 16};
      const SonicBackendTensor tensor = Fp32Tensor("INPUT__0", input, shape);
      const char* const outputs[] = {"OUTPUT__0"};
      CollectingOutputAllocator allocator;
      EXPECT_TRUE(instance->Execute({&tensor, 1}, outputs, 1, allocator).ok());
      seen = omp_get_max_threads();
    });
    worker.join();
    return seen;
  };
  EXPECT_EQ(threads_seen_after_execute("3"), 3);
  EXPECT_EQ(threads_seen_after_execute("1"), 1);
  EXPECT_EQ(threads_seen_after_execute("2"), 2);
}

}  // namespace
}  // namespace sonic::backends::pytorch
