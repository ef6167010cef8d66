// Request tracing through a running sonic-server: trace settings over gRPC (TraceSetting) and
// from the command line (--trace-config and the deprecated --trace-* flags), the trace file in
// Triton's JSON layout with the seven core timestamps in order, rate and count sampling,
// per-model settings and their clearing, log_frequency files, batched requests sharing their
// batch's compute timestamps, and the errors for bad settings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "integration_test_util.h"
#include "nlohmann/json.hpp"

namespace sonic::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using Settings = std::map<std::string, std::vector<std::string>>;

constexpr const char* kCoreTimestamps[] = {"REQUEST_START",        "QUEUE_START",
                                           "COMPUTE_START",        "COMPUTE_INPUT_END",
                                           "COMPUTE_OUTPUT_START", "COMPUTE_END",
                                           "REQUEST_END"};

// One trace of a trace file, its objects grouped by id as Triton's trace_summary.py does.
struct ParsedTrace {
  std::string model_name;
  int64_t model_version = -1;
  std::string request_id;
  std::map<std::string, uint64_t> timestamps;
  std::vector<std::string> order;  // timestamp names in file order
};

absl::StatusOr<std::map<uint64_t, ParsedTrace>> ReadTraceFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("no trace file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json objects = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!objects.is_array()) return absl::InternalError("not a JSON array: " + text.str());
  std::map<uint64_t, ParsedTrace> traces;
  for (const auto& object : objects) {
    ParsedTrace& trace = traces[object.at("id").get<uint64_t>()];
    if (object.contains("model_name")) {
      trace.model_name = object["model_name"];
      trace.model_version = object.at("model_version");
      if (object.contains("request_id")) trace.request_id = object["request_id"];
    }
    if (object.contains("timestamps")) {
      for (const auto& timestamp : object["timestamps"]) {
        trace.timestamps[timestamp.at("name")] = timestamp.at("ns");
        trace.order.push_back(timestamp.at("name"));
      }
    }
  }
  return traces;
}

// The seven core timestamps are present and ordered, inside the gRPC receive and send.
void ExpectCompleteAndOrdered(const ParsedTrace& trace) {
  SCOPED_TRACE(trace.request_id);
  uint64_t previous = 0;
  for (const char* name : kCoreTimestamps) {
    ASSERT_TRUE(trace.timestamps.contains(name)) << name;
    EXPECT_LE(previous, trace.timestamps.at(name)) << name;
    previous = trace.timestamps.at(name);
  }
  for (const char* name : {"GRPC_WAITREAD_START", "GRPC_WAITREAD_END", "GRPC_SEND_START",
                           "GRPC_SEND_END"}) {
    ASSERT_TRUE(trace.timestamps.contains(name)) << name;
  }
  EXPECT_LE(trace.timestamps.at("GRPC_WAITREAD_END"), trace.timestamps.at("REQUEST_START"));
  EXPECT_LE(trace.timestamps.at("REQUEST_END"), trace.timestamps.at("GRPC_SEND_START"));
  EXPECT_LE(trace.timestamps.at("GRPC_SEND_START"), trace.timestamps.at("GRPC_SEND_END"));
}

class ServerTraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDirectory::Create("sonic_trace");
    ASSERT_TRUE(dir.ok()) << dir.status();
    trace_dir_ = *std::move(dir);
    trace_file_ = (trace_dir_->path() / "trace.json").string();
  }

  void Start(std::vector<std::string> args,
             const std::function<absl::Status(const std::filesystem::path&)>& prepare = {}) {
    absl::StatusOr<TestServer> started = StartTestServer(std::move(args), prepare);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::make_unique<TestServer>(*std::move(started));
    stub_ = NewStub(server_->server->address());
  }

  // Stops the server with SIGTERM (a clean exit writes the remaining traces).
  void Stop() {
    absl::StatusOr<int> code = server_->server->Stop(SIGTERM);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << server_->server->Log();
  }

  grpc::Status TraceSetting(const std::string& model, const Settings& settings,
                            Settings* in_effect) {
    inference::TraceSettingRequest request;
    request.set_model_name(model);
    for (const auto& [name, values] : settings) {
      auto& value = (*request.mutable_settings())[name];
      for (const std::string& v : values) value.add_value(v);
    }
    inference::TraceSettingResponse response;
    grpc::Status status = stub_->TraceSetting(NewContext().get(), request, &response);
    if (in_effect) {
      in_effect->clear();
      for (const auto& [name, value] : response.settings()) {
        (*in_effect)[name].assign(value.value().begin(), value.value().end());
      }
    }
    return status;
  }

  Settings TraceSettingOk(const std::string& model, const Settings& settings = {}) {
    Settings in_effect;
    grpc::Status status = TraceSetting(model, settings, &in_effect);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return in_effect;
  }

  void InferOk(const std::string& id, const std::string& model = "identity_fp32") {
    inference::ModelInferRequest request = Fp32Request(model, "INPUT0", {1, 2}, {1.0f, 2.0f});
    request.set_id(id);
    inference::ModelInferResponse response;
    grpc::Status status = Infer(*stub_, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  std::unique_ptr<TempDirectory> trace_dir_;
  std::string trace_file_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(ServerTraceTest, SettingsOverGrpcTraceEveryRateThRequestIntoTritonsLayout) {
  Start({"--trace-config", "triton,file=" + trace_file_});
  EXPECT_EQ(TraceSettingOk(""), (Settings{{"trace_level", {"OFF"}},
                                          {"trace_rate", {"1000"}},
                                          {"trace_count", {"-1"}},
                                          {"log_frequency", {"0"}},
                                          {"trace_file", {trace_file_}},
                                          {"trace_mode", {"triton"}}}));
  inference::ServerMetadataResponse metadata;
  ASSERT_TRUE(
      stub_->ServerMetadata(NewContext().get(), inference::ServerMetadataRequest(), &metadata)
          .ok());
  EXPECT_THAT(metadata.extensions(), Contains("trace"));

  const Settings updated =
      TraceSettingOk("", {{"trace_level", {"TIMESTAMPS"}}, {"trace_rate", {"2"}}});
  EXPECT_EQ(updated.at("trace_level"), std::vector<std::string>{"TIMESTAMPS"});
  EXPECT_EQ(updated.at("trace_rate"), std::vector<std::string>{"2"});
  EXPECT_EQ(TraceSettingOk("identity_fp32"), updated);  // a model follows the global setting

  for (int i = 0; i < 6; ++i) InferOk("r" + std::to_string(i));
  EXPECT_FALSE(std::filesystem::exists(trace_file_));  // log_frequency 0: written at the end
  Stop();

  auto traces = ReadTraceFile(trace_file_);
  ASSERT_TRUE(traces.ok()) << traces.status();
  std::set<std::string> ids;
  for (const auto& [id, trace] : *traces) {
    EXPECT_EQ(trace.model_name, "identity_fp32");
    EXPECT_EQ(trace.model_version, 1);
    ExpectCompleteAndOrdered(trace);
    ids.insert(trace.request_id);
  }
  EXPECT_THAT(ids, UnorderedElementsAre("r1", "r3", "r5"));
}

TEST_F(ServerTraceTest, CommandLineCountAndModelSettings) {
  Start({"--trace-config", "triton,file=" + trace_file_, "--trace-config=level=TIMESTAMPS",
         "--trace-config", "rate=1", "--trace-config", "count=3", "--trace-config", "mode=triton"});
  Settings global = TraceSettingOk("");
  EXPECT_EQ(global.at("trace_level"), std::vector<std::string>{"TIMESTAMPS"});
  EXPECT_EQ(global.at("trace_rate"), std::vector<std::string>{"1"});
  EXPECT_EQ(global.at("trace_count"), std::vector<std::string>{"3"});

  for (int i = 0; i < 5; ++i) InferOk("c" + std::to_string(i));
  EXPECT_EQ(TraceSettingOk("").at("trace_count"), std::vector<std::string>{"0"});
  // The count ran out: the traces go to trace_file.0 at once, without waiting for shutdown.
  const std::filesystem::path counted = trace_file_ + ".0";
  ASSERT_TRUE(WaitFor([&] { return ReadTraceFile(counted).ok(); }));
  auto traces = ReadTraceFile(counted);
  ASSERT_TRUE(traces.ok()) << traces.status();
  std::set<std::string> ids;
  for (const auto& [id, trace] : *traces) {
    ExpectCompleteAndOrdered(trace);
    ids.insert(trace.request_id);
  }
  EXPECT_THAT(ids, UnorderedElementsAre("c0", "c1", "c2"));

  // A model setting of its own: two more traces for identity_fp32 only, every second request.
  const Settings model =
      TraceSettingOk("identity_fp32", {{"trace_count", {"2"}}, {"trace_rate", {"2"}}});
  EXPECT_EQ(model.at("trace_count"), std::vector<std::string>{"2"});
  EXPECT_EQ(model.at("trace_rate"), std::vector<std::string>{"2"});
  EXPECT_EQ(model.at("trace_level"), std::vector<std::string>{"TIMESTAMPS"});
  EXPECT_EQ(TraceSettingOk("").at("trace_count"), std::vector<std::string>{"0"});
  for (int i = 0; i < 6; ++i) InferOk("m" + std::to_string(i));
  EXPECT_EQ(TraceSettingOk("identity_fp32").at("trace_count"), std::vector<std::string>{"0"});
  const std::filesystem::path model_file = trace_file_ + ".1";
  ASSERT_TRUE(WaitFor([&] { return ReadTraceFile(model_file).ok(); }));
  auto model_traces = ReadTraceFile(model_file);
  ASSERT_TRUE(model_traces.ok()) << model_traces.status();
  ids.clear();
  for (const auto& [id, trace] : *model_traces) ids.insert(trace.request_id);
  EXPECT_THAT(ids, UnorderedElementsAre("m1", "m3"));

  // Clearing every field it names hands the model back to the global setting.
  EXPECT_EQ(TraceSettingOk("identity_fp32", {{"trace_count", {}}, {"trace_rate", {}}}),
            TraceSettingOk(""));
  Stop();
  EXPECT_FALSE(std::filesystem::exists(trace_file_ + ".2"));
}

TEST_F(ServerTraceTest, BadSettingsAreRefusedNamingTheSettingAndValue) {
  Start({"--trace-config", "triton,file=" + trace_file_});
  const Settings before = TraceSettingOk("");
  struct Case {
    std::string model;
    Settings settings;
    grpc::StatusCode code;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {"", {{"trace_rate", {"abc"}}}, grpc::INVALID_ARGUMENT, {"trace_rate", "abc"}},
      {"", {{"trace_count", {"-7"}}}, grpc::INVALID_ARGUMENT, {"trace_count", "-7"}},
      {"", {{"trace_level", {"VERBOSE"}}}, grpc::INVALID_ARGUMENT, {"trace_level", "VERBOSE"}},
      {"", {{"trace_sampling", {"1"}}}, grpc::INVALID_ARGUMENT, {"trace_sampling"}},
      {"", {{"trace_file", {"/tmp/elsewhere.json"}}}, grpc::UNIMPLEMENTED, {"trace file"}},
      {"", {{"trace_mode", {"opentelemetry"}}}, grpc::UNIMPLEMENTED, {"opentelemetry"}},
      {"no_such_model", {}, grpc::INVALID_ARGUMENT, {"unknown model", "no_such_model"}},
      {"broken_model", {{"trace_rate", {"1"}}}, grpc::INVALID_ARGUMENT, {"broken_model"}},
  };
  for (const Case& c : cases) {
    Settings ignored;
    grpc::Status status = TraceSetting(c.model, c.settings, &ignored);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    for (const std::string& word : c.mentions) {
      EXPECT_THAT(status.error_message(), HasSubstr(word));
    }
  }
  EXPECT_EQ(TraceSettingOk(""), before);
}

TEST_F(ServerTraceTest, BatchedStreamRequestsShareTheirBatchsComputeTimestamps) {
  // A batch runs only when full (3 requests): the three requests below form one batch.
  auto prepare = [](const std::filesystem::path& repository) -> absl::Status {
    std::filesystem::create_directories(repository / "identity_batch3" / "1");
    return WriteFileAtomically(repository / "identity_batch3" / "config.pbtxt",
                               "backend: \"identity\"\nmax_batch_size: 3\n"
                               "input [{ name: \"INPUT0\" data_type: TYPE_FP32 dims: [-1] }]\n"
                               "output [{ name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [-1] }]\n"
                               "dynamic_batching { max_queue_delay_microseconds: 60000000 }\n");
  };
  // The deprecated flags, still accepted as tritonserver does.
  Start({"--trace-file", trace_file_, "--trace-level", "TIMESTAMPS", "--trace-rate", "1",
         "--trace-log-frequency", "3"},
        prepare);
  EXPECT_EQ(TraceSettingOk("").at("log_frequency"), std::vector<std::string>{"3"});

  auto context = NewContext();
  auto stream = stub_->ModelStreamInfer(context.get());
  for (int i = 0; i < 3; ++i) {
    inference::ModelInferRequest request =
        Fp32Request("identity_batch3", "INPUT0", {1, 1}, {static_cast<float>(i)});
    request.set_id("b" + std::to_string(i));
    ASSERT_TRUE(stream->Write(request));
  }
  inference::ModelStreamInferResponse response;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.error_message(), "");
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  // log_frequency 3: the three traces are written to trace_file.0 as the third comes in.
  const std::filesystem::path file = trace_file_ + ".0";
  ASSERT_TRUE(WaitFor([&] { return ReadTraceFile(file).ok(); }));
  auto traces = ReadTraceFile(file);
  ASSERT_TRUE(traces.ok()) << traces.status();
  ASSERT_EQ(traces->size(), 3u);
  const ParsedTrace& first = traces->begin()->second;
  std::set<std::string> ids;
  for (const auto& [id, trace] : *traces) {
    ExpectCompleteAndOrdered(trace);
    EXPECT_EQ(trace.model_name, "identity_batch3");
    ids.insert(trace.request_id);
    for (const char* name :
         {"COMPUTE_START", "COMPUTE_INPUT_END", "COMPUTE_OUTPUT_START", "COMPUTE_END"}) {
      EXPECT_EQ(trace.timestamps.at(name), first.timestamps.at(name)) << name;
    }
  }
  EXPECT_THAT(ids, UnorderedElementsAre("b0", "b1", "b2"));
  Stop();
}

TEST_F(ServerTraceTest, HttpTraceSettingRoutesShareTheGrpcSettings) {
  Start({"--trace-config", "triton,file=" + trace_file_, "--trace-config", "rate=5"});
  httplib::Client http("127.0.0.1", server_->server->http_port());
  auto got = http.Get("/v2/trace/setting");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(nlohmann::json::parse(got->body),
            nlohmann::json({{"trace_level", {"OFF"}},
                            {"trace_rate", "5"},
                            {"trace_count", "-1"},
                            {"log_frequency", "0"},
                            {"trace_file", trace_file_},
                            {"trace_mode", "triton"}}));

  auto posted = http.Post("/v2/models/identity_fp32/trace/setting",
                          R"({"trace_level": ["TIMESTAMPS"], "trace_rate": "1"})",
                          "application/json");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 200) << posted->body;
  const nlohmann::json model = nlohmann::json::parse(posted->body);
  EXPECT_EQ(model["trace_level"], nlohmann::json({"TIMESTAMPS"}));
  EXPECT_EQ(model["trace_rate"], "1");
  // What HTTP set, gRPC reads; the global setting is unchanged.
  EXPECT_EQ(TraceSettingOk("identity_fp32").at("trace_rate"), std::vector<std::string>{"1"});
  EXPECT_EQ(TraceSettingOk("").at("trace_rate"), std::vector<std::string>{"5"});

  // null clears a field: the model has none left and follows the global setting again.
  auto cleared = http.Post("/v2/models/identity_fp32/trace/setting",
                           R"({"trace_level": null, "trace_rate": null})", "application/json");
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->status, 200) << cleared->body;
  EXPECT_EQ(nlohmann::json::parse(cleared->body)["trace_rate"], "5");

  auto bad = http.Post("/v2/trace/setting", R"({"trace_rate": "fast"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("trace_rate"));
  auto unknown = http.Get("/v2/models/no_such_model/trace/setting");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  EXPECT_THAT(unknown->body, HasSubstr("Request for unknown model"));

  // HTTP inference is traced too, with HTTP_* instead of GRPC_* timestamps.
  ASSERT_EQ(http.Post("/v2/trace/setting", R"({"trace_level": ["TIMESTAMPS"], "trace_rate": "1"})",
                      "application/json")
                ->status,
            200);
  auto inferred = http.Post("/v2/models/identity_fp32/infer",
                            R"({"id": "h1", "inputs": [{"name": "INPUT0", "shape": [1, 2],
                                "datatype": "FP32", "data": [1, 2]}]})",
                            "application/json");
  ASSERT_TRUE(inferred);
  EXPECT_EQ(inferred->status, 200) << inferred->body;
  Stop();
  auto traces = ReadTraceFile(trace_file_);
  ASSERT_TRUE(traces.ok()) << traces.status();
  ASSERT_EQ(traces->size(), 1u);
  const ParsedTrace& trace = traces->begin()->second;
  EXPECT_EQ(trace.request_id, "h1");
  uint64_t previous = 0;
  for (const char* name : {"HTTP_RECV_START", "HTTP_RECV_END", "REQUEST_START", "QUEUE_START",
                           "COMPUTE_START", "COMPUTE_INPUT_END", "COMPUTE_OUTPUT_START",
                           "COMPUTE_END", "REQUEST_END", "HTTP_SEND_START", "HTTP_SEND_END"}) {
    ASSERT_TRUE(trace.timestamps.contains(name)) << name;
    EXPECT_LE(previous, trace.timestamps.at(name)) << name;
    previous = trace.timestamps.at(name);
  }
}

TEST_F(ServerTraceTest, UnsupportedTraceFlagsStopTheServerNamingThem) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--trace-config", "mode=opentelemetry"},
        std::vector<std::string>{"--trace-config", "rate=often"},
        std::vector<std::string>{"--trace-config", "level=TENSORS"}}) {
    absl::StatusOr<TestServer> started = StartTestServer(args);
    ASSERT_FALSE(started.ok()) << args[1];
    EXPECT_THAT(started.status().message(), HasSubstr(args[1].substr(args[1].find('=') + 1)));
  }
}

}  // namespace
}  // namespace sonic::testing
