// The python plugin loaded through the registry, as the server loads it, and driven through both
// of its entry points: request by request (what sonic-server uses) and the assembled batch (what
// a server without SonicBackendGetRequestApi would use).
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "server/backend/backend_model.h"
#include "server/backend/backend_registry.h"
#include "server/backend/collecting_output_allocator.h"

// The interpreter is never finalized (python_host.h): its allocations are not leaks.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace sonic::server {
namespace {

constexpr const char* kModelPy = R"(
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "X").as_numpy()
            if (x < 0).any():
                responses.append(pb_utils.InferenceResponse(
                    error=pb_utils.TritonError("negative", pb_utils.TritonError.INVALID_ARG)))
            else:
                y = x + np.float32(len(requests))
                responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("Y", y)]))
        return responses
)";

constexpr const char* kConfig = R"(
name: "plus_count" backend: "python" max_batch_size: 4
input [ { name: "X" data_type: TYPE_FP32 dims: [ 2 ] } ]
output [ { name: "Y" data_type: TYPE_FP32 dims: [ 2 ] } ]
)";

std::filesystem::path BackendDirectory() {
  const char* build_dir = std::getenv("SONIC_BUILD_DIR");
  return build_dir != nullptr ? std::filesystem::path(build_dir) / "lib"
                              : DefaultBackendDirectory();
}

// Keeps each request's outputs and errors.
class RecordingResponder : public RequestResponder {
 public:
  void* Allocate(size_t index, std::string_view name, DataType type, std::span<const int64_t> shape,
                 uint64_t byte_size) override {
    shapes[index] = Shape(shape.begin(), shape.end());
    std::vector<float>& values = outputs[index];
    values.resize(byte_size / sizeof(float));
    return values.data();
  }
  void Fail(size_t index, absl::Status error) override { errors[index] = error; }

  std::map<size_t, std::vector<float>> outputs;
  std::map<size_t, Shape> shapes;
  std::map<size_t, absl::Status> errors;
};

SonicBackendTensor Tensor(const std::vector<float>& data, const Shape& shape) {
  return SonicBackendTensor{"X",          11,
                            shape.data(), static_cast<uint32_t>(shape.size()),
                            data.data(),  data.size() * sizeof(float)};
}

class PythonBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    version_path_ = std::filesystem::path(::testing::TempDir()) /
                    ("python_backend_unit_test_" + std::to_string(getpid())) / "plus_count" / "1";
    std::filesystem::create_directories(version_path_);
    std::ofstream(version_path_ / "model.py") << kModelPy;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kConfig, &config_));

    auto registry = BackendRegistry::Create({.backend_directory = BackendDirectory()});
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    auto api = registry_->Get("python");
    ASSERT_TRUE(api.ok()) << api.status();
    auto model = BackendModel::Create(*api, "plus_count", 1, version_path_, config_);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *std::move(model);
    auto instance =
        BackendInstance::Create(*model_, "plus_count_0_0", SONIC_BACKEND_INSTANCE_CPU, -1);
    ASSERT_TRUE(instance.ok()) << instance.status();
    instance_ = *std::move(instance);
  }

  void TearDown() override {
    instance_.reset();
    model_.reset();
    std::filesystem::remove_all(version_path_.parent_path().parent_path());
  }

  std::filesystem::path version_path_;
  inference::ModelConfig config_;
  std::unique_ptr<BackendRegistry> registry_;
  std::unique_ptr<BackendModel> model_;
  std::unique_ptr<BackendInstance> instance_;
};

TEST_F(PythonBackendTest, ExecutesRequestByRequestWithErrorsOfTheirOwn) {
  ASSERT_TRUE(instance_->executes_requests());
  const std::vector<float> a = {1, 2}, b = {-1, 5}, c = {10, 20, 30, 40};
  const Shape one = {1, 2}, two = {2, 2};
  const SonicBackendTensor ta = Tensor(a, one), tb = Tensor(b, one), tc = Tensor(c, two);
  const char* outputs[] = {"Y"};
  const std::vector<SonicBackendRequest> requests = {
      {"a", 1, &ta, 1, outputs, 1}, {"b", 1, &tb, 1, outputs, 1}, {"c", 2, &tc, 1, outputs, 1}};
  RecordingResponder responder;
  ASSERT_TRUE(instance_->ExecuteRequests(requests, responder).ok());

  // Three requests in one execute call: each got len(requests) = 3 added.
  EXPECT_EQ(responder.outputs[0], (std::vector<float>{4, 5}));
  EXPECT_EQ(responder.shapes[0], one);
  EXPECT_EQ(responder.outputs[2], (std::vector<float>{13, 23, 33, 43}));
  EXPECT_EQ(responder.shapes[2], two);
  EXPECT_EQ(responder.outputs.count(1), 0u);
  ASSERT_EQ(responder.errors.size(), 1u);
  EXPECT_EQ(responder.errors[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(responder.errors[1].message(), "negative");
}

TEST_F(PythonBackendTest, AssembledBatchIsOneRequest) {
  const std::vector<float> x = {1, 2, 3, 4};
  const Shape shape = {2, 2};
  const SonicBackendTensor tensor = Tensor(x, shape);
  const char* outputs[] = {"Y"};
  CollectingOutputAllocator allocator;
  ASSERT_TRUE(instance_->Execute(std::span(&tensor, 1), outputs, 2, allocator).ok());
  EXPECT_EQ(allocator.Values<float>("Y"), (std::vector<float>{2, 3, 4, 5}));

  const std::vector<float> negative = {1, -2};
  const Shape row = {1, 2};
  const SonicBackendTensor bad = Tensor(negative, row);
  CollectingOutputAllocator unused;
  absl::Status status = instance_->Execute(std::span(&bad, 1), outputs, 1, unused);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), "negative");
}

}  // namespace
}  // namespace sonic::server
