// Inference through a running sonic-server (mode none, the test model repository): unary and
// streaming ModelInfer, every wire datatype, typed contents, TorchScript models against the
// same model run in-process, requested-output subsets, messages over gRPC's 4 MB default, and
// INVALID_ARGUMENT for every kind of malformed request without the server going down.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include <cmath>
#include <cstdint>
#include <map>
#include <set>

#include "integration_test_util.h"
#include "test_models.h"

namespace sonic::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

class ServerInferTest : public SharedServerTest<ServerInferTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() { return StartTestServer({}); }

 protected:
  // Infers and expects success with one raw output per output.
  inference::ModelInferResponse InferOk(const inference::ModelInferRequest& request) {
    inference::ModelInferResponse response;
    grpc::Status status = Infer(*stub_, request, &response);
    EXPECT_TRUE(status.ok()) << request.model_name() << ": " << status.error_message();
    EXPECT_EQ(response.raw_output_contents_size(), response.outputs_size());
    return response;
  }
};

std::vector<float> Iota(size_t count, float start = 0.5f) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = start + static_cast<float>(i) * 0.25f;
  return values;
}

TEST_F(ServerInferTest, IdentityFp32RoundTripsABatchWithVariableDims) {
  for (int64_t width : {5, 7, 1}) {
    SCOPED_TRACE(width);
    std::vector<float> values = Iota(static_cast<size_t>(3 * width));
    inference::ModelInferRequest request =
        Fp32Request("identity_fp32", "INPUT0", {3, width}, values);
    request.set_id("round-trip");
    inference::ModelInferResponse response = InferOk(request);
    EXPECT_EQ(response.model_name(), "identity_fp32");
    EXPECT_EQ(response.model_version(), "1");
    EXPECT_EQ(response.id(), "round-trip");
    ASSERT_EQ(response.outputs_size(), 1);
    EXPECT_EQ(response.outputs(0).name(), "OUTPUT0");
    EXPECT_EQ(response.outputs(0).datatype(), "FP32");
    EXPECT_THAT(response.outputs(0).shape(), ElementsAre(3, width));
    ASSERT_EQ(response.raw_output_contents_size(), 1);
    EXPECT_THAT(FromRaw<float>(response.raw_output_contents(0)), ElementsAreArray(values));
  }
}

// One BYTES element: 4-byte little-endian length, then the bytes.
void AppendBytesElement(std::string& raw, std::string_view element) {
  const uint32_t length = static_cast<uint32_t>(element.size());
  for (int shift = 0; shift < 32; shift += 8) raw.push_back(static_cast<char>(length >> shift));
  raw.append(element);
}

TEST_F(ServerInferTest, EveryDatatypeRoundTripsBitForBit) {
  // Wire type and element size (0: BYTES).
  const std::vector<std::pair<std::string, size_t>> types = {
      {"BOOL", 1}, {"UINT8", 1}, {"UINT16", 2}, {"UINT32", 4}, {"UINT64", 8},
      {"INT8", 1}, {"INT16", 2}, {"INT32", 4},  {"INT64", 8},  {"FP16", 2},
      {"FP32", 4}, {"FP64", 8},  {"BYTES", 0},  {"BF16", 2}};
  inference::ModelInferRequest request;
  request.set_model_name("identity_all_types");
  std::map<std::string, std::pair<std::string, int64_t>> sent;  // output -> raw, elements
  int seed = 1;
  for (const auto& [type, size] : types) {
    std::string raw;
    int64_t elements = 6;
    if (type == "BYTES") {
      const std::string items[] = {"", "hello", std::string("\0\xff\x01zero", 7)};
      for (const std::string& item : items) AppendBytesElement(raw, item);
      elements = 3;
    } else if (type == "BOOL") {
      raw = std::string("\1\0\1\1\0\0", 6);
    } else {
      // Arbitrary bit patterns (NaNs and denormals included for the float types): the server
      // must pass them through untouched.
      for (size_t i = 0; i < static_cast<size_t>(elements) * size; ++i) {
        raw.push_back(static_cast<char>((seed * 37 + static_cast<int>(i) * 101) & 0xff));
      }
    }
    ++seed;
    auto* input = request.add_inputs();
    input->set_name("INPUT_" + type);
    input->set_datatype(type);
    input->add_shape(elements);
    request.add_raw_input_contents(raw);
    sent["OUTPUT_" + type] = {raw, elements};
  }
  inference::ModelInferResponse response = InferOk(request);
  ASSERT_EQ(response.outputs_size(), static_cast<int>(types.size()));
  for (const auto& [type, size] : types) {
    SCOPED_TRACE(type);
    const std::string name = "OUTPUT_" + type;
    const std::string* raw = RawOutput(response, name);
    ASSERT_NE(raw, nullptr);
    EXPECT_EQ(*raw, sent[name].first);
    for (const auto& output : response.outputs()) {
      if (output.name() != name) continue;
      EXPECT_EQ(output.datatype(), type);
      EXPECT_THAT(output.shape(), ElementsAre(sent[name].second));
    }
  }
}

TEST_F(ServerInferTest, TypedContentsAreAccepted) {
  inference::ModelInferRequest request;
  request.set_model_name("identity_fp32");
  auto* input = request.add_inputs();
  input->set_name("INPUT0");
  input->set_datatype("FP32");
  input->add_shape(2);
  input->add_shape(2);
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f};
  input->mutable_contents()->mutable_fp32_contents()->Add(values.begin(), values.end());
  inference::ModelInferResponse response = InferOk(request);
  ASSERT_EQ(response.raw_output_contents_size(), 1);
  EXPECT_THAT(FromRaw<float>(response.raw_output_contents(0)), ElementsAreArray(values));
}

TEST_F(ServerInferTest, TorchMlpMatchesTheSameModelRunInProcess) {
  if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
  constexpr int64_t kBatch = 5;
  std::vector<float> input(kBatch * kTorchMlpInputSize);
  for (size_t i = 0; i < input.size(); ++i) input[i] = std::sin(0.37f * static_cast<float>(i));
  absl::StatusOr<std::vector<float>> expected = RunTorchMlpInProcess(server_->repository(), input);
  ASSERT_TRUE(expected.ok()) << expected.status();

  inference::ModelInferResponse response =
      InferOk(Fp32Request("torch_mlp", "INPUT__0", {kBatch, kTorchMlpInputSize}, input));
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).name(), "OUTPUT__0");
  EXPECT_THAT(response.outputs(0).shape(), ElementsAre(kBatch, kTorchMlpOutputSize));
  std::vector<float> got = FromRaw<float>(response.raw_output_contents(0));
  ASSERT_EQ(got.size(), expected->size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], (*expected)[i], 1e-6 * std::max(1.0f, std::abs((*expected)[i]))) << i;
  }
}

TEST_F(ServerInferTest, TorchTwoIoMapsInputsByName) {
  if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  const std::vector<float> b = {10, 20, 30, 40, 50, 60};
  // "b" first: the server must map by name, not by position.
  inference::ModelInferRequest request = Fp32Request("torch_two_io", "b", {2, 3}, b);
  auto* input_a = request.add_inputs();
  input_a->set_name("a");
  input_a->set_datatype("FP32");
  input_a->add_shape(2);
  input_a->add_shape(3);
  request.add_raw_input_contents(ToRaw(a));

  inference::ModelInferResponse response = InferOk(request);
  ASSERT_EQ(response.outputs_size(), 2);
  const std::string* sum = RawOutput(response, "OUTPUT__0");
  const std::string* product = RawOutput(response, "OUTPUT__1");
  ASSERT_NE(sum, nullptr);
  ASSERT_NE(product, nullptr);
  EXPECT_THAT(FromRaw<float>(*sum), ElementsAre(11, 22, 33, 44, 55, 66));
  EXPECT_THAT(FromRaw<float>(*product), ElementsAre(10, 40, 90, 160, 250, 360));
  for (const auto& output : response.outputs()) {
    EXPECT_THAT(output.shape(), ElementsAre(2, 3)) << output.name();
  }
}

TEST_F(ServerInferTest, RequestedOutputsLimitTheResponse) {
  inference::ModelInferRequest request;
  request.set_model_name("identity_all_types");
  for (const char* type : {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
                           "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16"}) {
    auto* input = request.add_inputs();
    input->set_name(std::string("INPUT_") + type);
    input->set_datatype(type);
    input->add_shape(0);  // empty tensors: only the output selection matters here
    request.add_raw_input_contents("");
  }
  request.add_outputs()->set_name("OUTPUT_INT32");
  inference::ModelInferResponse response = InferOk(request);
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).name(), "OUTPUT_INT32");
  EXPECT_EQ(response.raw_output_contents_size(), 1);

  if (!HaveTorchModels()) return;
  inference::ModelInferRequest two_io = Fp32Request("torch_two_io", "a", {1, 2}, {2, 3});
  auto* b = two_io.add_inputs();
  b->set_name("b");
  b->set_datatype("FP32");
  b->add_shape(1);
  b->add_shape(2);
  two_io.add_raw_input_contents(ToRaw(std::vector<float>{5, 7}));
  two_io.add_outputs()->set_name("OUTPUT__1");
  inference::ModelInferResponse product = InferOk(two_io);
  ASSERT_EQ(product.outputs_size(), 1);
  EXPECT_EQ(product.outputs(0).name(), "OUTPUT__1");
  ASSERT_EQ(product.raw_output_contents_size(), 1);
  EXPECT_THAT(FromRaw<float>(product.raw_output_contents(0)), ElementsAre(10, 21));
}

TEST_F(ServerInferTest, SixteenMegabyteInputRoundTrips) {
  constexpr int64_t kElements = 4 * 1024 * 1024;  // 16 MiB of FP32, over gRPC's 4 MB default
  std::vector<float> values(kElements);
  for (int64_t i = 0; i < kElements; ++i) values[i] = static_cast<float>(i % 65521) - 7.0f;
  const std::string raw = ToRaw(values);
  inference::ModelInferResponse response =
      InferOk(RawRequest("identity_fp32", "INPUT0", "FP32", {1, kElements}, raw));
  ASSERT_EQ(response.raw_output_contents_size(), 1);
  EXPECT_TRUE(response.raw_output_contents(0) == raw) << "the 16 MiB output differs";
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_THAT(response.outputs(0).shape(), ElementsAre(1, kElements));
}

// Sends `requests` on one stream, half-closes, and reads every response until the server
// closes the stream; returns the responses and the final status.
std::pair<std::vector<inference::ModelStreamInferResponse>, grpc::Status> Stream(
    inference::GRPCInferenceService::Stub& stub,
    const std::vector<inference::ModelInferRequest>& requests) {
  std::unique_ptr<grpc::ClientContext> context = NewContext();
  auto stream = stub.ModelStreamInfer(context.get());
  for (const auto& request : requests) {
    if (!stream->Write(request)) break;
  }
  stream->WritesDone();
  std::vector<inference::ModelStreamInferResponse> responses;
  inference::ModelStreamInferResponse response;
  while (stream->Read(&response)) responses.push_back(response);
  return {responses, stream->Finish()};
}

TEST_F(ServerInferTest, ClassificationReturnsTheTopClassesAsStrings) {
  inference::ModelInferRequest request =
      Fp32Request("identity_fp32", "INPUT0", {2, 3}, {0.25f, 0.5f, 0.125f, 4.0f, 1.0f, 2.0f});
  auto* output = request.add_outputs();
  output->set_name("OUTPUT0");
  (*output->mutable_parameters())["classification"].set_int64_param(2);
  inference::ModelInferResponse response;
  grpc::Status status = Infer(*stub_, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).datatype(), "BYTES");
  EXPECT_THAT(response.outputs(0).shape(), ElementsAre(2, 2));
  std::vector<std::string> classes;
  const std::string& raw = response.raw_output_contents(0);
  for (size_t at = 0; at + 4 <= raw.size();) {
    uint32_t size;
    std::memcpy(&size, raw.data() + at, 4);
    classes.push_back(raw.substr(at + 4, size));
    at += 4 + size;
  }
  EXPECT_THAT(classes, ElementsAre("0.500000:1", "0.250000:0", "4.000000:0", "2.000000:2"));
}

TEST_F(ServerInferTest, StreamAnswersEveryRequestWithItsId) {
  std::vector<inference::ModelInferRequest> requests;
  std::set<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    requests.push_back(
        Fp32Request("identity_fp32", "INPUT0", {1, 2}, {static_cast<float>(i), 0.5f}));
    requests.back().set_id("stream-" + std::to_string(i));
    // As the stock C++ client sends with every request.
    (*requests.back().mutable_parameters())["triton_enable_empty_final_response"].set_bool_param(
        true);
    ids.insert(requests.back().id());
  }
  auto [responses, status] = Stream(*stub_, requests);
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), 10u) << "one response per request, itself the final one";
  std::set<std::string> answered;
  for (size_t i = 0; i < responses.size(); ++i) {
    EXPECT_EQ(responses[i].infer_response().id(), "stream-" + std::to_string(i))
        << "responses come in request order, as Triton's";
  }
  for (const auto& response : responses) {
    EXPECT_EQ(response.error_message(), "");
    const inference::ModelInferResponse& infer = response.infer_response();
    answered.insert(infer.id());
    ASSERT_EQ(infer.parameters().count("triton_final_response"), 1u);
    EXPECT_TRUE(infer.parameters().at("triton_final_response").bool_param());
    ASSERT_EQ(infer.raw_output_contents_size(), 1);
    // The output is the input of the request with this id.
    const int i = std::stoi(infer.id().substr(std::string("stream-").size()));
    EXPECT_THAT(FromRaw<float>(infer.raw_output_contents(0)),
                ElementsAre(static_cast<float>(i), 0.5f));
  }
  EXPECT_EQ(answered, ids);
}

TEST_F(ServerInferTest, StreamReportsABadRequestAndCarriesOn) {
  std::vector<inference::ModelInferRequest> requests;
  for (int i = 0; i < 5; ++i) {
    requests.push_back(Fp32Request("identity_fp32", "INPUT0", {1, 1}, {static_cast<float>(i)}));
    requests.back().set_id("good-" + std::to_string(i));
  }
  inference::ModelInferRequest bad = Fp32Request("identity_fp32", "NO_SUCH_INPUT", {1, 1}, {1});
  bad.set_id("bad");
  requests.insert(requests.begin() + 2, bad);
  auto [responses, status] = Stream(*stub_, requests);
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), requests.size());
  int errors = 0;
  for (const auto& response : responses) {
    if (response.error_message().empty()) {
      EXPECT_THAT(response.infer_response().id(), HasSubstr("good-"));
      EXPECT_EQ(response.infer_response().raw_output_contents_size(), 1);
      continue;
    }
    ++errors;
    EXPECT_EQ(response.infer_response().id(), "bad");
    EXPECT_THAT(response.error_message(), HasSubstr("NO_SUCH_INPUT"));
  }
  EXPECT_EQ(errors, 1);
}

struct BadRequest {
  std::string what;
  inference::ModelInferRequest request;
  std::string message_names;  // a substring the error message must contain
};

std::vector<BadRequest> BadRequests() {
  std::vector<BadRequest> cases;
  cases.push_back({"unknown input", Fp32Request("identity_fp32", "NO_SUCH_INPUT", {1, 1}, {1}),
                   "NO_SUCH_INPUT"});
  inference::ModelInferRequest missing;
  missing.set_model_name("identity_fp32");
  cases.push_back({"missing input", missing, "INPUT0"});
  cases.push_back({"wrong datatype",
                   RawRequest("identity_fp32", "INPUT0", "INT32", {1, 2}, std::string(8, '\0')),
                   "INPUT0"});
  cases.push_back({"unknown datatype",
                   RawRequest("identity_fp32", "INPUT0", "FLOAT", {1, 2}, std::string(8, '\0')),
                   "INPUT0"});
  cases.push_back({"shape not matching dims",
                   Fp32Request("identity_delay", "INPUT0", {5}, {1, 2, 3, 4, 5}), "INPUT0"});
  cases.push_back({"rank not matching dims",
                   Fp32Request("identity_fp32", "INPUT0", {4}, {1, 2, 3, 4}), "INPUT0"});
  cases.push_back({"raw byte size not matching the shape",
                   RawRequest("identity_fp32", "INPUT0", "FP32", {1, 4}, std::string(12, '\0')),
                   "INPUT0"});
  cases.push_back({"batch over max_batch_size",
                   Fp32Request("identity_fp32", "INPUT0", {9, 1}, std::vector<float>(9, 1.0f)),
                   "max_batch_size"});
  inference::ModelInferRequest two_raw = Fp32Request("identity_fp32", "INPUT0", {1, 1}, {1});
  two_raw.add_raw_input_contents(ToRaw(std::vector<float>{2}));
  cases.push_back({"raw contents count not matching the inputs", two_raw, "raw_input_contents"});
  inference::ModelInferRequest both = Fp32Request("identity_fp32", "INPUT0", {1, 1}, {1});
  both.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1);
  cases.push_back({"raw and typed contents", both, "INPUT0"});
  cases.push_back(
      {"unknown output", Fp32Request("identity_fp32", "INPUT0", {1, 1}, {1}), "NO_SUCH_OUTPUT"});
  cases.back().request.add_outputs()->set_name("NO_SUCH_OUTPUT");
  return cases;
}

TEST_F(ServerInferTest, BadRequestsAreInvalidArgumentAndTheServerKeepsServing) {
  for (const BadRequest& bad : BadRequests()) {
    SCOPED_TRACE(bad.what);
    inference::ModelInferResponse response;
    grpc::Status status = Infer(*stub_, bad.request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(bad.message_names));
    EXPECT_THAT(status.error_message(), HasSubstr(bad.request.model_name()));
  }
  inference::ModelInferResponse response =
      InferOk(Fp32Request("identity_fp32", "INPUT0", {2, 1}, {4, 2}));
  ASSERT_EQ(response.raw_output_contents_size(), 1);
  EXPECT_THAT(FromRaw<float>(response.raw_output_contents(0)), ElementsAre(4, 2));
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(NewContext().get(), {}, &live).ok());
  EXPECT_TRUE(live.live());
}

}  // namespace
}  // namespace sonic::testing
