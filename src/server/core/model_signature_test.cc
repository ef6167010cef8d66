// ModelSignature: what it holds of a config (shapes as clients send them, reshapes, ragged and
// optional flags, batch_input targets, scattered outputs, the request bounds) and its lookups.
#include "server/core/model_signature.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"

namespace sonic::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

inference::ModelConfig Config(const char* text) {
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

constexpr char kRagged[] = R"pb(
  name: "jets"
  backend: "identity"
  max_batch_size: 8
  parameters {
    key: "max_input_elements"
    value { string_value: "5000" }
  }
  parameters {
    key: "equal_variable_dims"
    value { string_value: " points , features; mask" }
  }
  input {
    name: "points"
    data_type: TYPE_FP32
    dims: [ -1, 2 ]
    allow_ragged_batch: true
  }
  input {
    name: "features"
    data_type: TYPE_FP32
    dims: [ -1, 4 ]
  }
  input {
    name: "mask"
    data_type: TYPE_INT64
    dims: [ -1 ]
    optional: true
  }
  input {
    name: "grid"
    data_type: TYPE_FP32
    dims: [ 4 ]
    reshape { shape: [ 2, 2 ] }
  }
  input {
    name: "length"
    data_type: TYPE_INT32
    dims: [ 1 ]
    is_shape_tensor: true
  }
  output {
    name: "scores"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }
  output {
    name: "cells"
    data_type: TYPE_FP32
    dims: [ 4 ]
    reshape { shape: [ 2, 2 ] }
  }
  batch_input {
    kind: BATCH_ACCUMULATED_ELEMENT_COUNT
    target_name: "offsets"
    data_type: TYPE_INT32
    source_input: "points"
  }
  batch_output { kind: BATCH_SCATTER_WITH_INPUT_SHAPE target_name: "scores" source_input: "points" }
)pb";

TEST(ModelSignatureTest, HoldsInputsAsClientsSendThem) {
  auto signature = ModelSignature::Create(Config(kRagged), 100);
  ASSERT_TRUE(signature.ok()) << signature.status();
  const ModelSignature& s = **signature;
  EXPECT_EQ(s.model_name(), "jets");
  EXPECT_EQ(s.platform(), "identity");  // no platform: the backend
  EXPECT_TRUE(s.batched());
  EXPECT_EQ(s.max_batch_size(), 8);
  ASSERT_EQ(s.inputs().size(), 5u);
  EXPECT_EQ(s.FindInput("mask"), 2);
  EXPECT_EQ(s.FindInput("offsets"), -1);  // a batch_input target is not a config input
  EXPECT_EQ(s.input("nope"), nullptr);

  const ModelSignature::Input& points = *s.input("points");
  EXPECT_EQ(points.type, DataType::kFp32);
  EXPECT_EQ(points.data_type, inference::TYPE_FP32);
  EXPECT_THAT(points.dims, ElementsAre(-1, 2));
  EXPECT_THAT(points.client_shape, ElementsAre(-1, -1, 2));
  EXPECT_TRUE(points.allow_ragged_batch);
  EXPECT_FALSE(points.optional);
  EXPECT_FALSE(points.reshape.has_value());
  EXPECT_TRUE(s.input("mask")->optional);
  EXPECT_EQ(s.input("mask")->type, DataType::kInt64);
  EXPECT_TRUE(s.input("length")->is_shape_tensor);
  ASSERT_TRUE(s.input("grid")->reshape.has_value());
  EXPECT_THAT(*s.input("grid")->reshape, ElementsAre(2, 2));
  for (const ModelSignature::Input& input : s.inputs()) EXPECT_FALSE(input.built_by_server);
}

TEST(ModelSignatureTest, HoldsBatchInputsAndScatteredOutputs) {
  auto signature = ModelSignature::Create(Config(kRagged), 100);
  ASSERT_TRUE(signature.ok()) << signature.status();
  const ModelSignature& s = **signature;
  EXPECT_TRUE(s.IsBatchInputTarget("offsets"));
  EXPECT_FALSE(s.IsBatchInputTarget("points"));
  ASSERT_EQ(s.batch_inputs().size(), 1u);
  EXPECT_EQ(s.batch_inputs()[0].kind, inference::BatchInput::BATCH_ACCUMULATED_ELEMENT_COUNT);
  EXPECT_EQ(s.batch_inputs()[0].data_type, inference::TYPE_INT32);
  EXPECT_THAT(s.batch_inputs()[0].targets, ElementsAre("offsets"));
  EXPECT_THAT(s.batch_inputs()[0].sources, ElementsAre("points"));

  ASSERT_EQ(s.outputs().size(), 2u);
  EXPECT_EQ(s.FindOutput("cells"), 1);
  EXPECT_EQ(s.FindOutput("points"), -1);
  const ModelSignature::Output& scores = *s.output("scores");
  EXPECT_TRUE(scores.scattered);
  EXPECT_EQ(scores.scatter_source, "points");
  const ModelSignature::Output& cells = *s.output("cells");
  EXPECT_FALSE(cells.scattered);
  EXPECT_FALSE(cells.scatter_source.has_value());
  EXPECT_TRUE(cells.has_reshape);
  EXPECT_THAT(cells.dims, ElementsAre(4));
  EXPECT_THAT(cells.model_dims, ElementsAre(2, 2));
  EXPECT_EQ(cells.type, DataType::kFp32);
}

TEST(ModelSignatureTest, ReadsTheRequestBounds) {
  auto signature = ModelSignature::Create(Config(kRagged), 100);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ((*signature)->max_input_elements(), 5000u);
  // Names are trimmed; a group of one input constrains nothing and is dropped.
  EXPECT_THAT((*signature)->equal_variable_dims(), ElementsAre(ElementsAre(0, 1)));

  auto defaults = ModelSignature::Create(Config(R"pb(name: "plain"
                                                     platform: "onnxruntime_onnx"
                                                     input {
                                                       name: "x"
                                                       dims: [ 2 ]
                                                     })pb"),
                                         100);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ((*defaults)->max_input_elements(), 100u);
  EXPECT_TRUE((*defaults)->equal_variable_dims().empty());
  EXPECT_EQ((*defaults)->platform(), "onnxruntime_onnx");
  EXPECT_FALSE((*defaults)->batched());
  EXPECT_THAT((*defaults)->inputs()[0].client_shape, ElementsAre(2));  // no batch dimension
  EXPECT_EQ((*defaults)->inputs()[0].type, DataType::kInvalid);        // TYPE_INVALID
}

TEST(ModelSignatureTest, RefusesMalformedBounds) {
  auto zero = ModelSignature::Create(Config(R"pb(name: "m"
                                                 parameters {
                                                   key: "max_input_elements"
                                                   value { string_value: "0" }
                                                 }
                                                 input {
                                                   name: "x"
                                                   dims: [ 2 ]
                                                 })pb"),
                                     100);
  EXPECT_EQ(zero.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(zero.status().message(),
              HasSubstr("model 'm': parameter max_input_elements must be a positive integer, "
                        "got '0'"));
  auto unknown = ModelSignature::Create(Config(R"pb(name: "m"
                                                    parameters {
                                                      key: "equal_variable_dims"
                                                      value { string_value: "x,y" }
                                                    }
                                                    input {
                                                      name: "x"
                                                      dims: [ -1 ]
                                                    })pb"),
                                        100);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("parameter equal_variable_dims names 'y', which is not an input"));
}

TEST(ModelSignatureTest, ARepeatedNameFindsTheFirstTensor) {
  auto signature = ModelSignature::Create(Config(R"pb(name: "m"
                                                      input {
                                                        name: "x"
                                                        data_type: TYPE_FP32
                                                        dims: [ 1 ]
                                                      }
                                                      input {
                                                        name: "x"
                                                        data_type: TYPE_INT8
                                                        dims: [ 2 ]
                                                      }
                                                      output {
                                                        name: "y"
                                                        data_type: TYPE_FP32
                                                        dims: [ 1 ]
                                                      }
                                                      output {
                                                        name: "y"
                                                        data_type: TYPE_INT8
                                                        dims: [ 2 ]
                                                      })pb"),
                                          100);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ((*signature)->FindInput("x"), 0);
  EXPECT_EQ((*signature)->FindOutput("y"), 0);
  EXPECT_EQ((*signature)->inputs().size(), 2u);
}

}  // namespace
}  // namespace sonic::server
