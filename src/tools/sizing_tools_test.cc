// `sonic perf` and `sonic scan` against the real sonic-server: perf's numbers agree with each
// other (Little's law: throughput x mean latency = requests outstanding), and the scan finds the
// knee that a server of known capacity predicts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client_job.h"
#include "integration_test_util.h"
#include "job_command.h"
#include "load_generator.h"
#include "nlohmann/json.hpp"
#include "perf_report.h"
#include "perf_runner.h"
#include "sanitized_build.h"
#include "saturation.h"
#include "scan_report.h"
#include "scan_runner.h"

namespace sonic::tools {
namespace {

using sonic::testing::SharedServerTest;
using sonic::testing::TestServer;

// The artificial fixed capacity of the scan: two instances that each take 50 ms per request.
constexpr int kInstances = 2;
constexpr int kDelayMs = 50;
constexpr char kFixedCapacityConfig[] = R"(name: "fixed_capacity"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU count: 2 } ]
parameters { key: "execute_delay_ms" value { string_value: "50" } }
)";

// A model whose every request outlasts the short windows below.
constexpr char kSlowConfig[] = R"(name: "slow"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
parameters { key: "execute_delay_ms" value { string_value: "2000" } }
)";

std::filesystem::path SonicBinary() {
  const char* build_dir = std::getenv("SONIC_BUILD_DIR");
  return std::filesystem::path(build_dir == nullptr ? "." : build_dir) / "bin" / "sonic";
}

class SizingToolsTest : public SharedServerTest<SizingToolsTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return sonic::testing::StartTestServer({}, [](const std::filesystem::path& repository) {
      std::filesystem::create_directories(repository / "fixed_capacity" / "1");
      std::filesystem::create_directories(repository / "slow" / "1");
      absl::Status written = sonic::testing::WriteFileAtomically(
          repository / "fixed_capacity" / "config.pbtxt", kFixedCapacityConfig);
      if (!written.ok()) return written;
      return sonic::testing::WriteFileAtomically(repository / "slow" / "config.pbtxt",
                                                 kSlowConfig);
    });
  }

 protected:
  PerfOptions IdentityPerf() const {
    PerfOptions options;
    options.connection.address = server_->server->address();
    options.model = "identity_fp32";
    options.shapes = {"INPUT0:16"};
    options.measurement_interval = absl::Milliseconds(300);
    options.max_trials = 5;
    options.stability_threshold = 0.5;  // this test checks consistency, not stability
    return options;
  }

  std::filesystem::path Scratch(const std::string& name) const {
    return server_->dir->path() / name;
  }
};

TEST_F(SizingToolsTest, PerfNumbersAreConsistent) {
  PerfOptions options = IdentityPerf();
  options.range = {1, 3, 1};
  // Async keeps exactly `load` requests outstanding (what Little's law below relies on); sync
  // workers add their own thread's wake-up between an answer and the next send, which on a
  // loaded 2-core machine pushes the product under the bound.
  options.async = true;
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  EXPECT_TRUE((*runner)->has_server_statistics());
  int progress_calls = 0;
  absl::StatusOr<std::vector<PerfResult>> results =
      (*runner)->Run([&](const PerfProgress&) { ++progress_calls; });
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 3u);
  EXPECT_GE(progress_calls, 3);
  for (const PerfResult& result : *results) {
    const Measurement& m = result.measurement;
    SCOPED_TRACE(FormatResult(result));
    EXPECT_GT(m.successes, 0);
    EXPECT_EQ(m.failures, 0);
    // Little's law: `load` requests are always outstanding, so throughput x latency = load,
    // less the client's own time between an answer and the next send.
    const double outstanding = m.throughput * absl::ToDoubleSeconds(m.mean_latency);
    EXPECT_GT(outstanding, 0.7 * result.load);
    EXPECT_LT(outstanding, 1.15 * result.load);
    EXPECT_LE(m.percentiles.at(50), m.percentiles.at(90));
    EXPECT_LE(m.percentiles.at(90), m.percentiles.at(95));
    EXPECT_LE(m.percentiles.at(95), m.percentiles.at(99));
    ASSERT_TRUE(m.server.has_value());
    // The server saw (about) the requests of the merged windows: they are this test's only load.
    EXPECT_GT(m.server->request_count, 0.8 * m.successes);
    EXPECT_LE(m.server->total(), m.mean_latency);
  }
  std::ostringstream csv;
  WriteCsv(csv, LoadKind::kConcurrency, *results);
  std::vector<std::string> lines = absl::StrSplit(csv.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> fields = absl::StrSplit(lines[i], ',');
    ASSERT_EQ(fields.size(), 13u) << lines[i];
    for (const std::string& field : fields) {
      double value = -1;
      EXPECT_TRUE(absl::SimpleAtod(field, &value) && value >= 0) << lines[i];
    }
  }
}

TEST_F(SizingToolsTest, PerfWithSystemSharedMemoryAndRequestRate) {
  PerfOptions options = IdentityPerf();
  options.shared_memory = SharedMemoryKind::kSystem;
  options.kind = LoadKind::kRequestRate;
  options.range = {100, 100, 1};
  options.distribution = RequestDistribution::kPoisson;
  options.max_trials = 3;
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  absl::StatusOr<std::vector<PerfResult>> results = (*runner)->Run({});
  ASSERT_TRUE(results.ok()) << results.status();
  const Measurement& m = results->front().measurement;
  EXPECT_EQ(m.failures, 0) << results->front().first_error;
  EXPECT_GT(m.successes, 0);
  ASSERT_TRUE(m.server.has_value());
  EXPECT_GT(m.server->request_count, 0u);
}

// Without a visible device (or without CUDA) the run is refused before any load, naming the
// device; with one, requests go through device regions.
TEST_F(SizingToolsTest, PerfWithCudaSharedMemoryRunsOrNamesTheMissingDevice) {
  PerfOptions options = IdentityPerf();
  options.shared_memory = SharedMemoryKind::kCuda;
  options.max_trials = 3;
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(options);
  if (!runner.ok()) {
    const absl::StatusCode code = runner.status().code();
    EXPECT_TRUE(code == absl::StatusCode::kUnimplemented ||
                code == absl::StatusCode::kFailedPrecondition)
        << runner.status();
    EXPECT_NE(runner.status().message().find("device 0"), absl::string_view::npos)
        << runner.status();
    return;
  }
  absl::StatusOr<std::vector<PerfResult>> results = (*runner)->Run({});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(results->front().measurement.failures, 0) << results->front().first_error;
  EXPECT_GT(results->front().measurement.successes, 0);
}

TEST_F(SizingToolsTest, PerfCommandWritesCsvAndJsonAndRejectsBadFlags) {
  const std::filesystem::path csv = Scratch("perf.csv");
  const std::filesystem::path json = Scratch("perf.json");
  std::vector<std::string> perf = {SonicBinary().string(), "perf", "-u",
                                   server_->server->address(), "-m", "identity_fp32",
                                   "--shape", "INPUT0:4", "-p", "200", "-r", "3"};
  std::vector<std::string> good = perf;
  good.insert(good.end(), {"-f", csv.string(), "--json", json.string()});
  std::vector<std::string> bad = perf;
  bad.insert(bad.end(), {"--concurrency-range", "3:1"});
  absl::StatusOr<std::vector<int>> codes =
      RunJobs({{good, Scratch("good.log")}, {bad, Scratch("bad.log")}},
              absl::Now() + absl::Seconds(120));
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_EQ((*codes)[0], 0) << LogTail(Scratch("good.log"));
  EXPECT_EQ((*codes)[1], 2) << LogTail(Scratch("bad.log"));
  EXPECT_NE(LogTail(Scratch("bad.log")).find("3:1"), std::string::npos);
  std::ifstream in(csv);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, CsvHeader(LoadKind::kConcurrency));
  std::ifstream json_in(json);
  nlohmann::json report = nlohmann::json::parse(json_in, nullptr, false);
  ASSERT_FALSE(report.is_discarded());
  EXPECT_EQ(report["results"].size(), 1u);
}

// Streaming: one ModelStreamInfer stream per concurrency slot, answered by the real server.
TEST_F(SizingToolsTest, PerfStreamsRequestsOverModelStreamInfer) {
  PerfOptions options = IdentityPerf();
  options.async = true;
  options.streaming = true;
  options.range = {1, 2, 1};
  options.max_trials = 3;
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  absl::StatusOr<std::vector<PerfResult>> results = (*runner)->Run({});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 2u);
  for (const PerfResult& result : *results) {
    const Measurement& m = result.measurement;
    SCOPED_TRACE(FormatResult(result));
    EXPECT_EQ(m.failures, 0) << result.first_error;
    EXPECT_GT(m.successes, 0);
    const double outstanding = m.throughput * absl::ToDoubleSeconds(m.mean_latency);
    EXPECT_LT(outstanding, 1.15 * result.load);
    ASSERT_TRUE(m.server.has_value());
    EXPECT_GT(m.server->request_count, 0u);
  }
  options.async = false;
  EXPECT_EQ(PerfRunner::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// count_windows: every window lasts whole seconds and holds at least the request count.
TEST_F(SizingToolsTest, PerfCountWindowsHoldTheRequestCount) {
  PerfOptions options = IdentityPerf();
  options.measurement_mode = MeasurementMode::kCountWindows;
  options.measurement_request_count = 30;
  options.max_trials = 3;
  std::vector<Measurement> windows;
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  absl::StatusOr<std::vector<PerfResult>> results =
      (*runner)->Run([&](const PerfProgress& p) { windows.push_back(p.last); });
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_FALSE(windows.empty());
  for (const Measurement& window : windows) {
    EXPECT_GE(window.successes + window.failures, 30);
    EXPECT_GE(window.duration, absl::Seconds(1));
  }
}

// Windows in which no request ends give no figure: the level is refused, as perf_analyzer
// refuses it, instead of reporting a throughput of 0.
TEST_F(SizingToolsTest, PerfRefusesALevelWhoseWindowsSawNoRequestEnd) {
  PerfOptions options = IdentityPerf();
  options.model = "slow";
  options.shapes = {};
  options.measurement_interval = absl::Milliseconds(100);
  options.max_trials = 3;
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  absl::StatusOr<std::vector<PerfResult>> results = (*runner)->Run({});
  EXPECT_EQ(results.status().code(), absl::StatusCode::kDeadlineExceeded) << results.status();
  EXPECT_NE(results.status().message().find("--measurement-interval"), absl::string_view::npos)
      << results.status();
}

// The fixed-capacity model answers 2 requests per 50 ms: 2 outstanding take ~50 ms each, 6
// outstanding ~150 ms. With a 100 ms threshold the sweep 2, 6, 10 reports 2 and stops at 6.
TEST_F(SizingToolsTest, PerfLatencyThresholdEndsTheSweep) {
  PerfOptions options = IdentityPerf();
  options.model = "fixed_capacity";
  options.shapes = {};
  options.range = {2, 10, 4};
  options.max_trials = 3;
  options.latency_threshold = absl::Milliseconds(100);
  std::vector<double> measured;
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  absl::StatusOr<std::vector<PerfResult>> results = (*runner)->Run([&](const PerfProgress& p) {
    if (measured.empty() || measured.back() != p.load) measured.push_back(p.load);
  });
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(measured, (std::vector<double>{2, 6}));
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ(results->front().load, 2);
  EXPECT_LT(results->front().measurement.mean_latency, absl::Milliseconds(100));
}

// Binary search over 1..8 with a 100 ms threshold (latency ~25 ms x concurrency from 2 on):
// 1 and 8 first, then the midpoints of the bracket, each level within the threshold reported.
TEST_F(SizingToolsTest, PerfBinarySearchBisectsTheRange) {
  PerfOptions options = IdentityPerf();
  options.model = "fixed_capacity";
  options.shapes = {};
  options.range = {1, 8, 1};
  options.max_trials = 3;
  options.latency_threshold = absl::Milliseconds(100);
  options.search = SearchMode::kBinary;
  std::vector<double> measured;
  absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(options);
  ASSERT_TRUE(runner.ok()) << runner.status();
  absl::StatusOr<std::vector<PerfResult>> results = (*runner)->Run([&](const PerfProgress& p) {
    if (measured.empty() || measured.back() != p.load) measured.push_back(p.load);
  });
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_GE(measured.size(), 4u);
  EXPECT_EQ(measured[0], 1);
  EXPECT_EQ(measured[1], 8);
  EXPECT_EQ(measured[2], 4);
  // Each later level bisects the bracket the earlier answers left.
  double low = 1, high = 8;
  for (size_t i = 2; i < measured.size(); ++i) {
    EXPECT_EQ(measured[i], std::floor((low + high) / 2)) << i;
    const bool reported = std::any_of(results->begin(), results->end(),
                                      [&](const PerfResult& r) { return r.load == measured[i]; });
    (reported ? low : high) = measured[i];
  }
  EXPECT_LE(high - low, 1);
  for (const PerfResult& result : *results) {
    EXPECT_FALSE(ExceedsLatencyThreshold(result, std::nullopt, absl::Milliseconds(100)));
    EXPECT_NE(result.load, 8);
  }
  options.latency_threshold.reset();
  EXPECT_EQ(PerfRunner::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// The command line: --verbose-csv with --collect-metrics (this server has no GPU: the GPU
// fields are empty), -H, --streaming; and perf_analyzer flags sonic perf lacks, refused by name.
TEST_F(SizingToolsTest, PerfCommandWritesVerboseCsvAndRefusesWhatItLacks) {
  const std::filesystem::path csv = Scratch("verbose.csv");
  std::vector<std::string> perf = {SonicBinary().string(), "perf", "-u",
                                   server_->server->address(), "-m", "identity_fp32",
                                   "--shape", "INPUT0:4", "-p", "200", "-r", "3", "-s", "50"};
  std::vector<std::string> good = perf;
  good.insert(good.end(),
              {"-f", csv.string(), "--verbose-csv", "--collect-metrics", "--metrics-url",
               absl::StrCat("127.0.0.1:", server_->server->metrics_port(), "/metrics"),
               "--metrics-interval", "50", "-H", "X-Run-Tag: 7", "--streaming",
               "--concurrency-range", "1:2"});
  std::vector<JobLaunch> jobs = {{good, Scratch("verbose.log")}};
  const std::vector<std::vector<std::string>> refused = {
      {"-i", "http"}, {"--trace-level", "TIMESTAMPS"}, {"--sequence-length", "4"},
      {"--streaming", "--sync"}, {"--binary-search", "--concurrency-range", "1:4"},
      {"-H", "no colon"}, {"--metrics-url", "h:8002/metrics"}};
  for (size_t i = 0; i < refused.size(); ++i) {
    std::vector<std::string> bad = perf;
    bad.insert(bad.end(), refused[i].begin(), refused[i].end());
    jobs.push_back({bad, Scratch(absl::StrCat("refused", i, ".log"))});
  }
  absl::StatusOr<std::vector<int>> codes = RunJobs(jobs, absl::Now() + absl::Seconds(120));
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_EQ((*codes)[0], 0) << LogTail(Scratch("verbose.log"));
  const std::vector<std::string> named = {"http", "--trace-level", "--sequence-length",
                                          "--sync", "--latency-threshold", "no colon",
                                          "--collect-metrics"};
  for (size_t i = 0; i < refused.size(); ++i) {
    const std::string log = LogTail(Scratch(absl::StrCat("refused", i, ".log")));
    EXPECT_EQ((*codes)[i + 1], 2) << log;
    EXPECT_NE(log.find(named[i]), std::string::npos) << log;
  }
  CsvLayout layout;
  layout.verbose = true;
  layout.gpu_metrics = true;
  std::ifstream in(csv);
  std::string header, row;
  std::getline(in, header);
  EXPECT_EQ(header, CsvHeader(LoadKind::kConcurrency, layout));
  int rows = 0;
  double last_throughput = 0;
  while (std::getline(in, row)) {
    ++rows;
    std::vector<std::string> fields = absl::StrSplit(row, ',');
    ASSERT_EQ(fields.size(), 20u) << row;
    EXPECT_TRUE(row.ends_with(",,,,")) << row;  // no GPU on this server
    double throughput = 0;
    ASSERT_TRUE(absl::SimpleAtod(fields[1], &throughput)) << row;
    EXPECT_GE(throughput, last_throughput) << "rows sorted by throughput";
    last_throughput = throughput;
  }
  EXPECT_EQ(rows, 2);
}

TEST_F(SizingToolsTest, AScanJobWithAThinkTimeSendsOneRequestPerEvent) {
  // Each event of the job's thread is a 50 ms think time then a request of at least 50 ms: at
  // most 10 events/s, half the back-to-back rate. The report counts the model's calls.
  ClientJobOptions job;
  job.address = server_->server->address();
  job.model = "fixed_capacity";
  job.think_time = absl::Milliseconds(kDelayMs);
  job.start = absl::Now() + absl::Milliseconds(300);
  job.duration = absl::Milliseconds(1500);
  absl::StatusOr<JobReport> report = RunClientJob(job);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->events, 0);
  EXPECT_LE(report->events_per_second, 1000.0 / (2 * kDelayMs) * 1.05);
  ASSERT_EQ(report->models.size(), 1u);
  EXPECT_EQ(report->models[0].model, "fixed_capacity");
  EXPECT_EQ(report->models[0].calls, report->events);  // batch size 1
  EXPECT_EQ(report->models[0].entries, report->events);

  const std::vector<std::string> command = ClientJobCommand(SonicBinary(), job);
  const auto flag = std::find(command.begin(), command.end(), "--think-time-ms");
  ASSERT_NE(flag, command.end());
  EXPECT_EQ(*(flag + 1), "50");

  // A think time belongs to blocking closed-loop senders only.
  ConnectionOptions connection;
  connection.address = server_->server->address();
  absl::StatusOr<std::unique_ptr<InferenceConnection>> channel =
      InferenceConnection::Create(connection);
  ASSERT_TRUE(channel.ok()) << channel.status();
  RequestRecorder recorder;
  LoadSpec load;
  load.async = true;
  load.think_time = absl::Milliseconds(1);
  const std::vector<inference::ModelInferRequest> requests(1);
  EXPECT_EQ(LoadGenerator::Start(**channel, requests, recorder, load).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SizingToolsTest, ScanFindsTheKneeThatTheCapacityPredicts) {
#if SONIC_THREAD_SANITIZED
  // Under ThreadSanitizer one job alone already runs well under its model's rate (12.7 of 20
  // calls/s seen), so the knee measures the instrumentation; AddressSanitizer's cost fits.
  GTEST_SKIP() << "measures a throughput knee, which the ThreadSanitizer build does not show";
#endif
  // One job of one thread sends back to back; each request takes at least the delay, so a job
  // alone makes at most 1000 / 50 = 20 requests/s. The server executes at most kInstances at
  // once: capacity 2 x 20 = 40 requests/s. The knee is at capacity / one job's rate = 2 jobs;
  // with 3 jobs each gets at most 40 / 3 = 13.3/s, a third less than alone, and the total
  // cannot grow.
  constexpr double kJobAlone = 1000.0 / kDelayMs;
  constexpr double kCapacity = kInstances * kJobAlone;
  constexpr int kPredictedKnee = static_cast<int>(kCapacity / kJobAlone);
  static_assert(kPredictedKnee == 2);

  ClientJobOptions job;
  job.address = server_->server->address();
  job.model = "fixed_capacity";
  ScanOptions options;
  options.job_counts = {1, 2, 3, 4};
  options.job_command = ClientJobCommand(SonicBinary(), job);
  options.duration = absl::Milliseconds(1500);
  options.work_dir = Scratch("scan");
  std::filesystem::create_directories(options.work_dir);
  absl::StatusOr<std::vector<ScanPoint>> points = RunScan(options, {});
  ASSERT_TRUE(points.ok()) << points.status();
  std::ostringstream csv;
  WriteScanCsv(csv, *points);
  SCOPED_TRACE(csv.str());
  ASSERT_EQ(points->size(), 4u);
  EXPECT_LE(points->front().total_throughput, kJobAlone * 1.05);
  for (const ScanPoint& point : *points) EXPECT_LE(point.total_throughput, kCapacity * 1.05);

  // A 15% drop: with one job per instance the two jobs' throughput is already a few percent
  // under the ideal on a loaded machine or under sanitizers, and the third job's gain over it
  // then passes a 10% "still growing" test (seen: 33.3 then 38.0 of a 40/s capacity).
  Saturation saturation = FindSaturation(*points, 0.15);
  EXPECT_TRUE(saturation.saturated);
  EXPECT_EQ(saturation.sustained_jobs, kPredictedKnee);
  EXPECT_EQ(saturation.saturated_at, kPredictedKnee + 1);

  if (FindGnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed: no plot to check";
  const std::filesystem::path csv_file = options.work_dir / "scan.csv";
  std::ofstream(csv_file) << csv.str();
  const std::filesystem::path png = options.work_dir / "scan.png";
  absl::Status plotted = PlotScan(csv_file, png, *points, saturation, "test scan");
  ASSERT_TRUE(plotted.ok()) << plotted;
  std::ifstream image(png, std::ios::binary);
  char magic[4] = {};
  image.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
}

}  // namespace
}  // namespace sonic::tools
