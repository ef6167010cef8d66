#include <gtest/gtest.h>

#include <cctype>
#include <random>

#include "infer_request.h"
#include "input_data_file.h"
#include "tensor_data.h"

namespace sonic::tools {
namespace {

// A model like the test repository's identity_fp32: max_batch_size 8, INPUT0 FP32 [-1].
ModelInterface BatchingModel() {
  ModelInterface model;
  model.max_batch_size = 8;
  model.metadata.set_name("m");
  auto* input = model.metadata.add_inputs();
  input->set_name("INPUT0");
  input->set_datatype("FP32");
  input->add_shape(-1);
  input->add_shape(-1);
  auto* text = model.metadata.add_inputs();
  text->set_name("TEXT");
  text->set_datatype("BYTES");
  text->add_shape(-1);
  text->add_shape(2);
  return model;
}

TEST(RequestTest, GeneratedRequestHasBatchAndShapeOverrides) {
  ModelInterface model = BatchingModel();
  absl::StatusOr<ShapeOverrides> shapes = ParseShapeFlags({"INPUT0:3"}, model);
  ASSERT_TRUE(shapes.ok()) << shapes.status();
  RequestSpec spec;
  spec.model_name = "m";
  spec.batch_size = 2;
  spec.shapes = *shapes;
  std::mt19937_64 rng(1);
  absl::StatusOr<inference::ModelInferRequest> request =
      MakeGeneratedRequest(model, spec, InputData::kZero, rng);
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->inputs_size(), 2);
  EXPECT_EQ(std::vector<int64_t>(request->inputs(0).shape().begin(),
                                 request->inputs(0).shape().end()),
            (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(request->raw_input_contents(0), std::string(2 * 3 * 4, '\0'));
  // Two batch entries of two empty strings: four 4-byte zero lengths.
  EXPECT_EQ(request->raw_input_contents(1), std::string(4 * 4, '\0'));
}

// perf_analyzer's --string-length: random BYTES elements of that many letters and digits.
TEST(RequestTest, RandomStringsHaveTheAskedLength) {
  ModelInterface model = BatchingModel();
  RequestSpec spec;
  spec.model_name = "m";
  spec.shapes = {{"INPUT0", {1}}};
  spec.string_length = 5;
  std::mt19937_64 rng(1);
  absl::StatusOr<inference::ModelInferRequest> request =
      MakeGeneratedRequest(model, spec, InputData::kRandom, rng);
  ASSERT_TRUE(request.ok()) << request.status();
  absl::StatusOr<std::vector<std::string>> text =
      FormatRawContents("BYTES", request->raw_input_contents(1), 10, nullptr);
  ASSERT_TRUE(text.ok()) << text.status();
  ASSERT_EQ(text->size(), 2u);  // one batch entry of [2]
  for (const std::string& quoted : *text) {
    ASSERT_EQ(quoted.size(), 5u + 2) << quoted;
    for (char c : quoted.substr(1, 5)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  }
  EXPECT_NE((*text)[0], (*text)[1]);
}

TEST(RequestTest, MissingOrWrongShapesAreNamed) {
  ModelInterface model = BatchingModel();
  RequestSpec spec;
  spec.model_name = "m";
  std::mt19937_64 rng(1);
  absl::StatusOr<inference::ModelInferRequest> request =
      MakeGeneratedRequest(model, spec, InputData::kRandom, rng);
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find("--shape INPUT0"), std::string::npos);
  EXPECT_FALSE(ParseShapeFlags({"NOPE:3"}, model).ok());
  EXPECT_FALSE(ParseShapeFlags({"INPUT0:x"}, model).ok());
  spec.shapes = {{"TEXT", {3}}};
  EXPECT_FALSE(ResolveInputShape(model.metadata.inputs(1), model, spec).ok());
}

TEST(RequestTest, JsonDataGivesOneRequestPerEntry) {
  ModelInterface model = BatchingModel();
  RequestSpec spec;
  spec.model_name = "m";
  spec.batch_size = 2;
  spec.shapes = {{"INPUT0", {2}}};
  absl::StatusOr<std::vector<inference::ModelInferRequest>> requests = MakeRequestsFromJson(
      R"({"data": [
            {"INPUT0": [[1.5, -2]], "TEXT": ["a", "bc"]},
            {"INPUT0": {"content": [1, 2, 3], "shape": [3]}, "TEXT": {"content": ["x", ""]}}
          ]})",
      model, spec);
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 2u);
  size_t total = 0;
  absl::StatusOr<std::vector<std::string>> values =
      FormatRawContents("FP32", (*requests)[0].raw_input_contents(0), 10, &total);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"1.5", "-2", "1.5", "-2"}));  // batch of 2
  values = FormatRawContents("BYTES", (*requests)[0].raw_input_contents(1), 10, &total);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"\"a\"", "\"bc\"", "\"a\"", "\"bc\""}));
  EXPECT_EQ((*requests)[1].inputs(0).shape_size(), 2);
  EXPECT_EQ((*requests)[1].inputs(0).shape(1), 3);
}

TEST(RequestTest, BadJsonDataIsRejectedWithItsPlace) {
  ModelInterface model = BatchingModel();
  RequestSpec spec;
  spec.model_name = "m";
  spec.shapes = {{"INPUT0", {2}}};
  auto error = [&](const char* json) {
    absl::StatusOr<std::vector<inference::ModelInferRequest>> requests =
        MakeRequestsFromJson(json, model, spec);
    EXPECT_EQ(requests.status().code(), absl::StatusCode::kInvalidArgument) << json;
    return std::string(requests.status().message());
  };
  EXPECT_NE(error("{"), "");
  EXPECT_NE(error(R"({"data": []})"), "");
  EXPECT_NE(error(R"({"data": [{"INPUT0": [1, 2]}]})").find("data[0] input 'TEXT'"),
            std::string::npos);
  EXPECT_NE(error(R"({"data": [{"INPUT0": [1], "TEXT": ["a", "b"]}]})").find("1 values"),
            std::string::npos);
  EXPECT_NE(error(R"({"data": [{"INPUT0": [1, 2], "TEXT": [1, 2]}]})").find("strings"),
            std::string::npos);
}

TEST(RequestTest, EncodedNumbersReadBack) {
  absl::StatusOr<std::string> raw = EncodeNumbers("INT16", {1, -7, 300});
  ASSERT_TRUE(raw.ok());
  size_t total = 0;
  EXPECT_EQ(*FormatRawContents("INT16", *raw, 10, &total),
            (std::vector<std::string>{"1", "-7", "300"}));
  EXPECT_EQ(*FormatRawContents("BOOL", *EncodeNumbers("BOOL", {0, 2}), 10, &total),
            (std::vector<std::string>{"false", "true"}));
  EXPECT_FALSE(EncodeNumbers("BYTES", {1}).ok());
}

}  // namespace
}  // namespace sonic::tools
