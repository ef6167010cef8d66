#include "scan_runner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "job_command.h"
#include "job_report.h"
#include "sonic/common/status.h"

namespace sonic::tools {
namespace {

absl::Status CheckOptions(const ScanOptions& options) {
  if (options.job_counts.empty() || options.job_counts.front() < 1 ||
      !std::is_sorted(options.job_counts.begin(), options.job_counts.end(),
                      std::less_equal<int>())) {
    return absl::InvalidArgumentError("job counts must be positive and increasing");
  }
  if (options.threads < 1) return absl::InvalidArgumentError("threads must be at least 1");
  if (options.job_command.empty()) return absl::InvalidArgumentError("no job command");
  if (options.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the duration must be positive");
  }
  return absl::OkStatus();
}

// Starts K jobs with the common start `start` and collects their reports.
absl::StatusOr<std::vector<JobReport>> RunStep(const ScanOptions& options, int jobs,
                                               absl::Time start) {
  std::vector<JobLaunch> launches;
  std::vector<std::filesystem::path> reports;
  for (int j = 0; j < jobs; ++j) {
    const std::filesystem::path base = options.work_dir / absl::StrCat("K", jobs, "_job", j);
    reports.push_back(base.string() + ".json");
    std::filesystem::remove(reports.back());
    Placeholders values = {
        {"{job}", absl::StrCat(j)},
        {"{jobs}", absl::StrCat(jobs)},
        {"{threads}", absl::StrCat(options.threads)},
        {"{report}", reports.back().string()},
        {"{start_at_ms}", absl::StrCat(absl::ToUnixMillis(start))},
        {"{duration_ms}", absl::StrCat(absl::ToInt64Milliseconds(options.duration))}};
    launches.push_back({ExpandJobCommand(options.job_command, values), base.string() + ".log"});
  }
  SONIC_ASSIGN_OR_RETURN(
      std::vector<int> codes,
      RunJobs(launches, start + options.duration + options.job_timeout));
  std::vector<JobReport> results;
  for (int j = 0; j < jobs; ++j) {
    absl::StatusOr<JobReport> report =
        codes[j] == 0 ? ReadJobReport(reports[j])
                      : absl::StatusOr<JobReport>(absl::UnknownError(
                            absl::StrCat("exit status ", codes[j])));
    if (!report.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", j, " of ", jobs, " failed (", report.status().message(),
                       "); its log ", launches[j].log.string(), " ends:\n",
                       LogTail(launches[j].log)));
    }
    results.push_back(*report);
  }
  return results;
}

ScanPoint PointOf(int jobs, int threads, const std::vector<JobReport>& reports) {
  ScanPoint point;
  point.jobs = jobs;
  point.threads = threads;
  point.min_job_throughput = reports.front().events_per_second;
  double latency_sum = 0;
  int latency_count = 0;
  for (const JobReport& report : reports) {
    point.total_throughput += report.events_per_second;
    point.min_job_throughput = std::min(point.min_job_throughput, report.events_per_second);
    if (report.mean_latency_ms.has_value()) {
      latency_sum += *report.mean_latency_ms;
      ++latency_count;
    }
  }
  point.per_job_throughput = point.total_throughput / jobs;
  if (latency_count > 0) point.mean_latency_ms = latency_sum / latency_count;
  return point;
}

}  // namespace

absl::StatusOr<std::vector<ScanPoint>> RunScan(const ScanOptions& options,
                                               const ScanProgress& progress) {
  SONIC_RETURN_IF_ERROR(CheckOptions(options));
  std::vector<ScanPoint> points;
  for (int jobs : options.job_counts) {
    absl::Duration head_start = options.start_delay_base + options.start_delay_per_job * jobs;
    std::vector<JobReport> reports;
    for (int attempt = 1;; ++attempt) {
      SONIC_ASSIGN_OR_RETURN(reports, RunStep(options, jobs, absl::Now() + head_start));
      const bool late = std::any_of(reports.begin(), reports.end(),
                                    [](const JobReport& report) { return report.late; });
      if (!late) break;
      if (attempt == kMaxAttempts) {
        return absl::FailedPreconditionError(absl::StrCat(
            "with ", jobs, " jobs some were still not ready at the common start after ",
            kMaxAttempts, " attempts (head start ", absl::FormatDuration(head_start), ")"));
      }
      head_start *= 2;
    }
    points.push_back(PointOf(jobs, options.threads, reports));
    if (progress) progress(points.back());
  }
  return points;
}

}  // namespace sonic::tools
