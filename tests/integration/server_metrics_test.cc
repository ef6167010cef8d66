// The Prometheus metrics endpoint of a running sonic-server (docs/PROTOCOL.md "Prometheus
// metrics"): per-model counters after real inferences, a failure counted under its reason, the
// pending gauge, host CPU and memory gauges, 404 elsewhere, and no endpoint with
// --allow-metrics=false.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "integration_test_util.h"

namespace sonic::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kInferences = 5;
const std::string kIdentityLabels = "{model=\"identity_fp32\",version=\"1\"}";

// Identity with an optional second input: requesting OUTPUT1 without INPUT1 passes request
// validation but fails in the backend (it has nothing to copy), a BACKEND failure.
constexpr char kIdentityOptional[] = R"config(name: "identity_optional"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
        { name: "INPUT1" data_type: TYPE_FP32 dims: [ -1 ] optional: true } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
         { name: "OUTPUT1" data_type: TYPE_FP32 dims: [ -1 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
)config";

absl::Status AddIdentityOptional(const std::filesystem::path& repository) {
  std::error_code error;
  std::filesystem::create_directories(repository / "identity_optional" / "1", error);
  if (error) return absl::InternalError("cannot create identity_optional/1");
  return WriteFileAtomically(repository / "identity_optional" / "config.pbtxt", kIdentityOptional);
}

// Every sample line of an exposition, "name{labels}" -> value. Fails the test on a line that is
// neither a comment nor "series value".
std::map<std::string, double> ParseSamples(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    if (space == std::string::npos) continue;
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

// The TCP ports process `pid` listens on: its socket inodes (/proc/PID/fd) matched against the
// LISTEN rows of /proc/net/tcp and tcp6.
std::set<int> ListeningPorts(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code error;
  const std::filesystem::path fds = std::filesystem::path("/proc") / std::to_string(pid) / "fd";
  for (const auto& fd : std::filesystem::directory_iterator(fds, error)) {
    std::string target = std::filesystem::read_symlink(fd.path(), error).string();
    if (!error && target.starts_with("socket:["))
      inodes.insert(target.substr(8, target.size() - 9));
  }
  std::set<int> ports;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream rows(table);
    std::string header, slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    std::getline(rows, header);
    while (rows >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
           timeout >> inode) {
      std::getline(rows, header);  // the rest of the row
      if (state == "0A" && inodes.contains(inode)) {
        ports.insert(std::stoi(local.substr(local.rfind(':') + 1), nullptr, 16));
      }
    }
  }
  return ports;
}

class ServerMetricsTest : public SharedServerTest<ServerMetricsTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return StartTestServer({}, AddIdentityOptional);
  }

 protected:
  void SetUp() override {
    SharedServerTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_GT(server_->server->metrics_port(), 0);
  }

  // GET `path` from the metrics port; nullopt (and a test failure) when no answer came.
  static std::optional<httplib::Response> Fetch(const std::string& path) {
    httplib::Client client("127.0.0.1", server_->server->metrics_port());
    client.set_read_timeout(30);
    httplib::Result result = client.Get(path.c_str());
    EXPECT_TRUE(result) << path << ": " << httplib::to_string(result.error());
    if (!result) return std::nullopt;
    return *result;
  }

  static std::map<std::string, double> Scrape() {
    std::optional<httplib::Response> response = Fetch("/metrics");
    if (!response) return {};
    EXPECT_EQ(response->status, 200);
    return ParseSamples(response->body);
  }
};

TEST_F(ServerMetricsTest, CountsInferencesExecutionsAndDurations) {
  for (int i = 0; i < kInferences; ++i) {
    inference::ModelInferResponse response;
    grpc::Status status = Infer(
        *stub_, Fp32Request("identity_fp32", "INPUT0", {2, 3}, {1, 2, 3, 4, 5, 6}), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  std::map<std::string, double> samples = Scrape();
  EXPECT_EQ(samples["nv_inference_request_success" + kIdentityLabels], kInferences);
  EXPECT_EQ(samples["nv_inference_count" + kIdentityLabels], 2 * kInferences);  // batch 2 each
  EXPECT_EQ(samples["nv_inference_exec_count" + kIdentityLabels], kInferences);
  for (const char* duration :
       {"nv_inference_request_duration_us", "nv_inference_queue_duration_us",
        "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us",
        "nv_inference_compute_output_duration_us"}) {
    EXPECT_GT(samples[duration + kIdentityLabels], 0) << duration;
  }
  for (const char* reason : {"REJECTED", "CANCELED", "BACKEND", "OTHER"}) {
    const std::string series =
        "nv_inference_request_failure{model=\"identity_fp32\",version=\"1\","
        "reason=\"" +
        std::string(reason) + "\"}";
    ASSERT_TRUE(samples.contains(series)) << series;
    EXPECT_EQ(samples[series], 0) << series;
  }
}

TEST_F(ServerMetricsTest, BackendFailureIsCountedUnderItsReason) {
  inference::ModelInferRequest request = Fp32Request("identity_optional", "INPUT0", {3}, {1, 2, 3});
  request.add_outputs()->set_name("OUTPUT1");
  inference::ModelInferResponse response;
  grpc::Status status = Infer(*stub_, request, &response);
  ASSERT_FALSE(status.ok());

  std::map<std::string, double> samples = Scrape();
  const std::string labels = "model=\"identity_optional\",version=\"1\"";
  EXPECT_EQ(samples["nv_inference_request_failure{" + labels + ",reason=\"BACKEND\"}"], 1);
  EXPECT_EQ(samples["nv_inference_request_failure{" + labels + ",reason=\"OTHER\"}"], 0);
  EXPECT_EQ(samples["nv_inference_request_success{" + labels + "}"], 0);
  EXPECT_GT(samples["nv_inference_request_duration_us{" + labels + "}"], 0);
}

TEST_F(ServerMetricsTest, PendingGaugeIsPresentAndIdle) {
  std::optional<httplib::Response> response = Fetch("/metrics");
  ASSERT_TRUE(response);
  EXPECT_THAT(response->body, HasSubstr("# TYPE nv_inference_pending_request_count gauge\n"));
  std::map<std::string, double> samples = ParseSamples(response->body);
  ASSERT_TRUE(samples.contains("nv_inference_pending_request_count" + kIdentityLabels));
  EXPECT_EQ(samples["nv_inference_pending_request_count" + kIdentityLabels], 0);
}

TEST_F(ServerMetricsTest, CpuAndMemoryGaugesAreSane) {
  Scrape();  // a first sample, so the next utilization covers a short, fresh interval
  std::map<std::string, double> samples = Scrape();
  ASSERT_TRUE(samples.contains("nv_cpu_utilization"));
  EXPECT_GE(samples["nv_cpu_utilization"], 0);
  EXPECT_LE(samples["nv_cpu_utilization"], 1);
  ASSERT_TRUE(samples.contains("nv_cpu_memory_total_bytes"));
  ASSERT_TRUE(samples.contains("nv_cpu_memory_used_bytes"));
  EXPECT_GT(samples["nv_cpu_memory_total_bytes"], 0);
  EXPECT_GT(samples["nv_cpu_memory_used_bytes"], 0);
  EXPECT_LE(samples["nv_cpu_memory_used_bytes"], samples["nv_cpu_memory_total_bytes"]);
}

TEST_F(ServerMetricsTest, ServesTheTextFormat) {
  std::optional<httplib::Response> response = Fetch("/metrics");
  ASSERT_TRUE(response);
  EXPECT_THAT(response->get_header_value("Content-Type"), HasSubstr("text/plain"));
  EXPECT_THAT(response->body, HasSubstr("# TYPE nv_inference_request_success counter\n"));
  EXPECT_THAT(response->body, HasSubstr("# HELP nv_inference_request_success "));
}

TEST_F(ServerMetricsTest, ListensOnTheGrpcHttpAndMetricsPorts) {
  EXPECT_EQ(ListeningPorts(server_->server->pid()),
            (std::set<int>{server_->server->port(), server_->server->http_port(),
                           server_->server->metrics_port()}));
}

TEST_F(ServerMetricsTest, OtherPathsAreNotFound) {
  for (const char* path : {"/", "/metric", "/v2/health/ready"}) {
    std::optional<httplib::Response> response = Fetch(path);
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->status, 404) << path;
  }
}

TEST(ServerMetricsDisabledTest, AllowMetricsFalseServesNoMetricsPort) {
  absl::StatusOr<TestServer> started = StartTestServer({"--allow-metrics=false"});
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->server->metrics_port(), 0);
  EXPECT_EQ(ListeningPorts(started->server->pid()),
            (std::set<int>{started->server->port(), started->server->http_port()}));
  // The server runs and answers gRPC all the same.
  auto stub = NewStub(started->server->address());
  EXPECT_TRUE(IsModelReady(*stub, "identity_fp32"));
}

}  // namespace
}  // namespace sonic::testing
