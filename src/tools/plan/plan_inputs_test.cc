// Reading plan files: profiles from `sonic perf --json` reports and inline levels, a workload
// from a `sonic run --report` file, constraints; and the errors that name what is wrong.
#include "plan_inputs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace sonic::tools {
namespace {

// Two levels as `sonic perf --json` writes them (perf_report.h), at batch size 4.
constexpr char kPerfJson[] = R"({
  "model": "m", "model_version": "", "server": "127.0.0.1:1", "mode": "concurrency",
  "async": false, "streaming": false, "batch_size": 4, "measurement_interval_ms": 300,
  "stability_percentage": 10.0,
  "results": [
    {"concurrency": 1, "stable": true, "windows": 3, "requests": 60, "failures": 0,
     "throughput_infer_per_sec": 200.0,
     "latency_us": {"avg": 20100, "p50": 20050, "p90": 20300, "p95": 20400, "p99": 20900},
     "client_us": {"send": 10, "recv": 5},
     "server_us": {"requests": 60, "executions": 60, "queue": 40, "compute_input": 12,
                   "compute_infer": 20001, "compute_output": 8},
     "network_server_us": 20080, "gpu": null, "first_error": ""},
    {"concurrency": 2, "stable": true, "windows": 3, "requests": 0, "failures": 3,
     "throughput_infer_per_sec": 0, "latency_us": {"avg": 0}, "client_us": {"send": 0, "recv": 0},
     "server_us": null, "network_server_us": 0, "gpu": null, "first_error": "boom"}
  ]})";

class PlanInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("plan_inputs_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "perf.json") << kPerfJson;
    std::ofstream(dir_ / "run.json") << R"({"mode": "sonic", "events": 150, "threads": 2,
        "events_per_second": 30.0, "categories": []})";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<PlanInputs> Parse(const std::string& text) {
    std::ofstream(dir_ / "site.yaml") << text;
    return ReadPlanInputs(dir_ / "site.yaml");
  }

  std::filesystem::path dir_;
};

TEST_F(PlanInputsTest, ReadsPerfReportsInlineLevelsRunReportAndConstraints) {
  absl::StatusOr<PlanInputs> inputs = Parse(R"(
profiles:
  - model: m
    instances: 2
    memory_mb_per_instance: 300
    request_bytes_per_entry: 64
    perf_json: perf.json
  - model: n
    device: cpu
    server_cpu_us_per_request: 25
    levels:
      - {batch_size: 1, concurrency: 3, throughput: 90, latency_ms: {avg: 33, p50: 32, p99: 40}}
workload:
  jobs: 12
  run_report: run.json
  models:
    - {model: m, entries_per_call: 4}
constraints: {gpu_memory_mb: 1000, gpus_per_server: 2, target_utilization: 0.7, p99_latency_ms: 50}
direct: {cores_per_gpu: 16, measured_utilization: 0.2}
)");
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  ASSERT_EQ(inputs->profiles.size(), 2u);
  const ModelProfile& m = inputs->profiles[0];
  EXPECT_EQ(m.device, "gpu");
  EXPECT_EQ(m.instances, 2);
  ASSERT_EQ(m.levels.size(), 1u);  // the level without successes is left out
  EXPECT_EQ(m.levels[0].batch_size, 4);
  EXPECT_EQ(m.levels[0].concurrency, 1);
  EXPECT_EQ(m.levels[0].throughput, 200);
  EXPECT_EQ(m.levels[0].latency_p99_us, 20900);
  EXPECT_EQ(m.levels[0].server_host_us, 20);
  const ModelProfile& n = inputs->profiles[1];
  EXPECT_EQ(n.device, "cpu");
  EXPECT_EQ(n.server_cpu_us_per_request, 25);
  EXPECT_EQ(n.levels[0].latency_p50_us, 32000);
  EXPECT_EQ(inputs->workload.jobs, 12);
  EXPECT_EQ(inputs->workload.threads, 2);
  EXPECT_EQ(inputs->workload.events_per_second_per_thread, 15);
  EXPECT_EQ(inputs->workload.models[0].entries_per_call, 4);
  EXPECT_EQ(inputs->workload.models[0].calls_per_event, 1);
  EXPECT_EQ(inputs->constraints.gpus_per_server, 2);
  EXPECT_EQ(inputs->constraints.p99_latency_ms, 50);
  ASSERT_TRUE(inputs->direct.has_value());
  EXPECT_EQ(inputs->direct->cores_per_gpu, 16);
}

// A `sonic run --report` of the demonstrator (job_report.h): two modules call particlenet
// (ak4 and ak8 jets), one deeptau; 40 events on 4 threads at 20 events/s.
constexpr char kRunReport[] = R"({"mode": "sonic", "events": 40, "threads": 4,
  "events_per_second": 20.0,
  "models": [
    {"module": "pn_ak4", "model": "particlenet", "calls": 40, "entries": 280},
    {"module": "pn_ak8", "model": "particlenet", "calls": 20, "entries": 50},
    {"module": "deeptau", "model": "deeptau", "calls": 30, "entries": 60},
    {"module": "echo", "model": "echo", "calls": 0, "entries": 0}]})";

TEST_F(PlanInputsTest, RunReportGivesThreadsRateCallsAndEntriesPerModel) {
  absl::StatusOr<RunReport> run = ParseRunReport(kRunReport);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->threads, 4);
  EXPECT_EQ(run->events_per_second, 20);
  ASSERT_EQ(run->models.size(), 2u);  // particlenet summed over its modules; echo never called
  EXPECT_EQ(run->models[0].model, "particlenet");
  EXPECT_DOUBLE_EQ(run->models[0].calls_per_event, 60.0 / 40);
  EXPECT_DOUBLE_EQ(run->models[0].entries_per_call, 330.0 / 60);
  EXPECT_EQ(run->models[1].model, "deeptau");
  EXPECT_DOUBLE_EQ(run->models[1].calls_per_event, 0.75);
  EXPECT_DOUBLE_EQ(run->models[1].entries_per_call, 2);

  std::ofstream(dir_ / "demo.json") << kRunReport;
  const std::string profiles =
      "profiles:\n"
      "  - {model: particlenet, levels: [{throughput: 10, latency_ms: {avg: 1}}]}\n"
      "  - {model: deeptau, levels: [{throughput: 10, latency_ms: {avg: 1}}]}\n";
  // Without a models list: every model the report called.
  absl::StatusOr<PlanInputs> all = Parse(profiles + "workload: {jobs: 3, run_report: demo.json}\n");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->workload.threads, 4);
  EXPECT_EQ(all->workload.events_per_second_per_thread, 5);
  ASSERT_EQ(all->workload.models.size(), 2u);
  EXPECT_DOUBLE_EQ(all->workload.models[1].calls_per_event, 0.75);
  // A list picks models; a key written there overrides the report.
  absl::StatusOr<PlanInputs> picked = Parse(profiles +
                                            "workload:\n  run_report: demo.json\n"
                                            "  models: [{model: deeptau, entries_per_call: 3}]\n");
  ASSERT_TRUE(picked.ok()) << picked.status();
  ASSERT_EQ(picked->workload.models.size(), 1u);
  EXPECT_DOUBLE_EQ(picked->workload.models[0].calls_per_event, 0.75);
  EXPECT_DOUBLE_EQ(picked->workload.models[0].entries_per_call, 3);
  // A model the report never called needs its numbers written.
  absl::StatusOr<PlanInputs> unknown = Parse(
      "profiles: [{model: echo, levels: [{throughput: 10, latency_ms: {avg: 1}}]}]\n"
      "workload: {run_report: demo.json, models: [{model: echo}]}\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("no calls of echo"), std::string::npos)
      << unknown.status();
  // The report gives the rate and threads: the workload may not give them again.
  absl::StatusOr<PlanInputs> twice =
      Parse(profiles + "workload: {run_report: demo.json, threads: 8}\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("leave out threads"), std::string::npos)
      << twice.status();
  EXPECT_EQ(ParseRunReport(R"({"events": 1, "threads": 1, "events_per_second": 1,
                               "models": [{"model": "m", "calls": -1, "entries": 0}]})")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseRunReport(R"({"threads": 1, "events_per_second": 1, "models": []})").status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(PlanInputsTest, RequestRateReportsGetTheirConcurrencyFromLittlesLaw) {
  std::string json = kPerfJson;
  json.replace(json.find("\"mode\": \"concurrency\""), 21, "\"mode\": \"request_rate\"");
  json.replace(json.find("\"concurrency\""), 13, "\"request_rate\"");
  absl::StatusOr<std::vector<ProfileLevel>> levels = LevelsFromPerfJson(json);
  ASSERT_TRUE(levels.ok()) << levels.status();
  EXPECT_NEAR((*levels)[0].concurrency, 200.0 / 4 * 0.0201, 1e-12);
  EXPECT_EQ(LevelsFromPerfJson("{\"results\": []}").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PlanInputsTest, ErrorsNameWhatIsWrong) {
  const std::string profile =
      "profiles: [{model: m, levels: [{throughput: 10, latency_ms: {avg: 1}}]}]\n";
  struct Case {
    std::string text;
    std::string named;
  };
  const std::vector<Case> cases = {
      {profile + "workload: {jobs: 1, cpu_ms_per_event: 1, models: [{model: x}]}",
       "no profile of x"},
      {profile + "workload: {jobs: 1, models: [{model: m}]}", "cpu_ms_per_event"},
      {profile +
           "workload: {cpu_ms_per_event: 1, events_per_second_per_thread: 1, models: [{model: m}]}",
       "one of"},
      {profile + "workload: {cpu_ms_per_event: 1, models: [{model: m}]}\nconstraint: {}",
       "unknown key 'constraint'"},
      {profile + "workload: {cpu_ms_per_event: 1, models: [{model: m}], client_mode: maybe}",
       "client_mode"},
      {profile + "workload: {cpu_ms_per_event: 1, models: [{model: m}]}\n"
                 "constraints: {target_utilization: 1.5}",
       "target_utilization"},
      {"profiles: [{model: m, perf_json: missing.json}]\n", "missing.json"},
      {"profiles: [{model: m}]\n", "no levels"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<PlanInputs> inputs = Parse(c.text);
    ASSERT_FALSE(inputs.ok()) << c.text;
    EXPECT_NE(inputs.status().message().find(c.named), std::string::npos) << inputs.status() << "\n"
                                                                          << c.text;
  }
}

}  // namespace
}  // namespace sonic::tools
