#include "server/frontend/infer_request_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/text_format.h"

namespace sonic::server {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using InputTensor = inference::ModelInferRequest::InferInputTensor;

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

// name "m", batched up to 8: x FP32 [3], y INT32 [-1]; outputs out0 FP32 [3], out1 INT32 [-1].
inference::ModelConfig BatchedConfig() {
  return ParseConfig(R"pb(
    name: "m"
    max_batch_size: 8
    input {
      name: "x"
      data_type: TYPE_FP32
      dims: [ 3 ]
    }
    input {
      name: "y"
      data_type: TYPE_INT32
      dims: [ -1 ]
    }
    output {
      name: "out0"
      data_type: TYPE_FP32
      dims: [ 3 ]
    }
    output {
      name: "out1"
      data_type: TYPE_INT32
      dims: [ -1 ]
    }
  )pb");
}

// name "m", no batching: x FP32 [2,3]; output out FP32 [2,3].
inference::ModelConfig UnbatchedConfig() {
  return ParseConfig(R"pb(
    name: "m"
    max_batch_size: 0
    input {
      name: "x"
      data_type: TYPE_FP32
      dims: [ 2, 3 ]
      reshape { shape: [ 6 ] }
    }
    output {
      name: "out"
      data_type: TYPE_FP32
      dims: [ 2, 3 ]
    }
  )pb");
}

// A one-input unbatched model "m" whose input "t" has `config_type` and dims [3].
inference::ModelConfig SingleInputConfig(const std::string& config_type) {
  return ParseConfig("name: 'm' input { name: 't' data_type: " + config_type +
                     " dims: [ 3 ] } output { name: 'o' data_type: TYPE_FP32 dims: [ 1 ] }");
}

template <typename T>
std::string RawOf(std::initializer_list<T> values) {
  std::string raw(values.size() * sizeof(T), '\0');
  size_t i = 0;
  for (T v : values) std::memcpy(raw.data() + sizeof(T) * i++, &v, sizeof(T));
  return raw;
}

std::string SerializedStrings(std::initializer_list<std::string> values) {
  std::string raw;
  for (const std::string& v : values) {
    uint32_t n = static_cast<uint32_t>(v.size());
    const char prefix[4] = {char(n & 0xff), char((n >> 8) & 0xff), char((n >> 16) & 0xff),
                            char(n >> 24)};
    raw.append(prefix, 4);
    raw.append(v);
  }
  return raw;
}

InputTensor* AddInput(inference::ModelInferRequest& message, const std::string& name,
                      const std::string& datatype, std::initializer_list<int64_t> shape) {
  InputTensor* input = message.add_inputs();
  input->set_name(name);
  input->set_datatype(datatype);
  for (int64_t d : shape) input->add_shape(d);
  return input;
}

// A valid request for BatchedConfig() with batch 2: x [2,3], y [2,4], both raw.
inference::ModelInferRequest ValidBatchedRequest() {
  inference::ModelInferRequest message;
  message.set_id("req-1");
  AddInput(message, "x", "FP32", {2, 3});
  message.add_raw_input_contents(RawOf<float>({1, 2, 3, 4, 5, 6}));
  AddInput(message, "y", "INT32", {2, 4});
  message.add_raw_input_contents(RawOf<int32_t>({1, 2, 3, 4, 5, 6, 7, 8}));
  return message;
}

std::string BytesOf(const RequestInput& input) {
  return std::string(reinterpret_cast<const char*>(input.data.data()), input.data.size());
}

std::vector<std::string> OutputNames(const InferenceRequest& request) {
  std::vector<std::string> names;
  for (const RequestedOutput& output : request.outputs) names.push_back(output.name);
  return names;
}

// Parses and expects failure with `code` and every one of `parts` in the message.
void ExpectError(const inference::ModelInferRequest& message, const inference::ModelConfig& config,
                 absl::StatusCode code, const std::vector<std::string>& parts) {
  InferenceRequest request;
  absl::Status status = ParseInferRequest(message, *Signature(config), request);
  EXPECT_EQ(status.code(), code) << status;
  for (const std::string& part : parts) {
    EXPECT_THAT(std::string(status.message()), HasSubstr(part));
  }
}

// ---------------------------------------------------------------------------- valid requests

TEST(InferRequestParserTest, ValidRequestPointsIntoRawContentsInConfigOrder) {
  inference::ModelInferRequest message;
  message.set_id("req-1");
  // Sent in the opposite of config order; raw contents follow the message order.
  AddInput(message, "y", "INT32", {2, 4});
  message.add_raw_input_contents(RawOf<int32_t>({1, 2, 3, 4, 5, 6, 7, 8}));
  AddInput(message, "x", "FP32", {2, 3});
  message.add_raw_input_contents(RawOf<float>({1, 2, 3, 4, 5, 6}));

  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  EXPECT_EQ(request.id, "req-1");
  EXPECT_EQ(request.batch_size, 2);
  ASSERT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.inputs[0].name, "x");
  EXPECT_EQ(request.inputs[0].type, DataType::kFp32);
  EXPECT_EQ(request.inputs[0].shape, (Shape{2, 3}));
  EXPECT_EQ(reinterpret_cast<const char*>(request.inputs[0].data.data()),
            message.raw_input_contents(1).data());
  EXPECT_EQ(request.inputs[0].data.size(), 24u);
  EXPECT_EQ(request.inputs[1].name, "y");
  EXPECT_EQ(request.inputs[1].type, DataType::kInt32);
  EXPECT_EQ(reinterpret_cast<const char*>(request.inputs[1].data.data()),
            message.raw_input_contents(0).data());
  EXPECT_TRUE(request.owned_data.empty());
  EXPECT_EQ(OutputNames(request), (std::vector<std::string>{"out0", "out1"}));
  EXPECT_EQ(request.priority, 0u);
  EXPECT_EQ(request.timeout_us, 0u);
  EXPECT_EQ(request.model, nullptr);
}

TEST(InferRequestParserTest, UnbatchedModelTakesDimsExactlyWithBatchSizeOne) {
  inference::ModelInferRequest message;
  AddInput(message, "x", "FP32", {2, 3});
  message.add_raw_input_contents(std::string(24, '\0'));
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(UnbatchedConfig()), request).ok());
  EXPECT_EQ(request.batch_size, 1);
  EXPECT_EQ(request.inputs[0].shape, (Shape{2, 3}));

  // A leading batch dimension is not allowed when max_batch_size is 0 (reshape is ignored).
  inference::ModelInferRequest batched;
  AddInput(batched, "x", "FP32", {1, 2, 3});
  batched.add_raw_input_contents(std::string(24, '\0'));
  ExpectError(batched, UnbatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x'", "model 'm'", "[1,2,3]", "expects [2,3]"});
  inference::ModelInferRequest reshaped;
  AddInput(reshaped, "x", "FP32", {6});
  reshaped.add_raw_input_contents(std::string(24, '\0'));
  ExpectError(reshaped, UnbatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x'", "[6]", "expects [2,3]"});
}

TEST(InferRequestParserTest, BatchedModelAcceptsAnyBatchUpToMax) {
  for (int64_t batch : {1, 5, 8}) {
    inference::ModelInferRequest message;
    AddInput(message, "x", "FP32", {batch, 3});
    message.add_raw_input_contents(std::string(12 * batch, '\0'));
    AddInput(message, "y", "INT32", {batch, 1});
    message.add_raw_input_contents(std::string(4 * batch, '\0'));
    InferenceRequest request;
    ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok()) << batch;
    EXPECT_EQ(request.batch_size, batch);
  }
}

TEST(InferRequestParserTest, ParsingTwiceIntoOneRequestStartsAfresh) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  EXPECT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.outputs.size(), 2u);
}

// ---------------------------------------------------------------------------- input names

TEST(InferRequestParserTest, UnknownInputIsInvalid) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  AddInput(message, "z", "FP32", {2, 3});
  message.add_raw_input_contents(std::string(24, '\0'));
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"unknown input 'z'", "model 'm'", "[x, y]"});
}

TEST(InferRequestParserTest, MissingInputIsInvalid) {
  inference::ModelInferRequest message;
  AddInput(message, "x", "FP32", {2, 3});
  message.add_raw_input_contents(std::string(24, '\0'));
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"model 'm'", "requires input 'y'"});
}

TEST(InferRequestParserTest, OptionalInputMayBeLeftOut) {
  inference::ModelConfig config = BatchedConfig();
  config.mutable_input(1)->set_optional(true);
  inference::ModelInferRequest message;
  AddInput(message, "x", "FP32", {2, 3});
  message.add_raw_input_contents(std::string(24, '\0'));
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(config), request).ok());
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].name, "x");
}

TEST(InferRequestParserTest, DuplicateInputIsInvalid) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  AddInput(message, "x", "FP32", {2, 3});
  message.add_raw_input_contents(std::string(24, '\0'));
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x'", "model 'm'", "more than once"});
}

TEST(InferRequestParserTest, BatchInputTargetsMustNotBeSent) {
  inference::ModelConfig config = ParseConfig(R"pb(
    name: "m"
    max_batch_size: 4
    input {
      name: "INPUT"
      data_type: TYPE_FP32
      dims: [ -1 ]
      allow_ragged_batch: true
    }
    batch_input {
      kind: BATCH_ELEMENT_COUNT
      target_name: "INDEX"
      data_type: TYPE_INT32
      source_input: "INPUT"
    }
    output {
      name: "OUT"
      data_type: TYPE_FP32
      dims: [ -1 ]
    }
  )pb");
  inference::ModelInferRequest message;
  AddInput(message, "INPUT", "FP32", {1, 2});
  message.add_raw_input_contents(std::string(8, '\0'));
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(config), request).ok());

  AddInput(message, "INDEX", "INT32", {1, 1});
  message.add_raw_input_contents(std::string(4, '\0'));
  ExpectError(message, config, absl::StatusCode::kInvalidArgument,
              {"input 'INDEX'", "model 'm'", "batch_input"});

  // Even if a config also lists the target as an input, clients neither need nor may send it.
  auto* listed = config.add_input();
  listed->set_name("INDEX");
  listed->set_data_type(inference::TYPE_INT32);
  listed->add_dims(1);
  ExpectError(message, config, absl::StatusCode::kInvalidArgument, {"input 'INDEX'"});
  message.mutable_inputs()->RemoveLast();
  message.mutable_raw_input_contents()->RemoveLast();
  EXPECT_TRUE(ParseInferRequest(message, *Signature(config), request).ok());
}

// ---------------------------------------------------------------------------- datatype, shape

TEST(InferRequestParserTest, WrongDatatypeNamesBoth) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.mutable_inputs(0)->set_datatype("FP64");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x' has datatype FP64, model 'm' expects FP32"});
  message.mutable_inputs(0)->set_datatype("FP33");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x'", "unknown datatype 'FP33'", "model 'm' expects FP32"});
  message.mutable_inputs(0)->set_datatype("INVALID");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x'", "'INVALID'"});
}

TEST(InferRequestParserTest, ShapeMismatchNamesExpectedAndGot) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.mutable_inputs(0)->set_shape(1, 4);  // x [2,4], config [-1,3]
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x' has shape [2,4]", "model 'm' expects [-1,3]"});
  message = ValidBatchedRequest();
  message.mutable_inputs(0)->mutable_shape()->RemoveLast();  // rank 1
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x' has shape [2]", "expects [-1,3]"});
  message.mutable_inputs(0)->clear_shape();  // rank 0: no batch dimension at all
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x' has shape []", "expects [-1,3]"});
}

TEST(InferRequestParserTest, NegativeDimensionIsInvalidEvenWhereConfigSaysVariable) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.mutable_inputs(1)->set_shape(1, -1);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'y'", "[2,-1]", "negative", "model 'm'"});
  message = ValidBatchedRequest();
  message.mutable_inputs(1)->set_shape(0, -2);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument, {"input 'y'"});
}

TEST(InferRequestParserTest, OverflowingDimensionsAreInvalid) {
  constexpr int64_t kHuge = int64_t{1} << 62;
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.mutable_inputs(1)->set_shape(1, kHuge);
  message.mutable_inputs(1)->add_shape(4);  // wrong rank first: no arithmetic
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument, {"input 'y'"});
  // Element count overflows int64.
  message.mutable_inputs(1)->mutable_shape()->RemoveLast();
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'y'", "model 'm'", "too many elements"});
  // Element count fits int64 but the byte size (x 4) would wrap around to 0 bytes.
  message.mutable_inputs(1)->set_shape(0, 1);
  message.mutable_inputs(0)->set_shape(0, 1);
  message.set_raw_input_contents(0, std::string(12, '\0'));
  message.set_raw_input_contents(1, "");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'y'", "model 'm'", "too many elements"});
}

// ---------------------------------------------------------------------------- batch size

TEST(InferRequestParserTest, BatchSizeOverMaxIsInvalid) {
  inference::ModelInferRequest message;
  AddInput(message, "x", "FP32", {9, 3});
  message.add_raw_input_contents(std::string(9 * 12, '\0'));
  AddInput(message, "y", "INT32", {9, 1});
  message.add_raw_input_contents(std::string(9 * 4, '\0'));
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x'", "batch size 9 exceeds max_batch_size 8 of model 'm'"});
}

TEST(InferRequestParserTest, BatchSizeZeroIsInvalid) {
  inference::ModelInferRequest message;
  AddInput(message, "x", "FP32", {0, 3});
  message.add_raw_input_contents("");
  AddInput(message, "y", "INT32", {0, 1});
  message.add_raw_input_contents("");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x'", "batch size 0", "model 'm'"});
}

TEST(InferRequestParserTest, BatchSizeMustAgreeBetweenInputs) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.mutable_inputs(1)->set_shape(0, 1);
  message.set_raw_input_contents(1, std::string(16, '\0'));
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'y' has batch size 1", "input 'x' has batch size 2", "model 'm'"});
}

// ---------------------------------------------------------------------------- raw contents

TEST(InferRequestParserTest, RawByteSizeMustMatchShape) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.set_raw_input_contents(0, std::string(20, '\0'));
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x' of model 'm'", "[2,3]", "needs 24 bytes, got 20"});
  message.set_raw_input_contents(0, std::string(28, '\0'));
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"needs 24 bytes, got 28"});
}

TEST(InferRequestParserTest, RawContentsCountMustMatchInputs) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.mutable_raw_input_contents()->RemoveLast();
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"request has 1 raw_input_contents for 2 inputs", "model 'm'"});
  message = ValidBatchedRequest();
  message.add_raw_input_contents("extra");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"request has 3 raw_input_contents for 2 inputs"});
}

TEST(InferRequestParserTest, RawAndTypedContentsTogetherAreInvalid) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.0f);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"input 'x' of model 'm'", "raw_input_contents", "fp32_contents"});
}

TEST(InferRequestParserTest, RawBytesTensorsAreValidated) {
  inference::ModelConfig config = SingleInputConfig("TYPE_STRING");
  inference::ModelInferRequest message;
  AddInput(message, "t", "BYTES", {3});
  message.add_raw_input_contents(SerializedStrings({"a", "", "hello"}));
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(config), request).ok());
  EXPECT_EQ(request.inputs[0].type, DataType::kBytes);
  EXPECT_EQ(reinterpret_cast<const char*>(request.inputs[0].data.data()),
            message.raw_input_contents(0).data());

  message.set_raw_input_contents(0, SerializedStrings({"a", "b"}));
  ExpectError(message, config, absl::StatusCode::kInvalidArgument,
              {"input 't' of model 'm'", "needs 3 BYTES elements, got 2"});
  std::string truncated = SerializedStrings({"a", "b", "cdef"});
  truncated.pop_back();
  message.set_raw_input_contents(0, truncated);
  ExpectError(message, config, absl::StatusCode::kInvalidArgument, {"input 't'", "remain"});
  message.set_raw_input_contents(0, std::string("\xff\xff\xff\xff", 4));
  ExpectError(message, config, absl::StatusCode::kInvalidArgument, {"input 't'"});
}

// ---------------------------------------------------------------------------- typed contents

// Parses a request for SingleInputConfig(config_type) whose input "t" [3] carries `contents`.
absl::Status ParseTyped(const std::string& config_type, const std::string& datatype,
                        const inference::InferTensorContents& contents, InferenceRequest& request) {
  inference::ModelInferRequest message;
  *AddInput(message, "t", datatype, {3})->mutable_contents() = contents;
  return ParseInferRequest(message, *Signature(SingleInputConfig(config_type)), request);
}

template <typename T, typename Field>
void ExpectPacked(const std::string& config_type, const std::string& datatype,
                  Field* (inference::InferTensorContents::*field)(),
                  std::initializer_list<typename Field::value_type> sent,
                  std::initializer_list<T> expected) {
  inference::InferTensorContents contents;
  for (auto v : sent) (contents.*field)()->Add(v);
  InferenceRequest request;
  absl::Status status = ParseTyped(config_type, datatype, contents, request);
  ASSERT_TRUE(status.ok()) << datatype << ": " << status;
  ASSERT_EQ(request.owned_data.size(), 1u);
  EXPECT_EQ(reinterpret_cast<const char*>(request.inputs[0].data.data()),
            request.owned_data[0]->data());
  EXPECT_EQ(BytesOf(request.inputs[0]), RawOf<T>(expected)) << datatype;
}

using Contents = inference::InferTensorContents;

TEST(InferRequestParserTest, TypedContentsConvertToRawForEveryType) {
  ExpectPacked<uint8_t>("TYPE_BOOL", "BOOL", &Contents::mutable_bool_contents, {true, false, true},
                        {1, 0, 1});
  ExpectPacked<int8_t>("TYPE_INT8", "INT8", &Contents::mutable_int_contents, {-128, 0, 127},
                       {-128, 0, 127});
  ExpectPacked<int16_t>("TYPE_INT16", "INT16", &Contents::mutable_int_contents, {-32768, 1, 32767},
                        {-32768, 1, 32767});
  ExpectPacked<int32_t>("TYPE_INT32", "INT32", &Contents::mutable_int_contents,
                        {std::numeric_limits<int32_t>::min(), 0, 7},
                        {std::numeric_limits<int32_t>::min(), 0, 7});
  ExpectPacked<int64_t>("TYPE_INT64", "INT64", &Contents::mutable_int64_contents,
                        {-(int64_t{1} << 40), 0, 1}, {-(int64_t{1} << 40), 0, 1});
  ExpectPacked<uint8_t>("TYPE_UINT8", "UINT8", &Contents::mutable_uint_contents, {0, 1, 255},
                        {0, 1, 255});
  ExpectPacked<uint16_t>("TYPE_UINT16", "UINT16", &Contents::mutable_uint_contents, {0, 1, 65535},
                         {0, 1, 65535});
  ExpectPacked<uint32_t>("TYPE_UINT32", "UINT32", &Contents::mutable_uint_contents,
                         {0, 1, 4000000000u}, {0, 1, 4000000000u});
  ExpectPacked<uint64_t>("TYPE_UINT64", "UINT64", &Contents::mutable_uint64_contents,
                         {0, 1, uint64_t{1} << 63}, {0, 1, uint64_t{1} << 63});
  ExpectPacked<float>("TYPE_FP32", "FP32", &Contents::mutable_fp32_contents, {1.5f, -2, 0},
                      {1.5f, -2, 0});
  ExpectPacked<double>("TYPE_FP64", "FP64", &Contents::mutable_fp64_contents, {1e300, -2, 0},
                       {1e300, -2, 0});
}

TEST(InferRequestParserTest, TypedBytesContentsAreLengthPrefixed) {
  Contents contents;
  contents.add_bytes_contents("a");
  contents.add_bytes_contents("");
  contents.add_bytes_contents(std::string("he\0lo", 5));
  InferenceRequest request;
  ASSERT_TRUE(ParseTyped("TYPE_STRING", "BYTES", contents, request).ok());
  EXPECT_EQ(BytesOf(request.inputs[0]), SerializedStrings({"a", "", std::string("he\0lo", 5)}));
}

TEST(InferRequestParserTest, TypedContentsInTheWrongFieldAreInvalid) {
  Contents contents;
  contents.add_int_contents(1);
  contents.add_int_contents(2);
  contents.add_int_contents(3);
  InferenceRequest request;
  absl::Status status = ParseTyped("TYPE_FP32", "FP32", contents, request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("input 't' of model 'm'"), HasSubstr("FP32 is sent in fp32_contents"),
                    HasSubstr("got int_contents")));
  // A second, stray field next to the right one is wrong too.
  contents.add_fp32_contents(1);
  contents.add_fp32_contents(2);
  contents.add_fp32_contents(3);
  EXPECT_EQ(ParseTyped("TYPE_FP32", "FP32", contents, request).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(InferRequestParserTest, HalfPrecisionHasNoTypedContents) {
  for (const char* type : {"FP16", "BF16"}) {
    Contents contents;
    contents.add_fp32_contents(1);
    InferenceRequest request;
    absl::Status status = ParseTyped(std::string("TYPE_") + type, type, contents, request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                AllOf(HasSubstr("input 't'"), HasSubstr(type), HasSubstr("raw_input_contents")));
  }
}

TEST(InferRequestParserTest, TypedContentsCountMustMatchShape) {
  Contents contents;
  contents.add_fp32_contents(1);
  contents.add_fp32_contents(2);
  InferenceRequest request;
  absl::Status status = ParseTyped("TYPE_FP32", "FP32", contents, request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("input 't' of model 'm'"), HasSubstr("fp32_contents has 2 values"),
                    HasSubstr("needs 3")));
  // No contents at all for a non-empty shape.
  EXPECT_EQ(ParseTyped("TYPE_FP32", "FP32", Contents(), request).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(InferRequestParserTest, TypedValuesOutOfRangeAreInvalid) {
  Contents contents;
  contents.add_int_contents(1);
  contents.add_int_contents(300);
  contents.add_int_contents(3);
  InferenceRequest request;
  absl::Status status = ParseTyped("TYPE_INT8", "INT8", contents, request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("input 't'"), HasSubstr("int_contents[1] = 300"), HasSubstr("INT8")));
  Contents unsigned_contents;
  for (uint32_t v : {1u, 2u, 70000u}) unsigned_contents.add_uint_contents(v);
  EXPECT_EQ(ParseTyped("TYPE_UINT16", "UINT16", unsigned_contents, request).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(InferRequestParserTest, TypedContentsWithBatching) {
  inference::ModelInferRequest message;
  auto* x = AddInput(message, "x", "FP32", {2, 3});
  for (float v : {1, 2, 3, 4, 5, 6}) x->mutable_contents()->add_fp32_contents(v);
  auto* y = AddInput(message, "y", "INT32", {2, 1});
  y->mutable_contents()->add_int_contents(7);
  y->mutable_contents()->add_int_contents(8);
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  EXPECT_EQ(request.batch_size, 2);
  EXPECT_EQ(BytesOf(request.inputs[0]), RawOf<float>({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(BytesOf(request.inputs[1]), RawOf<int32_t>({7, 8}));
  EXPECT_EQ(request.owned_data.size(), 2u);
}

// ---------------------------------------------------------------------------- parameters

TEST(InferRequestParserTest, SharedMemoryInputsAreUnimplementedAndNotCountedAsRaw) {
  for (const char* key :
       {"shared_memory_region", "shared_memory_byte_size", "shared_memory_offset"}) {
    inference::ModelInferRequest message = ValidBatchedRequest();
    (*message.mutable_inputs(0)->mutable_parameters())[key].set_string_param("region0");
    // x lives in shared memory, so only y's raw entry is sent.
    message.mutable_raw_input_contents()->DeleteSubrange(0, 1);
    ExpectError(message, BatchedConfig(), absl::StatusCode::kUnimplemented,
                {"input 'x'", "model 'm'", "shared memory is not supported yet"});
  }
}

// A region in "device" memory: bytes held here, reached only through Read and Write, as a CUDA
// region is.
class DeviceMemoryRegion final : public SharedMemoryRegion {
 public:
  DeviceMemoryRegion(std::string name, std::string bytes)
      : SharedMemoryRegion(std::move(name), SharedMemoryKind::kCuda, bytes.size()),
        bytes_(std::move(bytes)) {}
  SharedMemoryRegionStatus Status() const override { return {}; }
  absl::StatusOr<std::span<std::byte>> Bytes(uint64_t, uint64_t) const override {
    return absl::FailedPreconditionError("device memory");
  }
  absl::Status Read(uint64_t offset, std::span<std::byte> destination) const override {
    if (absl::Status window = CheckWindow(offset, destination.size()); !window.ok()) return window;
    std::memcpy(destination.data(), bytes_.data() + offset, destination.size());
    return absl::OkStatus();
  }
  absl::Status Write(uint64_t offset, std::span<const std::byte> source) const override {
    if (absl::Status window = CheckWindow(offset, source.size()); !window.ok()) return window;
    std::memcpy(bytes_.data() + offset, source.data(), source.size());
    return absl::OkStatus();
  }
  const std::string& bytes() const { return bytes_; }

 private:
  mutable std::string bytes_;
};

TEST(InferRequestParserTest, DeviceMemoryInputsAreCopiedOnceAndOutputsWrittenBack) {
  SharedMemoryManager regions;
  auto device = std::make_shared<DeviceMemoryRegion>(
      "gpu", std::string(8, 'z') + RawOf<float>({1, 2, 3, 4, 5, 6}) + std::string(16, '\0'));
  const SharedMemoryClient client = SharedMemoryClient::FromAddress("127.0.0.1");
  ASSERT_TRUE(regions.Register(client, "gpu", [&] {
    return absl::StatusOr<std::shared_ptr<SharedMemoryRegion>>(device);
  }).ok());
  inference::ModelInferRequest message = ValidBatchedRequest();
  auto& x = *message.mutable_inputs(0)->mutable_parameters();
  x["shared_memory_region"].set_string_param("gpu");
  x["shared_memory_byte_size"].set_int64_param(24);
  x["shared_memory_offset"].set_int64_param(8);
  message.mutable_raw_input_contents()->DeleteSubrange(0, 1);
  auto& out = *message.add_outputs();
  out.set_name("out0");
  (*out.mutable_parameters())["shared_memory_region"].set_string_param("gpu");
  (*out.mutable_parameters())["shared_memory_byte_size"].set_int64_param(12);
  (*out.mutable_parameters())["shared_memory_offset"].set_int64_param(32);

  InferenceRequest request;
  std::vector<SharedMemoryOutput> shm_outputs;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()),
                                ClientRegions(regions, client), request, shm_outputs)
                  .ok());
  EXPECT_EQ(BytesOf(request.inputs[0]), RawOf<float>({1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(request.held_resources.empty());  // a copy: the region may go at once
  ASSERT_EQ(shm_outputs.size(), 1u);

  InferenceResponse response;
  response.outputs.push_back({"out0", DataType::kFp32, {1, 3}, RawOf<float>({7, 8, 9})});
  ASSERT_TRUE(WriteSharedMemoryOutputs(shm_outputs, response).ok());
  EXPECT_TRUE(response.outputs[0].data.empty());
  EXPECT_EQ(device->bytes().substr(32, 12), RawOf<float>({7, 8, 9}));

  (*out.mutable_parameters())["shared_memory_offset"].set_int64_param(40);
  shm_outputs.clear();
  EXPECT_EQ(ParseInferRequest(message, *Signature(BatchedConfig()), ClientRegions(regions, client),
                              request, shm_outputs)
                .code(),
            absl::StatusCode::kInvalidArgument);
  // Another client's requests do not reach the region.
  shm_outputs.clear();
  (*out.mutable_parameters())["shared_memory_offset"].set_int64_param(32);
  const ClientRegions other(regions, SharedMemoryClient::FromAddress("10.0.0.1"));
  absl::Status foreign =
      ParseInferRequest(message, *Signature(BatchedConfig()), other, request, shm_outputs);
  EXPECT_EQ(foreign.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(foreign.message().find("has not registered it"), std::string::npos) << foreign;
}

TEST(InferRequestParserTest, OtherTensorParametersAreIgnored) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  (*message.mutable_inputs(0)->mutable_parameters())["binary_data_size"].set_int64_param(24);
  (*message.mutable_inputs(1)->mutable_parameters())["triton_whatever"].set_bool_param(true);
  InferenceRequest request;
  EXPECT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
}

TEST(InferRequestParserTest, PriorityAndTimeoutParameters) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  (*message.mutable_parameters())["priority"].set_int64_param(2);
  (*message.mutable_parameters())["timeout"].set_int64_param(1500);
  (*message.mutable_parameters())["my_backend_flag"].set_string_param("on");
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  EXPECT_EQ(request.priority, 2u);
  EXPECT_EQ(request.timeout_us, 1500u);

  (*message.mutable_parameters())["priority"].set_uint64_param(3);
  ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  EXPECT_EQ(request.priority, 3u);
}

TEST(InferRequestParserTest, BadPriorityOrTimeoutIsInvalid) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  (*message.mutable_parameters())["priority"].set_int64_param(-1);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"parameter 'priority'", "model 'm'", ">= 0, got -1"});
  (*message.mutable_parameters())["priority"].set_string_param("high");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"parameter 'priority'", "int64_param or uint64_param, got string_param"});
  message.mutable_parameters()->erase("priority");
  (*message.mutable_parameters())["timeout"].set_uint64_param(5);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"parameter 'timeout'", "model 'm'", "int64_param, got uint64_param"});
  (*message.mutable_parameters())["timeout"].set_int64_param(-5);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"parameter 'timeout'", ">= 0, got -5"});
  (*message.mutable_parameters())["timeout"].set_double_param(1.5);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"parameter 'timeout'", "double_param"});
}

TEST(InferRequestParserTest, SequenceParametersAreIgnoredWithoutTheSequenceBatcher) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  (*message.mutable_parameters())["sequence_id"].set_uint64_param(7);
  (*message.mutable_parameters())["sequence_start"].set_bool_param(true);
  (*message.mutable_parameters())["sequence_end"].set_bool_param(false);
  InferenceRequest request;
  EXPECT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
}

TEST(InferRequestParserTest, EmptyFinalResponseFlagOfTheStockClientIsAccepted) {
  // The stock C++ client (CMSSW, perf_analyzer) sends it with every request.
  inference::ModelInferRequest message = ValidBatchedRequest();
  (*message.mutable_parameters())["triton_enable_empty_final_response"].set_bool_param(false);
  InferenceRequest request;
  EXPECT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  (*message.mutable_parameters())["triton_enable_empty_final_response"].set_bool_param(true);
  EXPECT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  (*message.mutable_parameters())["triton_enable_empty_final_response"].set_int64_param(1);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"parameter 'triton_enable_empty_final_response'", "model 'm'",
               "bool_param, got int64_param"});
}

TEST(InferRequestParserTest, OtherTritonParametersAreReserved) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  (*message.mutable_parameters())["triton_anything"].set_bool_param(true);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"parameter 'triton_anything'", "model 'm'", "reserved"});
}

// ---------------------------------------------------------------------------- outputs

TEST(InferRequestParserTest, NamedOutputsKeepRequestOrder) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.add_outputs()->set_name("out1");
  auto* out0 = message.add_outputs();
  out0->set_name("out0");
  (*out0->mutable_parameters())["binary_data"].set_bool_param(true);
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  EXPECT_EQ(OutputNames(request), (std::vector<std::string>{"out1", "out0"}));
}

TEST(InferRequestParserTest, UnknownOrDuplicateOutputIsInvalid) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  message.add_outputs()->set_name("out9");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"unknown output 'out9'", "model 'm'", "[out0, out1]"});
  message = ValidBatchedRequest();
  message.add_outputs()->set_name("out0");
  message.add_outputs()->set_name("out0");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"output 'out0'", "model 'm'", "more than once"});
}

TEST(InferRequestParserTest, ClassificationIsKeptForTheFrontend) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  auto* out = message.add_outputs();
  out->set_name("out0");
  (*out->mutable_parameters())["classification"].set_int64_param(3);
  InferenceRequest request;
  ASSERT_TRUE(ParseInferRequest(message, *Signature(BatchedConfig()), request).ok());
  ASSERT_EQ(request.outputs.size(), 1u);
  EXPECT_EQ(request.outputs[0].classification, 3u);
  (*out->mutable_parameters())["classification"].set_int64_param(0);
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"output 'out0'", "model 'm'", "classification", ">= 1"});
  (*out->mutable_parameters())["classification"].set_string_param("3");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kInvalidArgument,
              {"classification", "int64_param or uint64_param"});
}

TEST(InferRequestParserTest, SharedMemoryOutputsNeedARegistry) {
  inference::ModelInferRequest message = ValidBatchedRequest();
  auto* out = message.add_outputs();
  out->set_name("out0");
  (*out->mutable_parameters())["shared_memory_region"].set_string_param("r");
  ExpectError(message, BatchedConfig(), absl::StatusCode::kUnimplemented,
              {"output 'out0'", "shared memory is not supported yet"});
}

// ---------------------------------------------------------------------------- robustness

// Random mutations of a valid request must give OK or a clean error, never a crash, and an OK
// request's views must lie inside the message or owned_data with sizes matching their shapes.
TEST(InferRequestParserTest, RandomlyMutatedRequestsNeverMisbehave) {
  std::mt19937_64 rng(12345);
  const inference::ModelConfig config = BatchedConfig();
  const int64_t dims[] = {-3,
                          -1,
                          0,
                          1,
                          2,
                          3,
                          8,
                          9,
                          int64_t{1} << 40,
                          int64_t{1} << 62,
                          std::numeric_limits<int64_t>::max()};
  const char* types[] = {"FP32", "INT32", "BYTES", "FP16", "", "BOOL"};
  int ok = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    inference::ModelInferRequest message = ValidBatchedRequest();
    for (int m = 0; m < 3; ++m) {
      auto* input = message.mutable_inputs(rng() % 2);
      switch (rng() % 5) {
        case 0:
          if (input->shape_size() > 0)
            input->set_shape(rng() % input->shape_size(), dims[rng() % 11]);
          break;
        case 1:
          input->add_shape(dims[rng() % 11]);
          break;
        case 2:
          input->set_datatype(types[rng() % 6]);
          break;
        case 3:
          message.set_raw_input_contents(rng() % 2, std::string(rng() % 64, '\x01'));
          break;
        default:
          break;
      }
    }
    InferenceRequest request;
    absl::Status status = ParseInferRequest(message, *Signature(config), request);
    if (!status.ok()) {
      EXPECT_TRUE(status.code() == absl::StatusCode::kInvalidArgument) << status;
      continue;
    }
    ++ok;
    for (const RequestInput& input : request.inputs) {
      int64_t elements = 1;
      for (int64_t d : input.shape) elements *= d;
      EXPECT_EQ(static_cast<int64_t>(input.data.size()),
                elements * static_cast<int64_t>(ElementSize(input.type)));
    }
  }
  EXPECT_GT(ok, 0);
}

}  // namespace
}  // namespace sonic::server
