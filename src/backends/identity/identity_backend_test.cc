#include "backends/identity/identity_backend.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "inference/model_config.pb.h"
#include "server/backend/backend_model.h"
#include "server/backend/collecting_output_allocator.h"

namespace sonic::backends {
namespace {

using server::BackendInstance;
using server::BackendModel;
using server::CollectingOutputAllocator;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

inference::ModelConfig ParseConfig(const std::string& text) {
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

constexpr char kFp32Config[] = R"pb(
  name: "identity_fp32"
  backend: "identity"
  max_batch_size: 8
  input {
    name: "INPUT0"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }
  output {
    name: "OUTPUT0"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }
)pb";

struct Loaded {
  std::unique_ptr<BackendModel> model;
  std::unique_ptr<BackendInstance> instance;
};

Loaded Load(const std::string& config_text) {
  absl::StatusOr<std::unique_ptr<BackendModel>> model =
      BackendModel::Create(IdentityBackendApi(), "m", 1, "/nowhere/m/1", ParseConfig(config_text));
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return {};
  auto instance = BackendInstance::Create(**model, "m_0", SONIC_BACKEND_INSTANCE_CPU, -1);
  EXPECT_TRUE(instance.ok()) << instance.status();
  return {*std::move(model), *std::move(instance)};
}

TEST(IdentityBackendTest, CopiesShapeAndBytes) {
  Loaded loaded = Load(kFp32Config);
  ASSERT_NE(loaded.instance, nullptr);
  alignas(64) float data[6] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[] = {2, 3};
  const SonicBackendTensor input = {"INPUT0", 11, shape, 2, data, sizeof(data)};
  const char* const outputs[] = {"OUTPUT0"};
  CollectingOutputAllocator allocator;
  ASSERT_TRUE(loaded.instance->Execute({&input, 1}, outputs, 2, allocator).ok());
  const CollectingOutputAllocator::Output* out = allocator.Find("OUTPUT0");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->type, DataType::kFp32);
  EXPECT_THAT(out->shape, ElementsAre(2, 3));
  EXPECT_THAT(*allocator.Values<float>("OUTPUT0"), ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(IdentityBackendTest, CopiesBytesTensors) {
  Loaded loaded = Load(R"pb(
    input {
      name: "IN"
      data_type: TYPE_STRING
      dims: [ -1 ]
    }
    output {
      name: "OUT"
      data_type: TYPE_STRING
      dims: [ -1 ]
    }
  )pb");
  ASSERT_NE(loaded.instance, nullptr);
  const std::string serialized = std::string("\x02\x00\x00\x00hi\x00\x00\x00\x00", 10);
  const int64_t shape[] = {2};
  const SonicBackendTensor input = {"IN", 13, shape, 1, serialized.data(), serialized.size()};
  const char* const outputs[] = {"OUT"};
  CollectingOutputAllocator allocator;
  ASSERT_TRUE(loaded.instance->Execute({&input, 1}, outputs, 1, allocator).ok());
  const CollectingOutputAllocator::Output* out = allocator.Find("OUT");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->type, DataType::kBytes);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out->bytes.data()), out->bytes.size()),
            serialized);
}

TEST(IdentityBackendTest, DelaySlowsEveryExecution) {
  Loaded loaded = Load(R"pb(
    input {
      name: "IN"
      data_type: TYPE_INT32
      dims: [ 4 ]
    }
    output {
      name: "OUT"
      data_type: TYPE_INT32
      dims: [ 4 ]
    }
    parameters {
      key: "execute_delay_ms"
      value { string_value: "120" }
    }
  )pb");
  ASSERT_NE(loaded.instance, nullptr);
  alignas(64) int32_t data[4] = {1, 2, 3, 4};
  const int64_t shape[] = {4};
  const SonicBackendTensor input = {"IN", 8, shape, 1, data, sizeof(data)};
  const char* const outputs[] = {"OUT"};
  CollectingOutputAllocator allocator;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(loaded.instance->Execute({&input, 1}, outputs, 1, allocator).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(120));
  EXPECT_THAT(*allocator.Values<int32_t>("OUT"), ElementsAre(1, 2, 3, 4));
}

TEST(IdentityBackendTest, TypeMismatchFailsAtCreate) {
  absl::StatusOr<std::unique_ptr<BackendModel>> model =
      BackendModel::Create(IdentityBackendApi(), "bad", 3, "/nowhere", ParseConfig(R"pb(
                             input {
                               name: "IN"
                               data_type: TYPE_FP32
                               dims: [ 4 ]
                             }
                             output {
                               name: "OUT"
                               data_type: TYPE_INT64
                               dims: [ 4 ]
                             }
                           )pb"));
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("'bad' version 3"));
  EXPECT_THAT(model.status().message(), HasSubstr("'OUT' is TYPE_INT64"));
  EXPECT_THAT(model.status().message(), HasSubstr("'IN', is TYPE_FP32"));
}

TEST(IdentityBackendTest, BadDelayAndCountMismatchFailAtCreate) {
  EXPECT_EQ(BackendModel::Create(IdentityBackendApi(), "m", 1, "/", ParseConfig(R"pb(
                                   input {
                                     name: "IN"
                                     data_type: TYPE_FP32
                                     dims: [ 4 ]
                                   }
                                   output {
                                     name: "OUT"
                                     data_type: TYPE_FP32
                                     dims: [ 4 ]
                                   }
                                   parameters {
                                     key: "execute_delay_ms"
                                     value { string_value: "soon" }
                                   }
                                 )pb"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BackendModel::Create(IdentityBackendApi(), "m", 1, "/", ParseConfig(R"pb(
                                   input {
                                     name: "IN"
                                     data_type: TYPE_FP32
                                     dims: [ 4 ]
                                   }
                                 )pb"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IdentityBackendTest, UnknownOutputAndMissingInputAreInvalidArgument) {
  Loaded loaded = Load(kFp32Config);
  ASSERT_NE(loaded.instance, nullptr);
  CollectingOutputAllocator allocator;
  const char* const unknown[] = {"NOPE"};
  absl::Status status = loaded.instance->Execute({}, unknown, 1, allocator);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("NOPE"));
  const char* const outputs[] = {"OUTPUT0"};
  status = loaded.instance->Execute({}, outputs, 1, allocator);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("INPUT0"));
}

// The allocator adapter refuses a byte size that does not match the shape, and the backend
// reports that as INTERNAL.
TEST(IdentityBackendTest, InconsistentByteSizeIsRefused) {
  Loaded loaded = Load(kFp32Config);
  ASSERT_NE(loaded.instance, nullptr);
  alignas(64) float data[4] = {1, 2, 3, 4};
  const int64_t shape[] = {1, 3};  // 12 bytes, but 16 given.
  const SonicBackendTensor input = {"INPUT0", 11, shape, 2, data, sizeof(data)};
  const char* const outputs[] = {"OUTPUT0"};
  CollectingOutputAllocator allocator;
  absl::Status status = loaded.instance->Execute({&input, 1}, outputs, 1, allocator);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(allocator.Find("OUTPUT0"), nullptr);
}

}  // namespace
}  // namespace sonic::backends
