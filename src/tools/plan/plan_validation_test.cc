// The plan against measurement on the real sonic-server: for two models of fixed service time,
// `sonic perf --json` measures the profile, `sonic plan` predicts how many jobs one server
// sustains, and `sonic scan` measures the knee; the prediction must be within 10% of the knee.
//
// Fixed service times (the identity backend's execute delay) keep the 2-core machine's noise out
// of the numbers: one job of one thread alone makes one request per delay, so the knee is
// (instances x delay rate) / (one job's rate). Nothing here asserts a time.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "integration_test_util.h"
#include "plan_validation_util.h"
#include "sanitized_build.h"
#include "saturation.h"

namespace sonic::tools {
namespace {

using sonic::testing::SharedServerTest;
using sonic::testing::TestServer;

struct FixedModel {
  std::string name;
  int instances;
  int delay_ms;
  int batch_size;  // entries per request (the model batches up to 8)
  int scan_jobs;   // the scan's largest K: one past the expected knee
};

// Knee 2: 2 instances x 20 requests/s over one job's 20/s. Knee 3: 3 instances x 20 requests of
// 4 entries per second (240 entries/s) over one job's 80 entries/s. The delays are long beside a
// call's own cost (about 1 ms on the loaded machine): a lone job slowed by 10% (a 20 ms delay
// did that under `make test`) puts the knee a job later.
const FixedModel kModels[] = {{"fixed_two_instances", 2, 50, 1, 3},
                              {"fixed_batch_of_four", 3, 50, 4, 4}};

std::string ModelConfig(const FixedModel& model) {
  return absl::StrFormat(R"(name: "%s"
backend: "identity"
max_batch_size: %d
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU count: %d } ]
parameters { key: "execute_delay_ms" value { string_value: "%d" } }
)",
                         model.name, model.batch_size > 1 ? 8 : 0, model.instances, model.delay_ms);
}

class PlanValidationTest : public SharedServerTest<PlanValidationTest>,
                           public ::testing::WithParamInterface<FixedModel> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return sonic::testing::StartTestServer(
        {},
        [](const std::filesystem::path& repository) -> absl::Status {
          for (const FixedModel& model : kModels) {
            std::filesystem::create_directories(repository / model.name / "1");
            absl::Status written = sonic::testing::WriteFileAtomically(
                repository / model.name / "config.pbtxt", ModelConfig(model));
            if (!written.ok()) return written;
          }
          return absl::OkStatus();
        },
        /*write_test_models=*/false);
  }

 protected:
  std::filesystem::path Scratch(const std::string& name) const {
    return server_->dir->path() / name;
  }

  // Runs one `sonic` command to completion (its log in the failure message).
  void RunSonic(std::vector<std::string> args, const std::string& log_name) {
    absl::Status ran = tools::RunSonic(std::move(args), Scratch(log_name));
    ASSERT_TRUE(ran.ok()) << ran;
  }
};

TEST_P(PlanValidationTest, PredictedJobsPerServerMatchTheScansKnee) {
#if SONIC_SANITIZED
  // The scan's client jobs are sanitized too: on a shared machine they spend several times the
  // CPU per call, so the knee measures the sanitizer, not the model's service time.
  GTEST_SKIP() << "measures a throughput knee, which a sanitized build does not show";
#endif
  const FixedModel& model = GetParam();
  const std::string address = server_->server->address();
  const std::string batch = absl::StrCat(model.batch_size);
  const std::filesystem::path perf_json = Scratch(model.name + "-perf.json");
  RunSonic({"perf", "-u", address, "-m", model.name, "-b", batch, "--concurrency-range",
            absl::StrCat("1:", model.instances + 1), "-p", "300", "-r", "4", "-s", "20", "--json",
            perf_json.string()},
           model.name + "-perf.log");
  const std::filesystem::path scan_dir = Scratch(model.name + "-scan");
  RunSonic({"scan", "-u", address, "-m", model.name, "-b", batch, "-t", "1", "--jobs-range",
            absl::StrCat("1:", model.scan_jobs), "--duration-ms", "1000", "--start-delay-ms",
            "1500", "-o", scan_dir.string()},
           model.name + "-scan.log");
  if (HasFatalFailure()) return;

  // The plan: one job of one thread calling the model back to back (no CPU time of its own).
  const std::filesystem::path site = Scratch(model.name + "-site.yaml");
  std::ofstream(site) << absl::StrFormat(
      "profiles:\n  - {model: %s, device: cpu, instances: %d, perf_json: %s}\n"
      "workload:\n  jobs: 1\n  threads: 1\n  cpu_ms_per_event: 0\n"
      "  models: [{model: %s, entries_per_call: %d}]\n"
      "constraints: {device: cpu}\n",
      model.name, model.instances, perf_json.filename().string(), model.name, model.batch_size);
  const std::filesystem::path plan_yaml = Scratch(model.name + "-plan.yaml");
  RunSonic(
      {"plan", site.string(), "--out", plan_yaml.string(), "--simulate", "--requests", "20000"},
      model.name + "-plan.log");
  if (HasFatalFailure()) return;

  const std::vector<ScanPoint> points = ReadScanCsv(scan_dir / "scan.csv");
  ASSERT_EQ(points.size(), static_cast<size_t>(model.scan_jobs));
  const Saturation knee = FindSaturation(points, 0.1);
  const YAML::Node plan = YAML::LoadFile(plan_yaml.string());
  const double predicted = plan["plan"]["jobs_per_server_at_saturation"].as<double>();
  std::string measured;
  for (const ScanPoint& p : points) {
    absl::StrAppendFormat(&measured, "K=%d total %.1f/s per job %.1f/s; ", p.jobs,
                          p.total_throughput, p.per_job_throughput);
  }
  SCOPED_TRACE(absl::StrCat("scan: ", measured, "plan: ", YAML::Dump(plan["plan"])));
  std::cout << model.name << ": predicted " << predicted << " jobs per server; scan: " << measured
            << "knee " << knee.sustained_jobs << std::endl;
  EXPECT_TRUE(knee.saturated);
  EXPECT_EQ(knee.sustained_jobs, model.scan_jobs - 1);
  EXPECT_LE(std::fabs(predicted - knee.sustained_jobs), 0.1 * knee.sustained_jobs)
      << "predicted " << predicted << " jobs per server, the scan's knee is "
      << knee.sustained_jobs;
  // The simulation replayed the planned load: its queue-time percentiles are ordered.
  const YAML::Node simulated = plan["devices"][0]["simulated_queue_ms"];
  ASSERT_TRUE(simulated.IsMap());
  EXPECT_LE(simulated["p50"].as<double>(), simulated["p99"].as<double>());
}

INSTANTIATE_TEST_SUITE_P(FixedServiceTime, PlanValidationTest, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<FixedModel>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace sonic::tools
