// The HTTP/REST endpoint of a running sonic-server, through cpp-httplib's client: health,
// metadata, config and statistics as Triton writes them, inference in JSON and binary form for
// every datatype, shared memory, repository control, compression, and an error per kind, with
// answers compared to those of gRPC where both serve the same thing.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "server/frontend/http_compression.h"

namespace sonic::testing {
namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kHeaderLength[] = "Inference-Header-Content-Length";

struct Reply {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  json Json() const { return json::parse(body, nullptr, false); }
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class ServerHttpTest : public SharedServerTest<ServerHttpTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return StartTestServer({"--model-control-mode=explicit", "--load-model", "identity_fp32",
                            "--load-model", "identity_all_types"});
  }

 protected:
  void SetUp() override {
    SharedServerTest::SetUp();
    ASSERT_GT(server_->server->http_port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->server->http_port());
    client_->set_read_timeout(30);
  }

  Reply Get(const std::string& path) { return Done(client_->Get(path)); }
  Reply Post(const std::string& path, const std::string& body, httplib::Headers headers = {}) {
    return Done(client_->Post(path, headers, body, "application/json"));
  }
  Reply PostJson(const std::string& path, const json& body) { return Post(path, body.dump()); }
  // A body of a JSON header and binary tensors, with Inference-Header-Content-Length.
  Reply PostBinary(const std::string& path, const json& header, const std::string& tail,
                   httplib::Headers headers = {}) {
    const std::string text = header.dump();
    headers.emplace(kHeaderLength, std::to_string(text.size()));
    return Post(path, text + tail, headers);
  }

  static Reply Done(const httplib::Result& result) {
    Reply reply;
    if (!result) {
      ADD_FAILURE() << "HTTP request failed: " << httplib::to_string(result.error());
      return reply;
    }
    reply.status = result->status;
    reply.body = result->body;
    reply.headers = result->headers;
    return reply;
  }

  std::unique_ptr<httplib::Client> client_;
};

// Splits a binary response into its JSON header and tail.
std::pair<json, std::string> SplitBinary(const Reply& reply) {
  const size_t length = std::stoul(reply.Header(kHeaderLength));
  return {json::parse(reply.body.substr(0, length)), reply.body.substr(length)};
}

void ExpectError(const Reply& reply, int status, const std::string& message) {
  EXPECT_EQ(reply.status, status) << reply.body;
  json body = reply.Json();
  ASSERT_TRUE(body.is_object() && body.contains("error")) << reply.body;
  EXPECT_THAT(body["error"].get<std::string>(), HasSubstr(message));
}

// identity_all_types needs every input: `request` gets each input it lacks with one element,
// JSON data where JSON can carry the type, else (FP16, BF16) 2 bytes of binary data, returned
// as the tail to send after the JSON.
std::string AddMissingInputs(json& request) {
  static const char* kTypes[] = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
                                 "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16"};
  std::string tail;
  for (const char* type : kTypes) {
    const std::string name = std::string("INPUT_") + type;
    bool present = false;
    for (const json& input : request["inputs"]) present = present || input["name"] == name;
    if (present) continue;
    json input = {{"name", name}, {"datatype", type}, {"shape", {1}}};
    const std::string datatype = type;
    if (datatype == "FP16" || datatype == "BF16") {
      input["parameters"] = {{"binary_data_size", 2}};
      tail += std::string("\1\2", 2);
    } else if (datatype == "BOOL") {
      input["data"] = {true};
    } else if (datatype == "BYTES") {
      input["data"] = {"b"};
    } else {
      input["data"] = {1};
    }
    request["inputs"].push_back(std::move(input));
  }
  return tail;
}

template <typename Message>
Message FromJson(const std::string& text) {
  Message message;
  google::protobuf::util::JsonParseOptions options;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &message, options).ok()) << text;
  return message;
}

TEST_F(ServerHttpTest, HealthAndServerMetadata) {
  EXPECT_EQ(Get("/v2/health/live").status, 200);
  EXPECT_EQ(Get("/v2/health/ready").status, 200);
  Reply metadata = Get("/v2");
  ASSERT_EQ(metadata.status, 200);
  json body = metadata.Json();
  EXPECT_EQ(body["name"], "sonic-server");
  inference::ServerMetadataResponse grpc;
  ASSERT_TRUE(stub_->ServerMetadata(NewContext().get(), {}, &grpc).ok());
  EXPECT_EQ(body["version"], grpc.version());
  for (const std::string& extension : grpc.extensions()) {
    EXPECT_THAT(body["extensions"], Contains(extension));
  }
  EXPECT_THAT(body["extensions"], Contains("binary_tensor_data"));
}

TEST_F(ServerHttpTest, ModelReadinessAndMetadata) {
  EXPECT_EQ(Get("/v2/models/identity_fp32/ready").status, 200);
  EXPECT_EQ(Get("/v2/models/identity_fp32/versions/1/ready").status, 200);
  EXPECT_EQ(Get("/v2/models/identity_fp32/versions/7/ready").status, 400);
  EXPECT_EQ(Get("/v2/models/no_such_model/ready").status, 400);
  for (const std::string path : {"/v2/models/identity_fp32", "/v2/models/identity_fp32/versions/1"}) {
    Reply reply = Get(path);
    ASSERT_EQ(reply.status, 200) << reply.body;
    json expected = {{"name", "identity_fp32"},
                     {"versions", {"1"}},
                     {"platform", "identity"},
                     {"inputs", {{{"name", "INPUT0"}, {"datatype", "FP32"}, {"shape", {-1, -1}}}}},
                     {"outputs", {{{"name", "OUTPUT0"}, {"datatype", "FP32"}, {"shape", {-1, -1}}}}}};
    EXPECT_EQ(reply.Json(), expected) << path;
  }
  ExpectError(Get("/v2/models/no_such_model"), 404, "no_such_model");
}

TEST_F(ServerHttpTest, ConfigIsTheGrpcConfigAsJsonWithNumbers) {
  Reply reply = Get("/v2/models/identity_fp32/config");
  ASSERT_EQ(reply.status, 200);
  json body = reply.Json();
  EXPECT_EQ(body["max_batch_size"], 8);
  EXPECT_EQ(body["input"][0]["dims"], json({-1}));
  EXPECT_EQ(body["input"][0]["data_type"], "TYPE_FP32");
  absl::StatusOr<inference::ModelConfig> grpc = GetModelConfig(*stub_, "identity_fp32");
  ASSERT_TRUE(grpc.ok()) << grpc.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      FromJson<inference::ModelConfig>(reply.body), *grpc));
  ExpectError(Get("/v2/models/no_such_model/config"), 404, "no_such_model");
}

TEST_F(ServerHttpTest, StatisticsCountHttpAndGrpcRequestsAlike) {
  auto grpc_stats = [&] {
    inference::ModelStatisticsRequest request;
    request.set_name("identity_fp32");
    inference::ModelStatisticsResponse response;
    EXPECT_TRUE(stub_->ModelStatistics(NewContext().get(), request, &response).ok());
    return response;
  };
  const uint64_t before = grpc_stats().model_stats(0).inference_stats().success().count();
  json request = {{"inputs", {{{"name", "INPUT0"}, {"datatype", "FP32"}, {"shape", {1, 2}},
                               {"data", {1, 2}}}}}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(PostJson("/v2/models/identity_fp32/infer", request).status, 200);
  }
  inference::ModelInferResponse response;
  ASSERT_TRUE(Infer(*stub_, Fp32Request("identity_fp32", "INPUT0", {1, 2}, {1, 2}), &response).ok());
  const inference::ModelStatisticsResponse grpc = grpc_stats();
  Reply reply = Get("/v2/models/identity_fp32/stats");
  ASSERT_EQ(reply.status, 200);
  json body = reply.Json();
  EXPECT_EQ(body["model_stats"][0]["inference_stats"]["success"]["count"], before + 4);
  EXPECT_TRUE(body["model_stats"][0]["inference_count"].is_number());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      FromJson<inference::ModelStatisticsResponse>(reply.body), grpc));
  Reply versioned = Get("/v2/models/identity_fp32/versions/1/stats");
  EXPECT_EQ(versioned.status, 200);
  Reply all = Get("/v2/models/stats");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.Json()["model_stats"].size(), 2u);
  ExpectError(Get("/v2/models/no_such_model/stats"), 404, "no_such_model");
}

TEST_F(ServerHttpTest, JsonInferenceOfEveryJsonDatatypeRoundTrips) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"BOOL", {true, false, true}},
      {"UINT8", {0, 7, 255}},
      {"UINT16", {0, 65535, 3}},
      {"UINT32", {0, 4294967295u, 5}},
      {"UINT64", {0, 18446744073709551615ull, 9}},
      {"INT8", {-128, 0, 127}},
      {"INT16", {-32768, 1, 32767}},
      {"INT32", {-2147483648ll, 2, 2147483647}},
      {"INT64", {-9223372036854775807ll, 3, 9223372036854775807ll}},
      {"FP32", {1.5, -0.25, 1e10}},
      {"FP64", {0.1, -2.5e-300, 3}},
      {"BYTES", {"", "hello", "x y z"}}};
  json request = {{"id", "all-json"}, {"inputs", json::array()}, {"outputs", json::array()}};
  for (const auto& [type, data] : cases) {
    request["inputs"].push_back(
        {{"name", "INPUT_" + type}, {"datatype", type}, {"shape", {3}}, {"data", data}});
    request["outputs"].push_back({{"name", "OUTPUT_" + type}});
  }
  const std::string tail = AddMissingInputs(request);
  Reply reply = PostBinary("/v2/models/identity_all_types/infer", request, tail);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.Header(kHeaderLength), "");
  json body = reply.Json();
  EXPECT_EQ(body["id"], "all-json");
  EXPECT_EQ(body["model_name"], "identity_all_types");
  EXPECT_EQ(body["model_version"], "1");
  ASSERT_EQ(body["outputs"].size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& output = body["outputs"][i];
    EXPECT_EQ(output["name"], "OUTPUT_" + cases[i].first);
    EXPECT_EQ(output["datatype"], cases[i].first);
    EXPECT_EQ(output["shape"], json({3}));
    EXPECT_EQ(output["data"], cases[i].second) << cases[i].first;
  }
}

// Bytes of one identity_all_types input of `elements` elements: arbitrary bit patterns, BYTES
// length-prefixed (with a NUL and a non-UTF-8 byte).
std::string TypeBytes(const std::string& type, size_t element_size, int seed) {
  if (type == "BYTES") return std::string("\0\0\0\0\5\0\0\0hello\3\0\0\0\0\xff!", 20);
  if (type == "BOOL") return std::string("\1\0\1", 3);
  std::string raw;
  for (size_t i = 0; i < 3 * element_size; ++i) {
    raw.push_back(static_cast<char>((seed * 37 + static_cast<int>(i) * 101) & 0xff));
  }
  return raw;
}

const std::vector<std::pair<std::string, size_t>>& AllTypes() {
  static const auto* types = new std::vector<std::pair<std::string, size_t>>{
      {"BOOL", 1}, {"UINT8", 1}, {"UINT16", 2}, {"UINT32", 4}, {"UINT64", 8},
      {"INT8", 1}, {"INT16", 2}, {"INT32", 4},  {"INT64", 8},  {"FP16", 2},
      {"FP32", 4}, {"FP64", 8},  {"BYTES", 0},  {"BF16", 2}};
  return *types;
}

TEST_F(ServerHttpTest, BinaryInferenceOfEveryDatatypeRoundTripsByteForByte) {
  json request = {{"inputs", json::array()},
                  {"outputs", json::array()},
                  {"parameters", {{"binary_data_output", true}}}};
  std::string tail, expected_tail;
  int seed = 1;
  for (const auto& [type, size] : AllTypes()) {
    const std::string raw = TypeBytes(type, size, seed++);
    request["inputs"].push_back({{"name", "INPUT_" + type},
                                 {"datatype", type},
                                 {"shape", {3}},
                                 {"parameters", {{"binary_data_size", raw.size()}}}});
    request["outputs"].push_back({{"name", "OUTPUT_" + type}});
    tail += raw;
  }
  Reply reply = PostBinary("/v2/models/identity_all_types/infer", request, tail);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto [header, got_tail] = SplitBinary(reply);
  EXPECT_EQ(got_tail, tail);
  size_t i = 0;
  for (const auto& [type, size] : AllTypes()) {
    const json& output = header["outputs"][i++];
    EXPECT_EQ(output["datatype"], type);
    EXPECT_FALSE(output.contains("data"));
    EXPECT_EQ(output["parameters"]["binary_data_size"], TypeBytes(type, size, 0).size());
  }
}

TEST_F(ServerHttpTest, PerOutputBinaryFlagNestedDataAndParameters) {
  json request = {
      {"parameters", {{"priority", 1}, {"timeout", 0}}},
      {"inputs",
       {{{"name", "INPUT_INT32"}, {"datatype", "INT32"}, {"shape", {4}}, {"data", {{1, 2}, {3, 4}}}},
        {{"name", "INPUT_FP64"}, {"datatype", "FP64"}, {"shape", {1}}, {"data", {2.5}}}}},
      {"outputs",
       {{{"name", "OUTPUT_INT32"}, {"parameters", {{"binary_data", true}}}},
        {{"name", "OUTPUT_FP64"}, {"parameters", {{"binary_data", false}}}}}}};
  const std::string binary_inputs = AddMissingInputs(request);
  Reply reply = PostBinary("/v2/models/identity_all_types/infer", request, binary_inputs);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto [header, tail] = SplitBinary(reply);
  EXPECT_EQ(FromRaw<int32_t>(tail), std::vector<int32_t>({1, 2, 3, 4}));
  EXPECT_EQ(header["outputs"][1]["data"], json({2.5}));
  EXPECT_FALSE(header.contains("id"));
}

TEST_F(ServerHttpTest, AnErrorOfEachKind) {
  const std::string infer = "/v2/models/identity_all_types/infer";
  ExpectError(Post("/v2/models/no_such_model/infer", R"({"inputs": []})"), 404, "no_such_model");
  ExpectError(Post(infer, "{\"inputs\": ["), 400, "not valid JSON");
  json count = {{"inputs", {{{"name", "INPUT_INT8"}, {"datatype", "INT8"}, {"shape", {2}},
                             {"data", {1, 2, 3}}}}}};
  ExpectError(PostJson(infer, count), 400, "3 values");
  const std::string fp32 = "/v2/models/identity_fp32/infer";
  json rank = {{"inputs", {{{"name", "INPUT0"}, {"datatype", "FP32"}, {"shape", {1, 2, 1}},
                            {"data", {1, 2}}}}}};
  ExpectError(PostJson(fp32, rank), 400, "INPUT0");
  json unknown = {{"inputs", {{{"name", "INPUT0"}, {"datatype", "FP32"}, {"shape", {1, 1}},
                               {"data", {1}}},
                              {{"name", "NOPE"}, {"datatype", "FP32"}, {"shape", {1, 1}},
                               {"data", {1}}}}}};
  ExpectError(PostJson(fp32, unknown), 400, "NOPE");
  json binary = {{"inputs", {{{"name", "INPUT_INT8"}, {"datatype", "INT8"}, {"shape", {4}},
                              {"parameters", {{"binary_data_size", 4}}}}}}};
  ExpectError(PostBinary(infer, binary, "ab"), 400, "overruns");
  ExpectError(PostBinary(infer, binary, "abcdef"), 400, "left over");
  json short_binary = {{"inputs", {{{"name", "INPUT0"}, {"datatype", "FP32"}, {"shape", {1, 4}},
                                    {"parameters", {{"binary_data_size", 2}}}}}}};
  ExpectError(PostBinary(fp32, short_binary, "ab"), 400, "INPUT0");  // 2 bytes for 16
  ExpectError(Post(infer, "{}", {{kHeaderLength, "99"}}), 400, "past the body");
  ExpectError(Get(infer), 405, "GET");
  ExpectError(Get("/v2/nothing/here"), 404, "/v2/nothing/here");
}

// A POSIX shm object created (and unlinked at the end) by the test, as a client would.
class ShmObject {
 public:
  explicit ShmObject(size_t size)
      : key_(absl::StrCat("/sonic_server_http_test_", getpid(), "_", counter_++)), size_(size) {
    int fd = shm_open(key_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    data_ = static_cast<char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    close(fd);
  }
  ~ShmObject() {
    munmap(data_, size_);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  char* data() { return data_; }

 private:
  static inline int counter_ = 0;
  std::string key_;
  size_t size_;
  char* data_ = nullptr;
};

TEST_F(ServerHttpTest, SystemSharedMemoryRegistrationAndTensors) {
  ShmObject object(4096);
  const std::string base = "/v2/systemsharedmemory";
  ASSERT_EQ(PostJson(base + "/region/http_in/register",
                     {{"key", object.key()}, {"offset", 0}, {"byte_size", 1024}})
                .status,
            200);
  ASSERT_EQ(PostJson(base + "/region/http_out/register",
                     {{"key", object.key()}, {"offset", 1024}, {"byte_size", 1024}})
                .status,
            200);
  ExpectError(PostJson(base + "/region/http_in/register",
                       {{"key", object.key()}, {"byte_size", 16}}),
              400, "http_in");
  Reply status = Get(base + "/status");
  ASSERT_EQ(status.status, 200);
  EXPECT_THAT(status.Json(), Contains(json({{"name", "http_in"}, {"key", object.key()},
                                            {"offset", 0}, {"byte_size", 1024}})));
  EXPECT_EQ(Get(base + "/region/http_out/status").Json(),
            json::array({{{"name", "http_out"}, {"key", object.key()}, {"offset", 1024},
                          {"byte_size", 1024}}}));
  // One namespace with gRPC.
  inference::SystemSharedMemoryStatusResponse grpc;
  ASSERT_TRUE(stub_->SystemSharedMemoryStatus(NewContext().get(), {}, &grpc).ok());
  EXPECT_TRUE(grpc.regions().contains("http_in"));

  const std::vector<int64_t> values = {5, -6, 7};
  std::memcpy(object.data() + 8, values.data(), 24);
  json shm = {{"shared_memory_region", "http_in"}, {"shared_memory_byte_size", 24},
              {"shared_memory_offset", 8}};
  json out = {{"shared_memory_region", "http_out"}, {"shared_memory_byte_size", 24},
              {"shared_memory_offset", 16}};
  json request = {{"inputs", {{{"name", "INPUT_INT64"}, {"datatype", "INT64"}, {"shape", {3}},
                               {"parameters", shm}}}},
                  {"outputs", {{{"name", "OUTPUT_INT64"}, {"parameters", out}}}}};
  const std::string tail = AddMissingInputs(request);
  Reply reply = PostBinary("/v2/models/identity_all_types/infer", request, tail);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_FALSE(reply.Json()["outputs"][0].contains("data"));
  EXPECT_EQ(FromRaw<int64_t>(std::string_view(object.data() + 1024 + 16, 24)), values);

  ExpectError(Get(base + "/region/nope/status"), 400, "nope");
  EXPECT_EQ(Post(base + "/region/http_in/unregister", "").status, 200);
  EXPECT_EQ(Get(base + "/status").Json().size(), 1u);
  EXPECT_EQ(Post(base + "/unregister", "").status, 200);
  EXPECT_EQ(Get(base + "/status").Json(), json::array());
}

TEST_F(ServerHttpTest, CudaSharedMemoryEndpoints) {
  Reply status = Get("/v2/cudasharedmemory/status");
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(status.Json(), json::array());
  // Not a CUDA IPC handle (wrong size): refused before CUDA is asked, with or without a GPU.
  Reply bad = PostJson("/v2/cudasharedmemory/region/c/register",
                       {{"raw_handle", {{"b64", "AAAA"}}}, {"device_id", 0}, {"byte_size", 64}});
  EXPECT_NE(bad.status, 200);
  EXPECT_TRUE(bad.Json().contains("error")) << bad.body;
  ExpectError(PostJson("/v2/cudasharedmemory/region/c/register", {{"device_id", 0}}), 400,
              "raw_handle");
  EXPECT_EQ(Post("/v2/cudasharedmemory/unregister", "").status, 200);
}

TEST_F(ServerHttpTest, RepositoryIndexLoadWithConfigAndUnload) {
  Reply index = PostJson("/v2/repository/index", json::object());
  ASSERT_EQ(index.status, 200);
  EXPECT_THAT(index.Json(), Contains(json({{"name", "identity_fp32"}, {"version", "1"},
                                           {"state", "READY"}})));
  Reply ready_only = PostJson("/v2/repository/index", {{"ready", true}});
  for (const json& entry : ready_only.Json()) EXPECT_EQ(entry["state"], "READY");

  ASSERT_EQ(Post("/v2/repository/models/identity_delay/load", "").status, 200);
  EXPECT_EQ(Get("/v2/models/identity_delay").Json()["inputs"][0]["shape"], json({4}));
  json config = Get("/v2/models/identity_delay/config").Json();
  config["max_batch_size"] = 2;
  Reply loaded = PostJson("/v2/repository/models/identity_delay/load",
                          {{"parameters", {{"config", config.dump()}}}});
  ASSERT_EQ(loaded.status, 200) << loaded.body;
  EXPECT_EQ(Get("/v2/models/identity_delay").Json()["inputs"][0]["shape"], json({-1, 4}));
  ASSERT_EQ(PostJson("/v2/repository/models/identity_delay/unload",
                     {{"parameters", {{"unload_dependents", false}}}})
                .status,
            200);
  EXPECT_EQ(Get("/v2/models/identity_delay/ready").status, 400);
  ExpectError(PostJson("/v2/repository/models/identity_delay/load",
                       {{"parameters", {{"config", 3}}}}),
              400, "config");
  ExpectError(Post("/v2/repository/models/no_such_model/load", ""), 404, "no_such_model");
}

TEST_F(ServerHttpTest, CompressedRequestsAndResponses) {
  json request = {{"inputs", {{{"name", "INPUT_INT16"}, {"datatype", "INT16"}, {"shape", {2}},
                               {"data", {3, 4}}}}},
                  {"outputs", {{{"name", "OUTPUT_INT16"}, {"parameters", {{"binary_data", true}}}}}}};
  const std::string tail = AddMissingInputs(request);
  const std::string header = request.dump();
  for (server::ContentCoding coding : {server::ContentCoding::kGzip, server::ContentCoding::kDeflate}) {
    const std::string name(server::ContentCodingName(coding));
    absl::StatusOr<std::string> body = server::Compress(header + tail, coding);
    ASSERT_TRUE(body.ok());
    // httplib's client inflates the answer itself; the header says it came compressed.
    Reply reply = Post("/v2/models/identity_all_types/infer", *body,
                       {{"Content-Encoding", name}, {"Accept-Encoding", name},
                        {kHeaderLength, std::to_string(header.size())}});
    ASSERT_EQ(reply.status, 200) << name << ": " << reply.body;
    EXPECT_EQ(reply.Header("Content-Encoding"), name);
    auto [header, tail] = SplitBinary(reply);
    EXPECT_EQ(FromRaw<int16_t>(tail), std::vector<int16_t>({3, 4})) << name;
  }
}

class ServerHttpNotReadyTest : public ::testing::Test {};

TEST_F(ServerHttpNotReadyTest, ReadinessFollowsGrpcAndHttpCanBeTurnedOff) {
  absl::StatusOr<TestServer> broken = StartTestServer(
      {"--model-control-mode=explicit", "--load-model", "broken_model", "--http-thread-count", "2"});
  ASSERT_TRUE(broken.ok()) << broken.status();
  httplib::Client client("127.0.0.1", broken->server->http_port());
  auto live = client.Get("/v2/health/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  auto ready = client.Get("/v2/health/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 400) << "strict readiness: a model failed to load";
  auto model = client.Get("/v2/models/broken_model");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->status, 503) << model->body;  // present but not READY: UNAVAILABLE

  absl::StatusOr<TestServer> off = StartTestServer({"--allow-http=false"});
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->server->http_port(), 0);
}

}  // namespace
}  // namespace sonic::testing
