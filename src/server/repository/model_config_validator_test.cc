// ValidateModelConfig: one failing case per rule (code, model name and field in the message) and
// the valid configurations next to each rule's boundary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "server/repository/model_config_loader.h"

namespace sonic::server {
namespace {

using inference::BatchInput;
using inference::ModelConfig;
using inference::ModelInstanceGroup;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Code = absl::StatusCode;

// A valid, normalized config: model "mlp" with inputs "len" (ragged) and "x", output "y".
ModelConfig BaseConfig() {
  absl::StatusOr<ModelConfig> config = ParseModelConfig(R"pb(
                                                          name: "mlp"
                                                          backend: "pytorch"
                                                          max_batch_size: 8 input
                                                          [ {
                                                            name: "len"
                                                            data_type: TYPE_FP32
                                                            dims: [ -1 ]
                                                            allow_ragged_batch: true
                                                          }
                                                            , {
                                                              name: "x"
                                                              data_type: TYPE_FP32
                                                              dims: [ 4 ]
                                                            }] output
                                                          [ {
                                                            name: "y"
                                                            data_type: TYPE_FP32
                                                            dims: [ 2 ]
                                                          }]
                                                        )pb",
                                                        "mlp");
  EXPECT_TRUE(config.ok()) << config.status();
  NormalizeModelConfig(*config);
  return *config;
}

struct Case {
  std::string description;
  std::function<void(ModelConfig&)> mutate;
  Code code;
  std::string field;  // must appear in the message right after "model 'mlp': "
  std::string detail = "";
};

void ExpectRejected(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.description);
    ModelConfig config = BaseConfig();
    c.mutate(config);
    const absl::Status status = ValidateModelConfig(config);
    EXPECT_EQ(status.code(), c.code) << status;
    EXPECT_THAT(std::string(status.message()),
                StartsWith("model '" + config.name() + "': " + c.field));
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.detail));
  }
}

void ExpectAccepted(const std::string& description,
                    const std::function<void(ModelConfig&)>& mutate) {
  SCOPED_TRACE(description);
  ModelConfig config = BaseConfig();
  mutate(config);
  EXPECT_TRUE(ValidateModelConfig(config).ok()) << ValidateModelConfig(config);
}

void SetShape(google::protobuf::RepeatedField<int64_t>* shape, std::vector<int64_t> dims) {
  shape->Assign(dims.begin(), dims.end());
}

TEST(ValidateModelConfigTest, BaseConfigIsValid) {
  ExpectAccepted("base", [](ModelConfig&) {});
}

TEST(ValidateModelConfigTest, ExactMessageForBadDim) {
  ModelConfig config = BaseConfig();
  config.mutable_input(1)->set_dims(0, 0);
  EXPECT_EQ(
      ValidateModelConfig(config),
      absl::InvalidArgumentError("model 'mlp': input[1] 'x': dims must be positive or -1, got 0"));
}

TEST(ValidateModelConfigTest, RejectsBadNameBackendAndPlatform) {
  ExpectRejected({
      {"empty name", [](ModelConfig& c) { c.clear_name(); }, Code::kInvalidArgument, "name"},
      {"nothing",
       [](ModelConfig& c) {
         c.clear_backend();
         c.clear_platform();
       },
       Code::kInvalidArgument, "backend"},
      {"unknown platform",
       [](ModelConfig& c) {
         c.clear_backend();
         c.set_platform("caffe2");
       },
       Code::kInvalidArgument, "platform", "caffe2"},
      {"platform of another backend", [](ModelConfig& c) { c.set_platform("tensorrt_plan"); },
       Code::kInvalidArgument, "platform", "tensorrt"},
      {"unsupported backend",
       [](ModelConfig& c) {
         c.clear_platform();
         c.set_backend("dali");
       },
       Code::kUnimplemented, "backend 'dali' is not supported by sonic-server"},
      {"ensemble platform",
       [](ModelConfig& c) {
         c.clear_backend();
         c.set_platform("ensemble");
       },
       Code::kInvalidArgument, "instance_group must not be set for an ensemble"},
  });
}

TEST(ValidateModelConfigTest, RejectsUnsupportedFeatures) {
  ExpectRejected({
      {"sequence_batching", [](ModelConfig& c) { c.mutable_sequence_batching(); },
       Code::kUnimplemented, "sequence_batching is not supported"},
      {"ensemble_scheduling without the ensemble platform",
       [](ModelConfig& c) { c.mutable_ensemble_scheduling(); }, Code::kInvalidArgument,
       "ensemble_scheduling: needs platform 'ensemble'"},
      {"decoupled",
       [](ModelConfig& c) { c.mutable_model_transaction_policy()->set_decoupled(true); },
       Code::kUnimplemented, "model_transaction_policy.decoupled"},
      {"response cache", [](ModelConfig& c) { c.mutable_response_cache()->set_enable(true); },
       Code::kUnimplemented, "response_cache.enable"},
  });
  ExpectAccepted("decoupled false", [](ModelConfig& c) {
    c.mutable_model_transaction_policy()->set_decoupled(false);
  });
}

TEST(ValidateModelConfigTest, RejectsBadInputsAndOutputs) {
  ExpectRejected({
      {"negative max_batch_size", [](ModelConfig& c) { c.set_max_batch_size(-1); },
       Code::kInvalidArgument, "max_batch_size", "-1"},
      {"no input", [](ModelConfig& c) { c.clear_input(); }, Code::kInvalidArgument, "input"},
      {"no output", [](ModelConfig& c) { c.clear_output(); }, Code::kInvalidArgument, "output"},
      {"unnamed input", [](ModelConfig& c) { c.mutable_input(0)->clear_name(); },
       Code::kInvalidArgument, "input[0] ''", "name"},
      {"duplicate input", [](ModelConfig& c) { c.mutable_input(1)->set_name("len"); },
       Code::kInvalidArgument, "input[1] 'len'", "duplicate"},
      {"duplicate output", [](ModelConfig& c) { *c.add_output() = c.output(0); },
       Code::kInvalidArgument, "output[1] 'y'", "duplicate"},
      {"input type",
       [](ModelConfig& c) { c.mutable_input(1)->set_data_type(inference::TYPE_INVALID); },
       Code::kInvalidArgument, "input[1] 'x'", "data_type"},
      {"output type", [](ModelConfig& c) { c.mutable_output(0)->clear_data_type(); },
       Code::kInvalidArgument, "output[0] 'y'", "data_type"},
      {"output dim -2", [](ModelConfig& c) { c.mutable_output(0)->set_dims(0, -2); },
       Code::kInvalidArgument, "output[0] 'y'", "dims must be positive or -1, got -2"},
      {"empty dims without batching",
       [](ModelConfig& c) {
         c.set_max_batch_size(0);
         c.mutable_input(0)->set_allow_ragged_batch(false);
         c.mutable_input(1)->clear_dims();
       },
       Code::kInvalidArgument, "input[1] 'x'", "dims must not be empty"},
      {"ragged without batching", [](ModelConfig& c) { c.set_max_batch_size(0); },
       Code::kInvalidArgument, "input[0] 'len'", "allow_ragged_batch"},
  });
  ExpectAccepted("empty dims with batching",
                 [](ModelConfig& c) { c.mutable_input(1)->clear_dims(); });
  ExpectAccepted("no batching", [](ModelConfig& c) {
    c.set_max_batch_size(0);
    c.mutable_input(0)->set_allow_ragged_batch(false);
  });
}

TEST(ValidateModelConfigTest, RejectsInconsistentReshape) {
  ExpectRejected({
      {"element count",
       [](ModelConfig& c) {
         SetShape(c.mutable_input(1)->mutable_reshape()->mutable_shape(), {5});
       },
       Code::kInvalidArgument, "input[1] 'x'", "reshape"},
      {"bad reshape dim",
       [](ModelConfig& c) {
         SetShape(c.mutable_output(0)->mutable_reshape()->mutable_shape(), {0, 2});
       },
       Code::kInvalidArgument, "output[0] 'y'", "reshape.shape must be positive or -1, got 0"},
      {"variable dims differ",
       [](ModelConfig& c) {
         SetShape(c.mutable_input(1)->mutable_reshape()->mutable_shape(), {-1, 4});
       },
       Code::kInvalidArgument, "input[1] 'x'", "reshape"},
      {"scalar of 4 elements", [](ModelConfig& c) { c.mutable_input(1)->mutable_reshape(); },
       Code::kInvalidArgument, "input[1] 'x'", "reshape"},
  });
  ExpectAccepted("same count", [](ModelConfig& c) {
    SetShape(c.mutable_input(1)->mutable_reshape()->mutable_shape(), {2, 2});
  });
  ExpectAccepted("to scalar", [](ModelConfig& c) {
    SetShape(c.mutable_input(1)->mutable_dims(), {1});
    c.mutable_input(1)->mutable_reshape();
  });
  ExpectAccepted("variable pieces match", [](ModelConfig& c) {
    SetShape(c.mutable_input(0)->mutable_dims(), {2, 2, -1, 3});
    SetShape(c.mutable_input(0)->mutable_reshape()->mutable_shape(), {4, -1, 3, 1});
  });
}

TEST(ValidateModelConfigTest, RejectsBadDynamicBatching) {
  ExpectRejected({
      {"without batching",
       [](ModelConfig& c) {
         c.mutable_dynamic_batching();
         c.set_max_batch_size(0);
         c.mutable_input(0)->set_allow_ragged_batch(false);
       },
       Code::kInvalidArgument, "dynamic_batching", "max_batch_size"},
      {"preferred 0",
       [](ModelConfig& c) { c.mutable_dynamic_batching()->add_preferred_batch_size(0); },
       Code::kInvalidArgument, "dynamic_batching.preferred_batch_size[0]", "got 0"},
      {"preferred over max",
       [](ModelConfig& c) {
         c.mutable_dynamic_batching()->add_preferred_batch_size(4);
         c.mutable_dynamic_batching()->add_preferred_batch_size(9);
       },
       Code::kInvalidArgument, "dynamic_batching.preferred_batch_size[1]", "got 9"},
      {"default level over levels",
       [](ModelConfig& c) {
         c.mutable_dynamic_batching()->set_priority_levels(2);
         c.mutable_dynamic_batching()->set_default_priority_level(3);
       },
       Code::kInvalidArgument, "dynamic_batching.default_priority_level", "3"},
      {"default level without levels",
       [](ModelConfig& c) { c.mutable_dynamic_batching()->set_default_priority_level(1); },
       Code::kInvalidArgument, "dynamic_batching.default_priority_level"},
      {"levels without default",
       [](ModelConfig& c) { c.mutable_dynamic_batching()->set_priority_levels(2); },
       Code::kInvalidArgument, "dynamic_batching.default_priority_level"},
      {"queue policy key 0",
       [](ModelConfig& c) {
         c.mutable_dynamic_batching()->set_priority_levels(2);
         c.mutable_dynamic_batching()->set_default_priority_level(1);
         (*c.mutable_dynamic_batching()->mutable_priority_queue_policy())[0];
       },
       Code::kInvalidArgument, "dynamic_batching.priority_queue_policy", "key 0"},
      {"queue policy key over levels",
       [](ModelConfig& c) {
         c.mutable_dynamic_batching()->set_priority_levels(2);
         c.mutable_dynamic_batching()->set_default_priority_level(1);
         (*c.mutable_dynamic_batching()->mutable_priority_queue_policy())[3];
       },
       Code::kInvalidArgument, "dynamic_batching.priority_queue_policy", "key 3"},
  });
  ExpectAccepted("preferred sizes and priorities", [](ModelConfig& c) {
    c.mutable_dynamic_batching()->add_preferred_batch_size(1);
    c.mutable_dynamic_batching()->add_preferred_batch_size(8);
    c.mutable_dynamic_batching()->set_priority_levels(2);
    c.mutable_dynamic_batching()->set_default_priority_level(2);
    (*c.mutable_dynamic_batching()->mutable_priority_queue_policy())[1];
  });
}

TEST(ValidateModelConfigTest, RejectsBadInstanceGroups) {
  ExpectRejected({
      {"count 0", [](ModelConfig& c) { c.mutable_instance_group(0)->set_count(0); },
       Code::kInvalidArgument, "instance_group[0] 'mlp_0'", "count must be at least 1, got 0"},
      {"negative count", [](ModelConfig& c) { c.mutable_instance_group(0)->set_count(-3); },
       Code::kInvalidArgument, "instance_group[0] 'mlp_0'", "got -3"},
      {"KIND_MODEL",
       [](ModelConfig& c) {
         c.mutable_instance_group(0)->set_kind(ModelInstanceGroup::KIND_MODEL);
       },
       Code::kUnimplemented, "instance_group[0] 'mlp_0'", "KIND_MODEL is not supported"},
      {"gpus on CPU",
       [](ModelConfig& c) {
         c.mutable_instance_group(0)->set_kind(ModelInstanceGroup::KIND_CPU);
         c.mutable_instance_group(0)->add_gpus(0);
       },
       Code::kInvalidArgument, "instance_group[0] 'mlp_0'", "gpus"},
      {"negative gpu",
       [](ModelConfig& c) {
         c.mutable_instance_group(0)->set_kind(ModelInstanceGroup::KIND_GPU);
         c.mutable_instance_group(0)->add_gpus(-1);
       },
       Code::kInvalidArgument, "instance_group[0] 'mlp_0'", "gpus"},
  });
  ExpectAccepted("gpus on GPU", [](ModelConfig& c) {
    c.mutable_instance_group(0)->set_kind(ModelInstanceGroup::KIND_GPU);
    c.mutable_instance_group(0)->add_gpus(1);
  });
}

BatchInput* AddBatchInput(ModelConfig& c, BatchInput::Kind kind = BatchInput::BATCH_ELEMENT_COUNT) {
  BatchInput* batch_input = c.add_batch_input();
  batch_input->set_kind(kind);
  batch_input->add_target_name("count");
  batch_input->set_data_type(inference::TYPE_INT32);
  batch_input->add_source_input("len");
  return batch_input;
}

TEST(ValidateModelConfigTest, RejectsBadBatchInputs) {
  ExpectRejected({
      {"without batching",
       [](ModelConfig& c) {
         AddBatchInput(c, BatchInput::BATCH_ITEM_SHAPE)->set_source_input(0, "x");
         c.set_max_batch_size(0);
         c.mutable_input(0)->set_allow_ragged_batch(false);
       },
       Code::kInvalidArgument, "batch_input[0] 'count'", "max_batch_size"},
      {"invalid kind",
       [](ModelConfig& c) { AddBatchInput(c)->set_kind(static_cast<BatchInput::Kind>(42)); },
       Code::kInvalidArgument, "batch_input[0] 'count'", "kind 42"},
      {"two targets", [](ModelConfig& c) { AddBatchInput(c)->add_target_name("more"); },
       Code::kInvalidArgument, "batch_input[0] ''", "exactly one target_name, got 2"},
      {"no target", [](ModelConfig& c) { AddBatchInput(c)->clear_target_name(); },
       Code::kInvalidArgument, "batch_input[0] ''", "exactly one target_name, got 0"},
      {"target is an input", [](ModelConfig& c) { AddBatchInput(c)->set_target_name(0, "x"); },
       Code::kInvalidArgument, "batch_input[0] 'x'", "collides with input 'x'"},
      {"duplicate target",
       [](ModelConfig& c) {
         AddBatchInput(c);
         AddBatchInput(c);
       },
       Code::kInvalidArgument, "batch_input[1] 'count'", "duplicate"},
      {"data type", [](ModelConfig& c) { AddBatchInput(c)->set_data_type(inference::TYPE_INT64); },
       Code::kInvalidArgument, "batch_input[0] 'count'", "TYPE_INT32 or TYPE_FP32"},
      {"no source", [](ModelConfig& c) { AddBatchInput(c)->clear_source_input(); },
       Code::kInvalidArgument, "batch_input[0] 'count'", "exactly one source_input, got 0"},
      {"two sources", [](ModelConfig& c) { AddBatchInput(c)->add_source_input("x"); },
       Code::kInvalidArgument, "batch_input[0] 'count'", "exactly one source_input, got 2"},
      {"unknown source", [](ModelConfig& c) { AddBatchInput(c)->set_source_input(0, "nope"); },
       Code::kInvalidArgument, "batch_input[0] 'count'", "source_input 'nope'"},
      {"source not ragged",
       [](ModelConfig& c) {
         AddBatchInput(c, BatchInput::BATCH_ACCUMULATED_ELEMENT_COUNT)->set_source_input(0, "x");
       },
       Code::kInvalidArgument, "batch_input[0] 'count'", "allow_ragged_batch"},
  });
  ExpectAccepted("fp32 accumulated count", [](ModelConfig& c) {
    AddBatchInput(c, BatchInput::BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO)
        ->set_data_type(inference::TYPE_FP32);
  });
  ExpectAccepted("item shape of a fixed input", [](ModelConfig& c) {
    AddBatchInput(c, BatchInput::BATCH_ITEM_SHAPE)->set_source_input(0, "x");
  });
}

inference::BatchOutput* AddBatchOutput(ModelConfig& c) {
  inference::BatchOutput* batch_output = c.add_batch_output();
  batch_output->add_target_name("y");
  batch_output->add_source_input("len");
  return batch_output;
}

TEST(ValidateModelConfigTest, RejectsBadBatchOutputs) {
  ExpectRejected({
      {"without batching",
       [](ModelConfig& c) {
         AddBatchOutput(c);
         c.set_max_batch_size(0);
         c.mutable_input(0)->set_allow_ragged_batch(false);
       },
       Code::kInvalidArgument, "batch_output[0]", "max_batch_size"},
      {"invalid kind",
       [](ModelConfig& c) {
         AddBatchOutput(c)->set_kind(static_cast<inference::BatchOutput::Kind>(7));
       },
       Code::kInvalidArgument, "batch_output[0]", "kind"},
      {"no target", [](ModelConfig& c) { AddBatchOutput(c)->clear_target_name(); },
       Code::kInvalidArgument, "batch_output[0]", "target_name"},
      {"unknown target", [](ModelConfig& c) { AddBatchOutput(c)->add_target_name("z"); },
       Code::kInvalidArgument, "batch_output[0]", "target_name 'z'"},
      {"no source", [](ModelConfig& c) { AddBatchOutput(c)->clear_source_input(); },
       Code::kInvalidArgument, "batch_output[0]", "source_input"},
      {"unknown source", [](ModelConfig& c) { AddBatchOutput(c)->set_source_input(0, "q"); },
       Code::kInvalidArgument, "batch_output[0]", "source_input 'q'"},
  });
  ExpectAccepted("scatter", [](ModelConfig& c) { AddBatchOutput(c); });
}

TEST(ValidateModelConfigTest, RejectsBadVersionPolicy) {
  ExpectRejected({
      {"latest 0",
       [](ModelConfig& c) { c.mutable_version_policy()->mutable_latest()->set_num_versions(0); },
       Code::kInvalidArgument, "version_policy.latest.num_versions"},
      {"specific empty", [](ModelConfig& c) { c.mutable_version_policy()->mutable_specific(); },
       Code::kInvalidArgument, "version_policy.specific.versions"},
      {"specific 0",
       [](ModelConfig& c) {
         c.mutable_version_policy()->mutable_specific()->add_versions(2);
         c.mutable_version_policy()->mutable_specific()->add_versions(0);
       },
       Code::kInvalidArgument, "version_policy.specific.versions[1]", "got 0"},
      {"specific negative",
       [](ModelConfig& c) { c.mutable_version_policy()->mutable_specific()->add_versions(-1); },
       Code::kInvalidArgument, "version_policy.specific.versions[0]", "got -1"},
  });
  ExpectAccepted("all", [](ModelConfig& c) { c.mutable_version_policy()->mutable_all(); });
  ExpectAccepted("specific", [](ModelConfig& c) {
    c.mutable_version_policy()->mutable_specific()->add_versions(3);
  });
}

TEST(ValidateModelConfigTest, RejectsValuesNoModelCanServe) {
  ExpectRejected({
      {"dims of 2^63-1",
       [](ModelConfig& c) { SetShape(c.mutable_input(1)->mutable_dims(), {INT64_MAX, 2}); },
       Code::kInvalidArgument, "input[1] 'x'", "more than 4294967296 elements"},
      {"fixed dims times max_batch_size",
       [](ModelConfig& c) {
         SetShape(c.mutable_output(0)->mutable_dims(), {-1, 65536, 65536});
       },
       Code::kInvalidArgument, "output[0] 'y'", "times max_batch_size"},
      {"queue delay that overflows nanoseconds",
       [](ModelConfig& c) {
         c.mutable_dynamic_batching()->set_max_queue_delay_microseconds(UINT64_MAX);
       },
       Code::kInvalidArgument, "dynamic_batching.max_queue_delay_microseconds",
       "at most 60000000"},
      {"queue delay of 31 years",
       [](ModelConfig& c) {
         c.mutable_dynamic_batching()->set_max_queue_delay_microseconds(1'000'000'000'000'000);
       },
       Code::kInvalidArgument, "dynamic_batching.max_queue_delay_microseconds"},
      {"default queue timeout",
       [](ModelConfig& c) {
         c.mutable_dynamic_batching()->mutable_default_queue_policy()
             ->set_default_timeout_microseconds(UINT64_MAX);
       },
       Code::kInvalidArgument,
       "dynamic_batching.default_queue_policy.default_timeout_microseconds"},
      {"priority queue timeout",
       [](ModelConfig& c) {
         auto* batching = c.mutable_dynamic_batching();
         batching->set_priority_levels(2);
         batching->set_default_priority_level(1);
         (*batching->mutable_priority_queue_policy())[2].set_default_timeout_microseconds(
             UINT64_MAX / 10);
       },
       Code::kInvalidArgument, "dynamic_batching.priority_queue_policy[2]"},
  });
  ExpectAccepted("the largest bounds", [](ModelConfig& c) {
    SetShape(c.mutable_input(1)->mutable_dims(), {1 << 16, 1 << 13});  // x 8 = 2^32
    c.mutable_dynamic_batching()->set_max_queue_delay_microseconds(kMaxQueueDelayMicroseconds);
    c.mutable_dynamic_batching()->mutable_default_queue_policy()->set_default_timeout_microseconds(
        kMaxQueueTimeoutMicroseconds);
  });
}

}  // namespace
}  // namespace sonic::server
