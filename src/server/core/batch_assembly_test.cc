// Batch assembly on hand-built requests: ragged inputs become one flat tensor, every batch_input
// kind has Triton's values and shape (INT32 and FP32), ordinary inputs are concatenated and
// reshaped, outputs are split by rows or scattered by the source input's shape, and
// CanBatchTogether lets only ragged inputs differ.
#include "server/core/batch_assembly.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "server/repository/model_config_loader.h"

namespace sonic::server {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

constexpr char kRaggedConfig[] = R"pb(
  name: "ragged"
  max_batch_size: 16
  input {
    name: "x"
    data_type: TYPE_FP32
    dims: [ -1 ]
    allow_ragged_batch: true
  }
  output {
    name: "y"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }
  output {
    name: "sum"
    data_type: TYPE_FP32
    dims: [ 1 ]
  }
  batch_input {
    kind: BATCH_ELEMENT_COUNT
    target_name: "count"
    data_type: TYPE_INT32
    source_input: "x"
  }
  batch_input {
    kind: BATCH_ACCUMULATED_ELEMENT_COUNT
    target_name: "acc"
    data_type: TYPE_INT32
    source_input: "x"
  }
  batch_input {
    kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO
    target_name: "acc0"
    data_type: TYPE_INT32
    source_input: "x"
  }
  batch_input {
    kind: BATCH_MAX_ELEMENT_COUNT_AS_SHAPE
    target_name: "max"
    data_type: TYPE_INT32
    source_input: "x"
  }
  batch_input { kind: BATCH_ITEM_SHAPE target_name: "item" data_type: TYPE_INT32 source_input: "x" }
  batch_input {
    kind: BATCH_ITEM_SHAPE_FLATTEN
    target_name: "flat"
    data_type: TYPE_INT32
    source_input: "x"
  }
  batch_output { target_name: "y" kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: "x" }
)pb";

inference::ModelConfig Config(const char* text) {
  auto config = ParseModelConfig(text, "test");
  EXPECT_TRUE(config.ok()) << config.status();
  NormalizeModelConfig(*config);
  return *config;
}

std::unique_ptr<ModelSignature> Signature(const inference::ModelConfig& config) {
  auto signature = ModelSignature::Create(config, uint64_t{1} << 26);
  EXPECT_TRUE(signature.ok()) << signature.status();
  return *std::move(signature);
}

class BatchAssemblyTest : public ::testing::Test {
 protected:
  // A request with one input per (name, shape); input values count up from `first`.
  InferenceRequest& Add(std::vector<std::pair<std::string, Shape>> inputs, float first = 0,
                        DataType type = DataType::kFp32) {
    auto request = std::make_unique<InferenceRequest>();
    request->id = "r" + std::to_string(batch_.size());
    for (auto& [name, shape] : inputs) {
      request->batch_size = shape.empty() ? 1 : shape[0];
      auto& values = data_.emplace_back(std::make_unique<std::vector<float>>(*ElementCount(shape)));
      std::iota(values->begin(), values->end(), first);
      request->inputs.push_back(
          {name, type, shape, std::as_bytes(std::span<const float>(*values))});
    }
    batch_.push_back(std::move(request));
    return *batch_.back();
  }

  const SonicBackendTensor& Tensor(const AssembledInputs& inputs, std::string_view name) {
    for (const auto& tensor : inputs.tensors) {
      if (tensor.name == name) return tensor;
    }
    ADD_FAILURE() << "no tensor " << name;
    return inputs.tensors.front();
  }
  static Shape ShapeOf(const SonicBackendTensor& tensor) {
    return Shape(tensor.shape, tensor.shape + tensor.rank);
  }
  template <typename T>
  static std::vector<T> Values(const SonicBackendTensor& tensor) {
    std::vector<T> values(tensor.byte_size / sizeof(T));
    if (!values.empty()) std::memcpy(values.data(), tensor.data, tensor.byte_size);
    return values;
  }

  Batch batch_;
  std::vector<std::unique_ptr<std::vector<float>>> data_;
};

TEST_F(BatchAssemblyTest, ProtocolExampleInt32) {
  const inference::ModelConfig config = Config(kRaggedConfig);
  const std::unique_ptr<ModelSignature> signature = Signature(config);
  Add({{"x", {1, 3}}}, 0);
  Add({{"x", {1, 4}}}, 3);
  Add({{"x", {1, 5}}}, 7);
  AssembledInputs inputs;
  ASSERT_TRUE(AssembleBatchInputs(*signature, batch_, inputs).ok());
  ASSERT_EQ(inputs.tensors.size(), 7u);

  const SonicBackendTensor& x = Tensor(inputs, "x");
  EXPECT_THAT(ShapeOf(x), ElementsAre(12));
  std::vector<float> expected(12);
  std::iota(expected.begin(), expected.end(), 0.0f);
  EXPECT_EQ(Values<float>(x), expected);

  for (const char* name : {"count", "acc", "acc0", "max", "item", "flat"}) {
    EXPECT_EQ(Tensor(inputs, name).data_type, static_cast<int32_t>(DataType::kInt32)) << name;
  }
  EXPECT_THAT(ShapeOf(Tensor(inputs, "count")), ElementsAre(3));
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "count")), ElementsAre(3, 4, 5));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "acc")), ElementsAre(3));
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "acc")), ElementsAre(3, 7, 12));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "acc0")), ElementsAre(4));
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "acc0")), ElementsAre(0, 3, 7, 12));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "max")), ElementsAre(5));
  EXPECT_EQ(Tensor(inputs, "max").byte_size, 5 * sizeof(int32_t));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "item")), ElementsAre(3, 1));
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "item")), ElementsAre(3, 4, 5));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "flat")), ElementsAre(3));
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "flat")), ElementsAre(3, 4, 5));
}

TEST_F(BatchAssemblyTest, Fp32BatchInputs) {
  std::string text = kRaggedConfig;
  for (size_t at = text.find("TYPE_INT32"); at != std::string::npos; at = text.find("TYPE_INT32"))
    text.replace(at, 10, "TYPE_FP32");
  const inference::ModelConfig config = Config(text.c_str());
  const std::unique_ptr<ModelSignature> signature = Signature(config);
  Add({{"x", {1, 3}}});
  Add({{"x", {1, 4}}});
  Add({{"x", {1, 5}}});
  AssembledInputs inputs;
  ASSERT_TRUE(AssembleBatchInputs(*signature, batch_, inputs).ok());
  EXPECT_EQ(Tensor(inputs, "acc").data_type, static_cast<int32_t>(DataType::kFp32));
  EXPECT_THAT(Values<float>(Tensor(inputs, "count")), ElementsAre(3.0f, 4.0f, 5.0f));
  EXPECT_THAT(Values<float>(Tensor(inputs, "acc")), ElementsAre(3.0f, 7.0f, 12.0f));
  EXPECT_THAT(Values<float>(Tensor(inputs, "acc0")), ElementsAre(0.0f, 3.0f, 7.0f, 12.0f));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "max")), ElementsAre(5));
  EXPECT_THAT(Values<float>(Tensor(inputs, "item")), ElementsAre(3.0f, 4.0f, 5.0f));
  EXPECT_THAT(Values<float>(Tensor(inputs, "flat")), ElementsAre(3.0f, 4.0f, 5.0f));
}

// Triton's model_config.proto example: a batch-2 request of item shape [3,1] and a batch-1
// request of item shape [2,2]. Counts are per request, item shapes per batch item.
TEST_F(BatchAssemblyTest, ItemShapesRepeatPerBatchItemAndCountsArePerRequest) {
  std::string text = kRaggedConfig;
  text.replace(text.find("dims: [ -1 ]"), 12, "dims: [ -1, -1 ]");  // input x
  const inference::ModelConfig config = Config(text.c_str());
  const std::unique_ptr<ModelSignature> signature = Signature(config);
  Add({{"x", {2, 3, 1}}});
  Add({{"x", {1, 2, 2}}});
  AssembledInputs inputs;
  ASSERT_TRUE(AssembleBatchInputs(*signature, batch_, inputs).ok());
  EXPECT_THAT(ShapeOf(Tensor(inputs, "x")), ElementsAre(10));
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "count")), ElementsAre(6, 4));
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "acc0")), ElementsAre(0, 6, 10));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "max")), ElementsAre(6));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "item")), ElementsAre(3, 2));
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "item")), ElementsAre(3, 1, 3, 1, 2, 2));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "flat")), ElementsAre(6));
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "flat")), ElementsAre(3, 1, 3, 1, 2, 2));
}

TEST_F(BatchAssemblyTest, SingleRaggedRequestIsFlatWithoutCopy) {
  const inference::ModelConfig config = Config(kRaggedConfig);
  const std::unique_ptr<ModelSignature> signature = Signature(config);
  const InferenceRequest& request = Add({{"x", {1, 4}}});
  AssembledInputs inputs;
  ASSERT_TRUE(AssembleBatchInputs(*signature, batch_, inputs).ok());
  const SonicBackendTensor& x = Tensor(inputs, "x");
  EXPECT_THAT(ShapeOf(x), ElementsAre(4));
  EXPECT_EQ(x.data, request.inputs[0].data.data());
  EXPECT_THAT(Values<int32_t>(Tensor(inputs, "acc0")), ElementsAre(0, 4));
}

TEST_F(BatchAssemblyTest, OrdinaryInputsConcatenateAlongBatchAndReshape) {
  const inference::ModelConfig config = Config(R"pb(
    name: "plain"
    max_batch_size: 8
    input {
      name: "a"
      data_type: TYPE_FP32
      dims: [ 4 ]
      reshape { shape: [ 2, 2 ] }
    }
    input {
      name: "b"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
    output {
      name: "y"
      data_type: TYPE_FP32
      dims: [ 2 ]
    }
  )pb");
  const std::unique_ptr<ModelSignature> signature = Signature(config);
  Add({{"a", {1, 4}}, {"b", {1, 2}}}, 0);
  Add({{"a", {2, 4}}, {"b", {2, 2}}}, 100);
  AssembledInputs inputs;
  ASSERT_TRUE(AssembleBatchInputs(*signature, batch_, inputs).ok());
  ASSERT_EQ(inputs.tensors.size(), 2u);
  EXPECT_THAT(ShapeOf(Tensor(inputs, "a")), ElementsAre(3, 2, 2));
  EXPECT_THAT(ShapeOf(Tensor(inputs, "b")), ElementsAre(3, 2));
  EXPECT_THAT(Values<float>(Tensor(inputs, "b")), ElementsAre(0, 1, 100, 101, 102, 103));
}

TEST_F(BatchAssemblyTest, MissingSourceInputIsInvalidArgument) {
  const inference::ModelConfig config = Config(R"pb(
    name: "opt"
    max_batch_size: 8
    input {
      name: "x"
      data_type: TYPE_FP32
      dims: [ -1 ]
      allow_ragged_batch: true
      optional: true
    }
    input {
      name: "z"
      data_type: TYPE_FP32
      dims: [ 1 ]
    }
    output {
      name: "y"
      data_type: TYPE_FP32
      dims: [ 1 ]
    }
    batch_input {
      kind: BATCH_ELEMENT_COUNT
      target_name: "n"
      data_type: TYPE_INT32
      source_input: "x"
    }
  )pb");
  const std::unique_ptr<ModelSignature> signature = Signature(config);
  Add({{"z", {1, 1}}});
  AssembledInputs inputs;
  EXPECT_EQ(AssembleBatchInputs(*signature, batch_, inputs).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(BatchAssemblyTest, OrdinaryOutputsSplitByRowsIncludingBytes) {
  const inference::ModelConfig config = Config(kRaggedConfig);
  const std::unique_ptr<ModelSignature> signature = Signature(config);
  Add({{"x", {1, 3}}});
  Add({{"x", {2, 4}}});
  std::vector<float> sums = {1, 2, 3};
  OutputTensor whole{"sum", DataType::kFp32, {3, 1}, std::string(12, '\0')};
  std::memcpy(whole.data.data(), sums.data(), 12);
  auto second = SplitOutputForRequest(*signature, batch_, 1, whole);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(second->shape, ElementsAre(2, 1));
  EXPECT_EQ(second->data, whole.data.substr(4, 8));

  std::string bytes;
  for (std::string item : {"a", "bb", "ccc"}) {
    uint32_t len = item.size();
    bytes.append(reinterpret_cast<const char*>(&len), 4);
    bytes += item;
  }
  OutputTensor text{"sum", DataType::kBytes, {3, 1}, bytes};
  auto first = SplitOutputForRequest(*signature, batch_, 0, text);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->data, bytes.substr(0, 5));
  auto rest = SplitOutputForRequest(*signature, batch_, 1, text);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->data, bytes.substr(5));
}

TEST_F(BatchAssemblyTest, ScatteredOutputFollowsSourceInputShape) {
  const inference::ModelConfig config = Config(kRaggedConfig);
  const std::unique_ptr<ModelSignature> signature = Signature(config);
  EXPECT_TRUE(signature->output("y")->scattered);
  EXPECT_FALSE(signature->output("sum")->scattered);
  Add({{"x", {1, 3}}});
  Add({{"x", {1, 4}}});
  Add({{"x", {1, 5}}});
  std::vector<float> flat(12);
  std::iota(flat.begin(), flat.end(), 0.0f);
  OutputTensor whole{"y", DataType::kFp32, {12}, std::string(48, '\0')};
  std::memcpy(whole.data.data(), flat.data(), 48);
  const std::vector<std::pair<Shape, size_t>> expected = {{{1, 3}, 0}, {{1, 4}, 3}, {{1, 5}, 7}};
  for (size_t i = 0; i < batch_.size(); ++i) {
    auto part = SplitOutputForRequest(*signature, batch_, i, whole);
    ASSERT_TRUE(part.ok()) << part.status();
    EXPECT_EQ(part->shape, expected[i].first);
    EXPECT_EQ(part->data, whole.data.substr(expected[i].second * 4, expected[i].first[1] * 4));
  }
  whole.data.resize(40);  // two elements short
  EXPECT_EQ(SplitOutputForRequest(*signature, batch_, 2, whole).status().code(),
            absl::StatusCode::kInternal);
}

TEST_F(BatchAssemblyTest, CanBatchTogether) {
  const inference::ModelConfig config = Config(R"pb(
    name: "mixed"
    max_batch_size: 8
    input {
      name: "x"
      data_type: TYPE_FP32
      dims: [ -1 ]
      allow_ragged_batch: true
    }
    input {
      name: "z"
      data_type: TYPE_FP32
      dims: [ -1 ]
    }
    output {
      name: "y"
      data_type: TYPE_FP32
      dims: [ 1 ]
    }
  )pb");
  const std::unique_ptr<ModelSignature> signature = Signature(config);
  const InferenceRequest& base = Add({{"x", {1, 3}}, {"z", {1, 2}}});
  const InferenceRequest& ragged_differs = Add({{"x", {2, 7}}, {"z", {2, 2}}});
  const InferenceRequest& z_differs = Add({{"x", {1, 3}}, {"z", {1, 5}}});
  const InferenceRequest& fewer_inputs = Add({{"x", {1, 3}}});
  const InferenceRequest& other_type = Add({{"x", {1, 3}}, {"z", {1, 2}}}, 0, DataType::kInt32);
  EXPECT_TRUE(CanBatchTogether(*signature, base, base));
  EXPECT_TRUE(CanBatchTogether(*signature, base, ragged_differs));
  EXPECT_FALSE(CanBatchTogether(*signature, base, z_differs));
  EXPECT_FALSE(CanBatchTogether(*signature, base, fewer_inputs));
  EXPECT_FALSE(CanBatchTogether(*signature, base, other_type));

  inference::ModelConfig unbatched = config;
  unbatched.set_max_batch_size(0);
  EXPECT_FALSE(CanBatchTogether(*Signature(unbatched), base, base));
}

}  // namespace
}  // namespace sonic::server
