#include "server/frontend/http_infer_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "server/frontend/http_compression.h"
#include "server/frontend/http_message_json.h"

namespace sonic::server {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

template <typename T>
std::string Raw(std::initializer_list<T> values) {
  std::string out;
  for (T value : values) out.append(reinterpret_cast<const char*>(&value), sizeof(T));
  return out;
}

absl::Status Parse(const json& body, inference::ModelInferRequest& message,
                   HttpOutputFormat& format) {
  return ParseHttpInferRequest(body.dump(), std::nullopt, message, format);
}

// One input of `datatype` with `data` and shape [n]; returns its raw contents.
std::string ParseOne(const std::string& datatype, const json& data, int64_t n) {
  inference::ModelInferRequest message;
  HttpOutputFormat format;
  json body = {{"inputs", {{{"name", "x"}, {"datatype", datatype}, {"shape", {n}}, {"data", data}}}}};
  absl::Status status = Parse(body, message, format);
  EXPECT_TRUE(status.ok()) << datatype << ": " << status;
  if (!status.ok() || message.raw_input_contents_size() != 1) return "";
  EXPECT_EQ(message.inputs(0).datatype(), datatype);
  return message.raw_input_contents(0);
}

TEST(HttpInferCodecTest, JsonDataOfEveryDatatypeBecomesTheRawWireLayout) {
  EXPECT_EQ(ParseOne("BOOL", {true, false}, 2), std::string("\1\0", 2));
  EXPECT_EQ(ParseOne("UINT8", {0, 255}, 2), Raw<uint8_t>({0, 255}));
  EXPECT_EQ(ParseOne("UINT16", {1, 65535}, 2), Raw<uint16_t>({1, 65535}));
  EXPECT_EQ(ParseOne("UINT32", {7, 4294967295u}, 2), Raw<uint32_t>({7, 4294967295u}));
  EXPECT_EQ(ParseOne("UINT64", {18446744073709551615ull}, 1),
            Raw<uint64_t>({18446744073709551615ull}));
  EXPECT_EQ(ParseOne("INT8", {-128, 127}, 2), Raw<int8_t>({-128, 127}));
  EXPECT_EQ(ParseOne("INT16", {-32768, 5}, 2), Raw<int16_t>({-32768, 5}));
  EXPECT_EQ(ParseOne("INT32", {-1, 2}, 2), Raw<int32_t>({-1, 2}));
  EXPECT_EQ(ParseOne("INT64", {-9223372036854775807ll, 3}, 2),
            Raw<int64_t>({-9223372036854775807ll, 3}));
  EXPECT_EQ(ParseOne("FP32", {1.5, -2, 0.25}, 3), Raw<float>({1.5f, -2.0f, 0.25f}));
  EXPECT_EQ(ParseOne("FP64", {0.1, 3}, 2), Raw<double>({0.1, 3.0}));
  EXPECT_EQ(ParseOne("BYTES", {"ab", ""}, 2), std::string("\2\0\0\0ab\0\0\0\0", 10));
}

TEST(HttpInferCodecTest, NestedDataIsFlattenedRowMajor) {
  inference::ModelInferRequest message;
  HttpOutputFormat format;
  json body = {{"inputs",
                {{{"name", "x"}, {"datatype", "INT32"}, {"shape", {2, 2}}, {"data", {{1, 2}, {3, 4}}}}}}};
  ASSERT_TRUE(Parse(body, message, format).ok());
  EXPECT_EQ(message.raw_input_contents(0), Raw<int32_t>({1, 2, 3, 4}));
  EXPECT_THAT(message.inputs(0).shape(), ::testing::ElementsAre(2, 2));
}

TEST(HttpInferCodecTest, IdParametersAndOutputsAreCarriedOver) {
  inference::ModelInferRequest message;
  HttpOutputFormat format;
  json body = {
      {"id", "r1"},
      {"parameters", {{"priority", 2}, {"binary_data_output", true}, {"note", "n"}, {"x", 0.5}}},
      {"inputs", {{{"name", "x"}, {"datatype", "FP32"}, {"shape", {1}}, {"data", {1}}}}},
      {"outputs", {{{"name", "a"}, {"parameters", {{"binary_data", false}}}}, {{"name", "b"}}}}};
  ASSERT_TRUE(Parse(body, message, format).ok());
  EXPECT_EQ(message.id(), "r1");
  EXPECT_EQ(message.parameters().at("priority").int64_param(), 2);
  EXPECT_EQ(message.parameters().at("note").string_param(), "n");
  EXPECT_DOUBLE_EQ(message.parameters().at("x").double_param(), 0.5);
  EXPECT_FALSE(message.parameters().contains("binary_data_output"));
  EXPECT_TRUE(format.binary_by_default);
  ASSERT_EQ(message.outputs_size(), 2);
  EXPECT_FALSE(message.outputs(0).parameters().contains("binary_data"));
  ASSERT_EQ(format.outputs.size(), 2u);
  EXPECT_EQ(format.outputs[0].binary, std::optional<bool>(false));
  EXPECT_EQ(format.outputs[1].binary, std::nullopt);
}

TEST(HttpInferCodecTest, BinaryInputsAreCutFromTheTailInInputOrder) {
  const std::string a = Raw<float>({1, 2});
  const std::string b = std::string("\1\0\0\0z", 5);
  json header = {{"inputs",
                  {{{"name", "a"}, {"datatype", "FP32"}, {"shape", {2}},
                    {"parameters", {{"binary_data_size", a.size()}}}},
                   {{"name", "j"}, {"datatype", "INT8"}, {"shape", {1}}, {"data", {4}}},
                   {{"name", "b"}, {"datatype", "BYTES"}, {"shape", {1}},
                    {"parameters", {{"binary_data_size", b.size()}}}}}}};
  const std::string json_text = header.dump();
  inference::ModelInferRequest message;
  HttpOutputFormat format;
  ASSERT_TRUE(ParseHttpInferRequest(json_text + a + b, json_text.size(), message, format).ok());
  ASSERT_EQ(message.raw_input_contents_size(), 3);
  EXPECT_EQ(message.raw_input_contents(0), a);
  EXPECT_EQ(message.raw_input_contents(1), Raw<int8_t>({4}));
  EXPECT_EQ(message.raw_input_contents(2), b);
  EXPECT_FALSE(message.inputs(0).parameters().contains("binary_data_size"));
}

TEST(HttpInferCodecTest, SharedMemoryInputsHaveNoRawEntry) {
  json body = {{"inputs",
                {{{"name", "a"}, {"datatype", "FP32"}, {"shape", {2}},
                  {"parameters", {{"shared_memory_region", "r"}, {"shared_memory_byte_size", 8}}}}}}};
  inference::ModelInferRequest message;
  HttpOutputFormat format;
  ASSERT_TRUE(Parse(body, message, format).ok());
  EXPECT_EQ(message.raw_input_contents_size(), 0);
  EXPECT_EQ(message.inputs(0).parameters().at("shared_memory_region").string_param(), "r");
  EXPECT_EQ(message.inputs(0).parameters().at("shared_memory_byte_size").int64_param(), 8);
}

absl::Status ParseError(const std::string& body, std::optional<size_t> header_length = {}) {
  inference::ModelInferRequest message;
  HttpOutputFormat format;
  return ParseHttpInferRequest(body, header_length, message, format);
}

json OneInput(json input) { return {{"inputs", {std::move(input)}}}; }

TEST(HttpInferCodecTest, BadRequestsAreInvalidArgumentsNamingWhatIsWrong) {
  struct Case {
    std::string body;
    std::optional<size_t> header_length;
    std::string message;
  };
  const json fp32 = {{"name", "x"}, {"datatype", "FP32"}, {"shape", {2}}};
  auto with = [](json input, const char* key, json value) {
    input[key] = std::move(value);
    return OneInput(std::move(input)).dump();
  };
  const std::vector<Case> cases = {
      {"{not json", {}, "not valid JSON"},
      {"[]", {}, "JSON object"},
      {json{{"id", 1}, {"inputs", json::array()}}.dump(), {}, "'id'"},
      {"{}", {}, "'inputs'"},
      {with(fp32, "data", {1, 2, 3}), {}, "3 values in 'data' for a shape of 2"},
      {with(fp32, "data", {"a", "b"}), {}, "input 'x': expected a number"},
      {OneInput({{"name", "x"}, {"datatype", "INT8"}, {"shape", {1}}, {"data", {300}}}).dump(), {},
       "out of range"},
      {OneInput({{"name", "x"}, {"datatype", "FP16"}, {"shape", {1}}, {"data", {1}}}).dump(), {},
       "as binary data"},
      {OneInput({{"name", "x"}, {"datatype", "NOPE"}, {"shape", {1}}, {"data", {1}}}).dump(), {},
       "unknown datatype"},
      {OneInput({{"name", "x"}, {"datatype", "FP32"}, {"shape", {1}}}).dump(), {}, "no 'data'"},
      {with(fp32, "parameters", {{"binary_data_size", 8}}), {}, "overruns"},
      {"{}", 10, "past the body"},
  };
  for (const Case& c : cases) {
    absl::Status status = ParseError(c.body, c.header_length);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.body;
  }
  const std::string header = with(fp32, "parameters", {{"binary_data_size", 8}});
  EXPECT_THAT(ParseError(header + std::string(12, 'x'), header.size()).message(),
              HasSubstr("4 bytes of binary data left over"));
}

OutputTensor Output(std::string name, DataType type, Shape shape, std::string data) {
  OutputTensor output;
  output.name = std::move(name);
  output.type = type;
  output.shape = std::move(shape);
  output.data = std::move(data);
  return output;
}

TEST(HttpInferCodecTest, ResponseJsonDataOfEveryDatatype) {
  InferenceResponse response;
  response.model_name = "m";
  response.model_version = 2;
  response.id = "r";
  response.outputs.push_back(Output("bool", DataType::kBool, {2}, std::string("\1\0", 2)));
  response.outputs.push_back(Output("u8", DataType::kUint8, {1}, Raw<uint8_t>({200})));
  response.outputs.push_back(Output("u64", DataType::kUint64, {1}, Raw<uint64_t>({1ull << 63})));
  response.outputs.push_back(Output("i16", DataType::kInt16, {2}, Raw<int16_t>({-3, 4})));
  response.outputs.push_back(Output("i64", DataType::kInt64, {1}, Raw<int64_t>({-5})));
  response.outputs.push_back(Output("f32", DataType::kFp32, {2}, Raw<float>({1.5f, -0.25f})));
  response.outputs.push_back(Output("f64", DataType::kFp64, {1}, Raw<double>({0.1})));
  response.outputs.push_back(
      Output("s", DataType::kBytes, {2}, std::string("\2\0\0\0hi\0\0\0\0", 10)));
  HttpBody body = BuildHttpInferResponse(std::move(response), {});
  EXPECT_FALSE(body.header_length);
  json got = json::parse(body.data);
  EXPECT_EQ(got["model_name"], "m");
  EXPECT_EQ(got["model_version"], "2");
  EXPECT_EQ(got["id"], "r");
  const json& outputs = got["outputs"];
  ASSERT_EQ(outputs.size(), 8u);
  EXPECT_EQ(outputs[0]["data"], json({true, false}));
  EXPECT_EQ(outputs[0]["datatype"], "BOOL");
  EXPECT_EQ(outputs[1]["data"], json({200}));
  EXPECT_EQ(outputs[2]["data"][0].get<uint64_t>(), 1ull << 63);
  EXPECT_EQ(outputs[3]["data"], json({-3, 4}));
  EXPECT_EQ(outputs[3]["shape"], json({2}));
  EXPECT_EQ(outputs[4]["data"], json({-5}));
  EXPECT_EQ(outputs[5]["data"], json({1.5, -0.25}));
  EXPECT_DOUBLE_EQ(outputs[6]["data"][0].get<double>(), 0.1);
  EXPECT_EQ(outputs[7]["data"], json({"hi", ""}));
}

TEST(HttpInferCodecTest, BinaryOutputsFollowTheJsonInOutputOrder) {
  InferenceResponse response;
  response.model_name = "m";
  response.outputs.push_back(Output("a", DataType::kFp32, {1}, Raw<float>({3})));
  response.outputs.push_back(Output("h", DataType::kFp16, {1}, std::string("\1\2", 2)));
  response.outputs.push_back(Output("j", DataType::kInt32, {1}, Raw<int32_t>({9})));
  response.outputs.push_back(Output("shm", DataType::kInt32, {1}, ""));
  HttpOutputFormat format;
  format.binary_by_default = true;
  format.outputs = {{"a", std::nullopt, false}, {"j", false, false}, {"shm", std::nullopt, true}};
  HttpBody body = BuildHttpInferResponse(std::move(response), format);
  ASSERT_TRUE(body.header_length);
  json header = json::parse(body.data.substr(0, *body.header_length));
  EXPECT_FALSE(header.contains("id"));
  EXPECT_EQ(header["outputs"][0]["parameters"]["binary_data_size"], 4);
  EXPECT_EQ(header["outputs"][1]["parameters"]["binary_data_size"], 2);  // FP16: always binary
  EXPECT_EQ(header["outputs"][2]["data"], json({9}));
  EXPECT_FALSE(header["outputs"][3].contains("data"));
  EXPECT_FALSE(header["outputs"][3].contains("parameters"));
  EXPECT_EQ(body.data.substr(*body.header_length), Raw<float>({3}) + std::string("\1\2", 2));
}

TEST(HttpInferCodecTest, ErrorBodyIsTritonsShape) {
  EXPECT_EQ(json::parse(HttpErrorBody("bad \"x\"")), json({{"error", "bad \"x\""}}));
}

TEST(HttpCompressionTest, GzipAndDeflateRoundTrip) {
  const std::string data(10000, 'a');
  for (ContentCoding coding : {ContentCoding::kGzip, ContentCoding::kDeflate}) {
    absl::StatusOr<std::string> packed = Compress(data, coding);
    ASSERT_TRUE(packed.ok());
    EXPECT_LT(packed->size(), data.size());
    absl::StatusOr<std::string> unpacked = Decompress(*packed, coding);
    ASSERT_TRUE(unpacked.ok());
    EXPECT_EQ(*unpacked, data);
  }
  EXPECT_FALSE(Decompress("garbage", ContentCoding::kGzip).ok());
  EXPECT_EQ(AcceptedCoding("deflate, gzip"), ContentCoding::kDeflate);
  EXPECT_EQ(AcceptedCoding("gzip"), ContentCoding::kGzip);
  EXPECT_EQ(AcceptedCoding("br"), std::nullopt);
}

TEST(HttpMessageJsonTest, ProtoFieldNamesAndInt64AsNumbers) {
  inference::ModelConfig config;
  config.set_name("m");
  config.set_max_batch_size(4);
  auto* input = config.add_input();
  input->set_name("x");
  input->set_data_type(inference::TYPE_FP32);
  input->add_dims(-1);
  input->add_dims(16);
  config.mutable_dynamic_batching()->set_max_queue_delay_microseconds(100);
  absl::StatusOr<std::string> text = MessageToTritonJson(config);
  ASSERT_TRUE(text.ok());
  json got = json::parse(*text);
  EXPECT_EQ(got["max_batch_size"], 4);
  EXPECT_EQ(got["input"][0]["dims"], json({-1, 16}));
  EXPECT_EQ(got["input"][0]["data_type"], "TYPE_FP32");
  EXPECT_EQ(got["input"][0]["is_shape_tensor"], false);
  EXPECT_EQ(got["dynamic_batching"]["max_queue_delay_microseconds"], 100);
}

}  // namespace
}  // namespace sonic::server
