#include "backends/tensorflow/tf_metadata.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>

#include <string>

namespace sonic::backends::tensorflow {
namespace {

using google::protobuf::UnknownFieldSet;

std::string Serialize(const UnknownFieldSet& fields) {
  std::string bytes;
  EXPECT_TRUE(fields.SerializeToString(&bytes));
  return bytes;
}

// A map<string, V> entry: key 1, value 2.
std::string MapEntry(const std::string& key, const std::string& value) {
  UnknownFieldSet entry;
  entry.AddLengthDelimited(1, key);
  entry.AddLengthDelimited(2, value);
  return Serialize(entry);
}

std::string TensorInfo(const std::string& name) {
  UnknownFieldSet info;
  info.AddLengthDelimited(1, name);  // name
  info.AddVarint(2, 1);              // dtype DT_FLOAT
  return Serialize(info);
}

TEST(ParseTensorNameTest, OperationOutputs) {
  EXPECT_EQ(ParseTensorName("output/BiasAdd"), (TensorName{"output/BiasAdd", 0}));
  EXPECT_EQ(ParseTensorName("output/BiasAdd:0"), (TensorName{"output/BiasAdd", 0}));
  EXPECT_EQ(ParseTensorName("StatefulPartitionedCall:12"),
            (TensorName{"StatefulPartitionedCall", 12}));
  // Not an index: the whole text is the name.
  EXPECT_EQ(ParseTensorName("a:b"), (TensorName{"a:b", 0}));
  EXPECT_EQ(ParseTensorName("a:"), (TensorName{"a:", 0}));
  EXPECT_EQ(ParseTensorName("a:99999999999"), (TensorName{"a:99999999999", 0}));
}

TEST(ParseSignaturesTest, ReadsKeysAndTensorNames) {
  UnknownFieldSet signature;
  signature.AddLengthDelimited(1, MapEntry("features", TensorInfo("serving_default_features:0")));
  signature.AddLengthDelimited(1, MapEntry("scale", TensorInfo("serving_default_scale:0")));
  signature.AddLengthDelimited(2, MapEntry("score", TensorInfo("StatefulPartitionedCall:1")));
  signature.AddLengthDelimited(3, "tensorflow/serving/predict");
  UnknownFieldSet meta_graph;
  meta_graph.AddLengthDelimited(1, "meta info");
  meta_graph.AddLengthDelimited(5, MapEntry("serving_default", Serialize(signature)));
  meta_graph.AddLengthDelimited(5, MapEntry("other", ""));

  absl::StatusOr<std::map<std::string, Signature>> parsed = ParseSignatures(Serialize(meta_graph));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  const Signature& serving = parsed->at("serving_default");
  EXPECT_EQ(serving.inputs.at("features"), "serving_default_features:0");
  EXPECT_EQ(serving.inputs.at("scale"), "serving_default_scale:0");
  EXPECT_EQ(serving.outputs.at("score"), "StatefulPartitionedCall:1");
  EXPECT_TRUE(parsed->at("other").inputs.empty());
}

TEST(ParseSignaturesTest, RefusesBytesThatAreNoMessage) {
  absl::StatusOr<std::map<std::string, Signature>> parsed = ParseSignatures("\x2a\xff\xff");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SerializeSessionConfigTest, WritesOnlyWhatIsSet) {
  EXPECT_EQ(SerializeSessionConfig({}), "");
  UnknownFieldSet fields;
  ASSERT_TRUE(fields.ParseFromString(SerializeSessionConfig(
      {.intra_op_threads = 2, .inter_op_threads = 3, .per_session_threads = true})));
  ASSERT_EQ(fields.field_count(), 3);
  EXPECT_EQ(fields.field(0).number(), 2);  // intra_op_parallelism_threads
  EXPECT_EQ(fields.field(0).varint(), 2u);
  EXPECT_EQ(fields.field(1).number(), 5);  // inter_op_parallelism_threads
  EXPECT_EQ(fields.field(1).varint(), 3u);
  EXPECT_EQ(fields.field(2).number(), 9);  // use_per_session_threads
  EXPECT_EQ(fields.field(2).varint(), 1u);
}

}  // namespace
}  // namespace sonic::backends::tensorflow
