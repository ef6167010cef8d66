#include "server/frontend/model_metadata.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/text_format.h"

namespace sonic::server {
namespace {

inference::ModelConfig ParseConfig(const std::string& text) {
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

std::unique_ptr<ModelSignature> Signature(const inference::ModelConfig& config) {
  auto signature = ModelSignature::Create(config, uint64_t{1} << 26);
  EXPECT_TRUE(signature.ok()) << signature.status();
  return *std::move(signature);
}

std::vector<int64_t> ShapeOf(const inference::ModelMetadataResponse::TensorMetadata& tensor) {
  return std::vector<int64_t>(tensor.shape().begin(), tensor.shape().end());
}

TEST(ModelMetadataTest, BatchedModelPrependsBatchDimensionAndIgnoresReshape) {
  inference::ModelConfig config = ParseConfig(R"pb(
    name: "resnet"
    platform: "pytorch_libtorch"
    max_batch_size: 8
    input {
      name: "x"
      data_type: TYPE_FP32
      dims: [ 3, -1 ]
      reshape { shape: [ 1, 3, -1 ] }
    }
    input {
      name: "s"
      data_type: TYPE_STRING
      dims: [ 1 ]
    }
    output {
      name: "y"
      data_type: TYPE_FP16
      dims: [ 10 ]
    }
  )pb");
  inference::ModelMetadataResponse message;
  BuildModelMetadata(*Signature(config), {1, 3}, message);

  EXPECT_EQ(message.name(), "resnet");
  ASSERT_EQ(message.versions_size(), 2);
  EXPECT_EQ(message.versions(0), "1");
  EXPECT_EQ(message.versions(1), "3");
  EXPECT_EQ(message.platform(), "pytorch_libtorch");
  ASSERT_EQ(message.inputs_size(), 2);
  EXPECT_EQ(message.inputs(0).name(), "x");
  EXPECT_EQ(message.inputs(0).datatype(), "FP32");
  EXPECT_EQ(ShapeOf(message.inputs(0)), (std::vector<int64_t>{-1, 3, -1}));
  EXPECT_EQ(message.inputs(1).datatype(), "BYTES");
  EXPECT_EQ(ShapeOf(message.inputs(1)), (std::vector<int64_t>{-1, 1}));
  ASSERT_EQ(message.outputs_size(), 1);
  EXPECT_EQ(message.outputs(0).name(), "y");
  EXPECT_EQ(message.outputs(0).datatype(), "FP16");
  EXPECT_EQ(ShapeOf(message.outputs(0)), (std::vector<int64_t>{-1, 10}));
}

TEST(ModelMetadataTest, UnbatchedModelUsesDimsAsIsAndBackendAsPlatform) {
  inference::ModelConfig config = ParseConfig(R"pb(
    name: "trees"
    backend: "fil"
    max_batch_size: 0
    input {
      name: "x"
      data_type: TYPE_INT64
      dims: [ 4, 5 ]
    }
    output {
      name: "y"
      data_type: TYPE_BOOL
      dims: [ 4 ]
    }
  )pb");
  inference::ModelMetadataResponse message;
  BuildModelMetadata(*Signature(config), {}, message);
  EXPECT_EQ(message.platform(), "fil");
  EXPECT_EQ(message.versions_size(), 0);
  EXPECT_EQ(ShapeOf(message.inputs(0)), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(message.inputs(0).datatype(), "INT64");
  EXPECT_EQ(ShapeOf(message.outputs(0)), (std::vector<int64_t>{4}));
  EXPECT_EQ(message.outputs(0).datatype(), "BOOL");
}

TEST(ModelMetadataTest, BatchInputTargetsAreNotListed) {
  inference::ModelConfig config = ParseConfig(R"pb(
    name: "ragged"
    platform: "onnxruntime_onnx"
    max_batch_size: 16
    input {
      name: "INPUT"
      data_type: TYPE_FP32
      dims: [ -1 ]
      allow_ragged_batch: true
    }
    input {
      name: "INDEX"
      data_type: TYPE_FP32
      dims: [ 1 ]
    }
    batch_input {
      kind: BATCH_ACCUMULATED_ELEMENT_COUNT
      target_name: "INDEX"
      data_type: TYPE_FP32
      source_input: "INPUT"
    }
    output {
      name: "OUT"
      data_type: TYPE_FP32
      dims: [ -1 ]
    }
  )pb");
  inference::ModelMetadataResponse message;
  BuildModelMetadata(*Signature(config), {1}, message);
  ASSERT_EQ(message.inputs_size(), 1);
  EXPECT_EQ(message.inputs(0).name(), "INPUT");
  EXPECT_EQ(ShapeOf(message.inputs(0)), (std::vector<int64_t>{-1, -1}));
  EXPECT_EQ(message.platform(), "onnxruntime_onnx");
}

}  // namespace
}  // namespace sonic::server
