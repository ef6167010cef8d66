#include "server/repository/model_config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/repository/temp_directory_for_test.h"

namespace sonic::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A Triton config as CMSSW writes it for a ragged ParticleNet-like tagger, comments included.
constexpr std::string_view kParticleNetConfig = R"pb(
  # ParticleNet AK4 jet tagger
  name: "particlenet"
  platform: "pytorch_libtorch"
  max_batch_size: 800 input
  [ {
    name: "pf_points__0"
    data_type: TYPE_FP32
    dims: [ 2, -1 ]
    allow_ragged_batch: true
  }
    , {
      name: "pf_features__1"
      data_type: TYPE_FP32
      dims: [ 20, -1 ]
      allow_ragged_batch: true
    }
    , {
      name: "pf_mask__2"
      data_type: TYPE_FP32
      dims: [ 1, 100 ]
      reshape: { shape: [ 100 ] }
    }] output
  [ {
    name: "softmax__0"
    data_type: TYPE_FP32
    dims: [ 10 ]
  }] batch_input
  [ {
    kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO
    target_name: "pf_offsets__3"
    data_type: TYPE_INT32
    source_input: "pf_points__0"
  }]
  dynamic_batching {
    preferred_batch_size: [ 100, 200 ]
    max_queue_delay_microseconds: 100
    priority_levels: 2
    default_priority_level: 1
    priority_queue_policy {
      key: 2
      value: { max_queue_size: 64 }
    }
  } instance_group
  [ { count: 2 kind: KIND_CPU }
    , {
      kind: KIND_GPU
      gpus: [ 0 ]
    }]
  parameters: {
    key: "INFERENCE_MODE"
    value: { string_value: "true" }
  }
  optimization {
    execution_accelerators {
      gpu_execution_accelerator:
      [ { name: "tensorrt" }]
    }
  } model_warmup
  [ { name: "zeros" batch_size: 1 count: 1 }]
)pb";

TEST(ParseModelConfigTest, ParsesRealisticTritonConfig) {
  absl::StatusOr<inference::ModelConfig> config = ParseModelConfig(kParticleNetConfig, "pn");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name(), "particlenet");
  EXPECT_EQ(config->max_batch_size(), 800);
  ASSERT_EQ(config->input_size(), 3);
  EXPECT_EQ(config->input(1).dims(0), 20);
  EXPECT_EQ(config->input(1).dims(1), -1);
  EXPECT_TRUE(config->input(0).allow_ragged_batch());
  EXPECT_TRUE(config->input(2).has_reshape());
  EXPECT_EQ(config->batch_input(0).kind(),
            inference::BatchInput::BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO);
  EXPECT_EQ(config->dynamic_batching().priority_queue_policy().at(2).max_queue_size(), 64u);
  EXPECT_EQ(config->parameters().at("INFERENCE_MODE").string_value(), "true");
  EXPECT_EQ(config->instance_group(1).kind(), inference::ModelInstanceGroup::KIND_GPU);
  // Nothing is normalized by parsing alone.
  EXPECT_TRUE(config->backend().empty());
}

TEST(ParseModelConfigTest, ReportsLineAndColumnOfSyntaxError) {
  absl::StatusOr<inference::ModelConfig> config =
      ParseModelConfig("name: \"m\"\nmax_batch_size: 4\ninput [ { name: \"x\" dims: [ 4 ] ", "m");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              StartsWith("model 'm': config.pbtxt line 3 column"));
}

// Found by model_config_fuzzer: protobuf's text parser takes any bytes in string fields, and
// the ModelConfig RPC then served bytes that clients cannot decode.
TEST(ParseModelConfigTest, RejectsTextThatIsNotUtf8) {
  absl::StatusOr<inference::ModelConfig> config =
      ParseModelConfig("name: \"m\"\noutput [ { name: \"y\\xff\" } ]", "m");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "model 'm': config.pbtxt: output[0].name is not valid UTF-8");
  // Raw bytes too, in a map's value.
  config = ParseModelConfig("parameters { key: \"k\" value: { string_value: \"\xc3(\" } }", "m");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "model 'm': config.pbtxt: parameters[0].value.string_value is not valid UTF-8");
}

TEST(ParseModelConfigTest, RejectsUnknownFieldWithItsLine) {
  absl::StatusOr<inference::ModelConfig> config =
      ParseModelConfig("name: \"m\"\n\n  max_batch_sise: 4\n", "m");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              StartsWith("model 'm': config.pbtxt line 3 column "));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("max_batch_sise"));
}

TEST(ParseModelConfigTest, RejectsUnknownEnumValue) {
  absl::StatusOr<inference::ModelConfig> config =
      ParseModelConfig("input [ { name: \"x\" data_type: TYPE_FLOAT32 } ]", "m");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("line 1 column"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("TYPE_FLOAT32"));
}

TEST(ParseModelConfigTest, EmptyTextIsAnEmptyConfig) {
  absl::StatusOr<inference::ModelConfig> config = ParseModelConfig("", "m");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->ByteSizeLong(), 0u);
}

TEST(NormalizeModelConfigTest, FillsWhatTritonFills) {
  absl::StatusOr<inference::ModelConfig> config = ParseModelConfig(kParticleNetConfig, "pn");
  ASSERT_TRUE(config.ok()) << config.status();
  NormalizeModelConfig(*config);
  EXPECT_EQ(config->backend(), "pytorch");
  EXPECT_EQ(config->platform(), "pytorch_libtorch");
  EXPECT_EQ(config->default_model_filename(), "model.pt");
  ASSERT_TRUE(config->version_policy().has_latest());
  EXPECT_EQ(config->version_policy().latest().num_versions(), 1u);
  ASSERT_EQ(config->instance_group_size(), 2);
  EXPECT_EQ(config->instance_group(0).name(), "particlenet_0");
  EXPECT_EQ(config->instance_group(0).count(), 2);
  EXPECT_EQ(config->instance_group(1).name(), "particlenet_1");
  EXPECT_EQ(config->instance_group(1).count(), 1);
  EXPECT_TRUE(ValidateModelConfig(*config).ok()) << ValidateModelConfig(*config);
}

TEST(NormalizeModelConfigTest, BackendAndPlatformFillEachOther) {
  struct Case {
    std::string platform, backend, want_platform, want_backend, want_file;
  };
  const Case cases[] = {
      {"pytorch_libtorch", "", "pytorch_libtorch", "pytorch", "model.pt"},
      {"", "pytorch", "pytorch_libtorch", "pytorch", "model.pt"},
      {"onnxruntime_onnx", "", "onnxruntime_onnx", "onnxruntime", "model.onnx"},
      {"", "onnxruntime", "onnxruntime_onnx", "onnxruntime", "model.onnx"},
      {"tensorrt_plan", "", "tensorrt_plan", "tensorrt", "model.plan"},
      {"tensorflow_savedmodel", "", "tensorflow_savedmodel", "tensorflow", "model.savedmodel"},
      {"tensorflow_graphdef", "", "tensorflow_graphdef", "tensorflow", "model.graphdef"},
      {"", "identity", "", "identity", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.platform + "/" + c.backend);
    inference::ModelConfig config;
    config.set_platform(c.platform);
    config.set_backend(c.backend);
    NormalizeModelConfig(config);
    EXPECT_EQ(config.platform(), c.want_platform);
    EXPECT_EQ(config.backend(), c.want_backend);
    EXPECT_EQ(config.default_model_filename(), c.want_file);
  }
}

TEST(NormalizeModelConfigTest, KeepsWhatIsSet) {
  inference::ModelConfig config;
  config.set_name("m");
  config.set_backend("pytorch");
  config.set_default_model_filename("traced.pt");
  config.mutable_version_policy()->mutable_all();
  inference::ModelInstanceGroup* group = config.add_instance_group();
  group->set_name("mine");
  group->set_count(3);
  NormalizeModelConfig(config);
  EXPECT_EQ(config.default_model_filename(), "traced.pt");
  EXPECT_TRUE(config.version_policy().has_all());
  ASSERT_EQ(config.instance_group_size(), 1);
  EXPECT_EQ(config.instance_group(0).name(), "mine");
  EXPECT_EQ(config.instance_group(0).count(), 3);
  EXPECT_EQ(config.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_AUTO);
}

TEST(NormalizeModelConfigTest, AddsOneAutoInstanceGroupWhenThereIsNone) {
  inference::ModelConfig config;
  config.set_name("m");
  NormalizeModelConfig(config);
  ASSERT_EQ(config.instance_group_size(), 1);
  EXPECT_EQ(config.instance_group(0).name(), "m_0");
  EXPECT_EQ(config.instance_group(0).count(), 1);
  EXPECT_EQ(config.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_AUTO);
}

constexpr std::string_view kSimpleConfig = R"pb(
  backend: "identity"
  max_batch_size: 4 input
  [ {
    name: "x"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }] output
  [ {
    name: "y"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }]
)pb";

TEST(LoadModelConfigTest, NameDefaultsToDirectoryName) {
  TempDirectoryForTest repo;
  repo.WriteFile("echo/config.pbtxt", kSimpleConfig);
  absl::StatusOr<inference::ModelConfig> config = LoadModelConfig(repo.path() / "echo");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name(), "echo");
  EXPECT_EQ(config->instance_group(0).name(), "echo_0");
  // A trailing separator does not change the name.
  config = LoadModelConfig((repo.path() / "echo").string() + "/");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name(), "echo");
}

TEST(LoadModelConfigTest, AcceptsMatchingName) {
  TempDirectoryForTest repo;
  repo.WriteFile("echo/config.pbtxt", std::string("name: \"echo\"\n") + std::string(kSimpleConfig));
  absl::StatusOr<inference::ModelConfig> config = LoadModelConfig(repo.path() / "echo");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name(), "echo");
}

TEST(LoadModelConfigTest, RejectsNameDifferentFromDirectory) {
  TempDirectoryForTest repo;
  repo.WriteFile("echo/config.pbtxt",
                 std::string("name: \"other\"\n") + std::string(kSimpleConfig));
  absl::StatusOr<inference::ModelConfig> config = LoadModelConfig(repo.path() / "echo");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), StartsWith("model 'echo': name: "));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("'other'"));
}

TEST(LoadModelConfigTest, MissingConfigNamesTheModel) {
  TempDirectoryForTest repo;
  repo.MakeDirectory("bare/1");
  absl::StatusOr<inference::ModelConfig> config = LoadModelConfig(repo.path() / "bare");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(config.status().message()), StartsWith("model 'bare': missing "));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("config.pbtxt"));
}

TEST(LoadModelConfigTest, ACustomConfigNameReadsConfigsNamePbtxtWhereItExists) {
  TempDirectoryForTest repo;
  repo.WriteFile("echo/config.pbtxt", kSimpleConfig);
  repo.WriteFile("echo/configs/site.pbtxt",
                 std::string(kSimpleConfig) + "instance_group [{ count: 3 kind: KIND_CPU }]\n");
  repo.WriteFile("plain/config.pbtxt", kSimpleConfig);
  absl::StatusOr<inference::ModelConfig> custom =
      LoadModelConfig(repo.path() / "echo", kSupportedBackends, kDefaultMaxConfigBytes, "site");
  ASSERT_TRUE(custom.ok()) << custom.status();
  ASSERT_EQ(custom->instance_group_size(), 1);
  EXPECT_EQ(custom->instance_group(0).count(), 3);
  // Without the name, and for a model without configs/site.pbtxt: config.pbtxt.
  absl::StatusOr<inference::ModelConfig> plain = LoadModelConfig(repo.path() / "echo");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->instance_group(0).count(), 1);
  plain =
      LoadModelConfig(repo.path() / "plain", kSupportedBackends, kDefaultMaxConfigBytes, "site");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->instance_group(0).count(), 1);
}

TEST(LoadModelConfigTest, ACustomConfigNameMustBeAFileName) {
  TempDirectoryForTest repo;
  repo.WriteFile("echo/config.pbtxt", kSimpleConfig);
  for (const char* name : {"../config", "a b", "..", "x/y"}) {
    absl::StatusOr<inference::ModelConfig> config =
        LoadModelConfig(repo.path() / "echo", kSupportedBackends, kDefaultMaxConfigBytes, name);
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(config.status().message()), HasSubstr("--model-config-name")) << name;
  }
  EXPECT_TRUE(CustomConfigNameError("h100").ok());
}

TEST(LoadModelConfigTest, MissingDirectoryIsNotFound) {
  TempDirectoryForTest repo;
  absl::StatusOr<inference::ModelConfig> config = LoadModelConfig(repo.path() / "ghost");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(config.status().message()), StartsWith("model 'ghost': "));
}

TEST(LoadModelConfigTest, ParseErrorNamesModelAndLine) {
  TempDirectoryForTest repo;
  repo.WriteFile("broken/config.pbtxt", "backend: \"identity\"\nmax_batch_size: four\n");
  absl::StatusOr<inference::ModelConfig> config = LoadModelConfig(repo.path() / "broken");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              StartsWith("model 'broken': config.pbtxt line 2 column"));
}

TEST(LoadModelConfigTest, NormalizesThenValidates) {
  TempDirectoryForTest repo;
  repo.WriteFile("neg/config.pbtxt",
                 std::string(kSimpleConfig) + "instance_group [ { count: -1 kind: KIND_CPU } ]\n");
  absl::StatusOr<inference::ModelConfig> config = LoadModelConfig(repo.path() / "neg");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "model 'neg': instance_group[0] 'neg_0': count must be at least 1, got -1");
}

TEST(LoadModelConfigTest, UnsupportedBackendIsUnimplemented) {
  TempDirectoryForTest repo;
  repo.WriteFile("plan/config.pbtxt",
                 "platform: \"tensorrt_plan\"\nmax_batch_size: 4\n"
                 "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 3 ] } ]\n"
                 "output [ { name: \"y\" data_type: TYPE_FP32 dims: [ 3 ] } ]\n");
  absl::StatusOr<inference::ModelConfig> config = LoadModelConfig(repo.path() / "plan");
  ASSERT_EQ(config.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(config.status().message(),
            "model 'plan': backend 'tensorrt' is not supported by sonic-server");
  // The same model loads when the caller supports the backend (a plugin).
  const std::string_view with_tensorrt[] = {"pytorch", "tensorrt"};
  EXPECT_TRUE(LoadModelConfig(repo.path() / "plan", with_tensorrt).ok());
}

}  // namespace
}  // namespace sonic::server
