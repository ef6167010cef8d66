// The plan against measurement on two of the demonstrator's models (TorchScript on LibTorch, the
// CPU): `sonic perf --json` measures the model's profile, `sonic scan` the knee of jobs whose
// thread processes events of one call each (ParticleNet: four jets of 100 particles, padded;
// DeepTau: an event's four tau candidates), and `sonic plan` predicts from the profile and one
// job's report how many such jobs one server sustains. The prediction must be within 10% of the
// knee.
//
// What keeps the numbers honest on a small shared machine:
//  - the server runs each model as the demonstrator ships it (one instance, one intra-op thread)
//    but without dynamic batching: one request per execution, so that its capacity does not
//    depend on how many requests wait (with batching a deeper queue makes bigger batches, and
//    the saturated scan's queue is deeper than perf's);
//  - a job's own work per event is a wait (--think-time-ms), standing for reconstruction on
//    cores of its own: jobs computing on this machine's two cores would saturate the cores, not
//    the server. The wait is chosen from the measured profile so that the knee falls mid-way in
//    the scanned range (about 3 jobs of 6);
//  - the workload is one job measured alone: the scan's K=1 job report, which has the keys of
//    `sonic run --report` (events/s, threads, calls and entries per model);
//  - the measured knee is the scan's peak total throughput over the throughput of one job alone
//    (how many jobs the server sustains at a lone job's rate). sonic scan's whole-job answer (the
//    last K before a step that slows the jobs by 10% and raises the total by less than 10%) must
//    lie between the prediction rounded down and one step past it rounded up: where the averaged
//    curve bends over a job or two, the step after the knee can still raise the total by 10%;
//  - the server's speed on this virtual machine moves by 10-20% from one few-second window to the
//    next, more than the 10% to be shown. So an attempt is kRounds rounds of perf then scan,
//    back to back: each round's plan predicts from that round's profile and lone job, and the
//    prediction judged is the mean of the rounds'; the knee judged is that of the rounds' scans
//    averaged step by step. Both then sample the same stretch of the machine's moods.
//    DeepMET is not one of the two: its speed here halves and recovers within seconds (its
//    tensors of thousands of candidates make it memory-bound on a shared host), so that even the
//    mean of four rounds missed by 16% in one run of two; see the README.
// Other work on a shared machine disturbs such a measurement: an attempt during which other
// processes used more than kOthersCoresLimit cores on average (from /proc/stat, less this test's
// processes), or the host of a virtual machine stole as much (steal time), is not judged and the
// next is made; the first undisturbed attempt must agree, and with none in kAttempts the test
// skips saying so. Every round's figures are printed. Nothing here asserts a time.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "demonstrator/models/model_zoo.h"
#include "integration_test_util.h"
#include "plan_inputs.h"
#include "plan_validation_util.h"
#include "saturation.h"

namespace sonic::tools {
namespace {

using sonic::testing::SharedServerTest;
using sonic::testing::TestServer;

struct DemoModel {
  std::string name;
  int batch_size;  // entries per call
};

const DemoModel kModels[] = {
    {"particlenet_padded", 4},
    {"deeptau", 4},
};

constexpr double kTargetKnee = 3.0;  // jobs; the think time is chosen for it
constexpr int kScanJobs = 6;         // the scan's largest K
constexpr int kAttempts = 2;
constexpr int kRounds = 4;  // of perf then scan, per attempt
constexpr double kOthersCoresLimit = 0.3;
constexpr int kScanWindowMs = 2000;  // per step of the scan

// CPU seconds used so far by the whole machine and by this test's processes (itself, the
// children it has waited for, and the server), and stolen from this machine's CPUs by its host
// (a virtual machine's steal time: its CPUs were wanted but not running).
struct CpuTimes {
  double machine = 0;
  double ours = 0;
  double steal = 0;
  absl::Time when;
};

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  // Fields after the command's closing parenthesis: state is field 3; utime, stime are 14, 15.
  const size_t end = text.rfind(')');
  if (end == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(text.substr(end + 2), ' ');
  if (fields.size() < 13) return 0;
  return (std::stod(fields[11]) + std::stod(fields[12])) / sysconf(_SC_CLK_TCK);
}

CpuTimes ReadCpuTimes(pid_t server) {
  CpuTimes times;
  times.when = absl::Now();
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  times.machine = (user + nice + system + irq + softirq) / sysconf(_SC_CLK_TCK);
  times.steal = steal / sysconf(_SC_CLK_TCK);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  times.ours = seconds(self.ru_utime) + seconds(self.ru_stime) + seconds(children.ru_utime) +
               seconds(children.ru_stime) + ProcessCpuSeconds(server);
  return times;
}

// What one attempt measured and predicted.
struct Attempt {
  double think_time_ms = 0;
  double predicted = 0;     // the plan's jobs per server at saturation
  double measured = 0;      // the scan's peak total / one job's throughput
  Saturation knee;          // sonic scan's answer
  double others_cores = 0;  // other processes' mean CPU use meanwhile
  double steal_cores = 0;   // the host's, meanwhile
  std::string figures;      // for the log

  bool Disturbed() const {
    return others_cores > kOthersCoresLimit || steal_cores > kOthersCoresLimit;
  }
};

class PlanDemonstratorTest : public SharedServerTest<PlanDemonstratorTest>,
                             public ::testing::WithParamInterface<DemoModel> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return sonic::testing::StartTestServer(
        {},
        [](const std::filesystem::path& repository) -> absl::Status {
          const std::filesystem::path generated = repository.parent_path() / "generated";
          absl::Status written = demo::models::GenerateModels(generated, 2026);
          if (!written.ok()) return written;
          for (const DemoModel& model : kModels) {
            std::filesystem::copy(generated / model.name, repository / model.name,
                                  std::filesystem::copy_options::recursive);
            std::ifstream in(repository / model.name / "config.pbtxt");
            const std::string config((std::istreambuf_iterator<char>(in)), {});
            const std::string unbatched =
                absl::StrReplaceAll(config, {{"dynamic_batching { }\n", ""}});
            if (unbatched == config) {
              return absl::InternalError(
                  absl::StrCat(model.name, "'s config has no dynamic_batching"));
            }
            written = sonic::testing::WriteFileAtomically(repository / model.name / "config.pbtxt",
                                                          unbatched);
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

  std::vector<std::string> ModelFlags(const DemoModel& model) const {
    return {"-u", server_->server->address(),    "-m", model.name,
            "-b", absl::StrCat(model.batch_size)};
  }

  absl::StatusOr<Attempt> Measure(const DemoModel& model, int attempt) const;
};

// What `sonic perf --json` measured of the model alone.
struct Profile {
  double capacity = 0;     // entries per second, the one instance never idle
  double unloaded_ms = 0;  // one request outstanding
};

// Concatenation of argument lists.
std::vector<std::string> Args(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The profile: one request outstanding (the unloaded latency), then two and three (the one
// instance never idle: its capacity; the third covers a client whose own share of a round trip
// outlasts an execution now and then), written to `json`.
absl::StatusOr<Profile> MeasureProfile(const std::vector<std::string>& model_flags,
                                       const std::filesystem::path& json) {
  absl::Status ran = RunSonic(Args({"perf", "--concurrency-range", "1:3", "-p", "400", "-r", "6",
                                    "-s", "15", "--json", json.string()},
                                   model_flags),
                              std::filesystem::path(json).replace_extension(".log"));
  if (!ran.ok()) return ran;
  std::ifstream in(json);
  absl::StatusOr<std::vector<ProfileLevel>> levels =
      LevelsFromPerfJson(std::string((std::istreambuf_iterator<char>(in)), {}));
  if (!levels.ok()) return levels.status();
  if (levels->size() != 3) {
    return absl::InternalError(absl::StrCat(json.string(), " has no three levels"));
  }
  Profile profile;
  for (const ProfileLevel& level : *levels) {
    profile.capacity = std::max(profile.capacity, level.throughput);
  }
  profile.unloaded_ms = levels->front().latency_avg_us / 1000;
  return profile;
}

absl::StatusOr<Attempt> PlanDemonstratorTest::Measure(const DemoModel& model, int attempt) const {
  const std::filesystem::path dir = Scratch(absl::StrCat(model.name, "-", attempt));
  std::filesystem::create_directories(dir);
  const CpuTimes start = ReadCpuTimes(server_->server->pid());
  Attempt result;
  std::vector<Profile> profiles;
  std::vector<std::vector<ScanPoint>> scans;
  for (int round = 1; round <= kRounds; ++round) {
    absl::StatusOr<Profile> profile =
        MeasureProfile(ModelFlags(model), dir / absl::StrCat("perf", round, ".json"));
    if (!profile.ok()) return profile.status();
    profiles.push_back(*profile);
    // One think time for every round (from the first profile), so that their scans average.
    if (round == 1) {
      result.think_time_ms = std::max(
          0.5, kTargetKnee * model.batch_size / profile->capacity * 1000 - profile->unloaded_ms);
    }
    const std::filesystem::path scan_dir = dir / absl::StrCat("scan", round);
    absl::Status ran = RunSonic(
        Args({"scan", "-t", "1", "--think-time-ms", absl::StrCat(result.think_time_ms),
              "--jobs-range", absl::StrCat("1:", kScanJobs), "--duration-ms",
              absl::StrCat(kScanWindowMs), "--start-delay-ms", "1000", "-o", scan_dir.string()},
             ModelFlags(model)),
        dir / absl::StrCat("scan", round, ".log"));
    if (!ran.ok()) return ran;
    std::vector<ScanPoint> points = ReadScanCsv(scan_dir / "scan.csv");
    if (points.size() != static_cast<size_t>(kScanJobs) || points[0].per_job_throughput <= 0) {
      return absl::InternalError(absl::StrCat(scan_dir.string(), ": the scan wrote no full CSV"));
    }
    scans.push_back(std::move(points));

    // The round's plan: its profile, and the workload of its job that ran alone (K=1).
    const std::filesystem::path site = dir / absl::StrCat("site", round, ".yaml");
    std::ofstream(site) << absl::StrFormat(
        "profiles:\n  - {model: %s, device: cpu, perf_json: perf%d.json}\n"
        "workload: {jobs: 1, run_report: scan%d/jobs/K1_job0.json}\n"
        "constraints: {device: cpu}\n",
        model.name, round, round);
    const std::filesystem::path plan_yaml = dir / absl::StrCat("plan", round, ".yaml");
    ran = RunSonic({"plan", site.string(), "--out", plan_yaml.string()},
                   dir / absl::StrCat("plan", round, ".log"));
    if (!ran.ok()) return ran;
    const YAML::Node plan = YAML::LoadFile(plan_yaml.string());
    result.predicted += plan["plan"]["jobs_per_server_at_saturation"].as<double>() / kRounds;
  }

  const CpuTimes end = ReadCpuTimes(server_->server->pid());
  const double seconds = absl::ToDoubleSeconds(end.when - start.when);
  result.others_cores = ((end.machine - start.machine) - (end.ours - start.ours)) / seconds;
  result.steal_cores = (end.steal - start.steal) / seconds;

  // The rounds' scans, step by step, averaged; the knee is that of the mean scan.
  std::vector<ScanPoint> mean = scans.front();
  for (size_t k = 0; k < mean.size(); ++k) {
    ScanPoint& point = mean[k];
    point.total_throughput = point.per_job_throughput = point.min_job_throughput = 0;
    for (const std::vector<ScanPoint>& scan : scans) {
      point.total_throughput += scan[k].total_throughput / kRounds;
      point.per_job_throughput += scan[k].per_job_throughput / kRounds;
      point.min_job_throughput += scan[k].min_job_throughput / kRounds;
    }
  }
  result.knee = FindSaturation(mean, 0.1);
  result.measured = result.knee.peak_throughput / mean[0].per_job_throughput;

  absl::StrAppendFormat(&result.figures, "%s attempt %d: think time %.2f ms", model.name, attempt,
                        result.think_time_ms);
  for (int round = 0; round < kRounds; ++round) {
    absl::StrAppendFormat(&result.figures,
                          "\n  round %d: perf capacity %.1f/s, unloaded latency %.2f ms; scan",
                          round + 1, profiles[round].capacity, profiles[round].unloaded_ms);
    for (const ScanPoint& p : scans[round]) {
      absl::StrAppendFormat(&result.figures, " K=%d %.1f/s", p.jobs, p.total_throughput);
    }
  }
  absl::StrAppend(&result.figures, "\n  mean scan");
  for (const ScanPoint& p : mean) {
    absl::StrAppendFormat(&result.figures, " K=%d %.1f/s (%.1f per job)", p.jobs,
                          p.total_throughput, p.per_job_throughput);
  }
  absl::StrAppendFormat(&result.figures,
                        "\n  knee %.2f jobs (scan's answer %d), plan predicts %.2f (mean of the "
                        "rounds'); other processes used %.2f cores, the host stole %.2f",
                        result.measured, result.knee.sustained_jobs, result.predicted,
                        result.others_cores, result.steal_cores);
  return result;
}

TEST_P(PlanDemonstratorTest, PredictedJobsPerServerMatchTheScansKnee) {
  const DemoModel& model = GetParam();
  std::string log;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    absl::StatusOr<Attempt> measured = Measure(model, attempt);
    ASSERT_TRUE(measured.ok()) << measured.status();
    std::cout << measured->figures << std::endl;
    absl::StrAppend(&log, measured->figures, "\n");
    if (measured->Disturbed()) continue;
    EXPECT_LE(std::fabs(measured->predicted - measured->measured), 0.1 * measured->measured)
        << "the plan predicts " << measured->predicted << " jobs per server, the scan's knee is "
        << measured->measured << "\n"
        << log;
    EXPECT_TRUE(measured->knee.saturated) << log;
    EXPECT_GE(measured->knee.sustained_jobs, std::floor(measured->predicted)) << log;
    EXPECT_LE(measured->knee.sustained_jobs, std::ceil(measured->predicted) + 1) << log;
    return;
  }
  GTEST_SKIP() << "other processes or the host took more than " << kOthersCoresLimit
               << " cores during every attempt:\n"
               << log;
}

INSTANTIATE_TEST_SUITE_P(DemonstratorModels, PlanDemonstratorTest, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<DemoModel>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace sonic::tools
