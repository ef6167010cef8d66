// `sonic scan`: the saturation scan (how many simultaneous client jobs one server sustains), and
// the hidden `sonic scan-job`, the default client job it starts K times per step. The work is in
// src/tools/scan; this file maps flags to options and writes the answer.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "client_job.h"
#include "commands.h"
#include "job_command.h"
#include "perf_options.h"
#include "progress_line.h"
#include "saturation.h"
#include "scan_report.h"
#include "scan_runner.h"

namespace sonic::cli {
namespace {

struct ScanFlags {
  tools::ClientJobOptions job;  // the default job's model and inputs
  std::string jobs_range = "1:8:1";
  int threads = 1;
  int64_t duration_ms = 10000;
  int64_t start_delay_ms = 1000;
  std::string job_command;
  std::string workload;
  double drop_percentage = 10;
  std::string output_dir = "sonic-scan";
};

struct JobFlags {
  tools::ClientJobOptions job;
  int64_t start_at_ms = 0;
  int64_t duration_ms = 0;
  std::string report;
};

void AddModelFlags(CLI::App& command, tools::ClientJobOptions& job) {
  command.add_option("-u,--url", job.address, "server HOST:PORT")->default_val("localhost:8001");
  command.add_option("-m,--model-name", job.model, "the model each job's threads call");
  command.add_option("-x,--model-version", job.model_version, "version (default: the server's)");
  command.add_option("-b,--batch-size", job.batch_size, "batch size of every request")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--shape", job.shapes, "NAME:d1,d2,... for inputs with variable dimensions");
  command.add_option("--input-data", job.input_data, "zero, random or a JSON file")
      ->capture_default_str();
  command
      .add_option_function<double>(
          "--think-time-ms", [&job](double ms) { job.think_time = absl::Milliseconds(ms); },
          "after each answer a thread waits this long before its next request (the rest of a "
          "job's event; default 0: back to back)")
      ->check(CLI::NonNegativeNumber);
  command.add_option("--bearer-token-file", job.token_file,
                     "send the bearer token in this file with every request (read again when it "
                     "changes)");
  command.add_option("--bearer-token-env", job.token_env,
                     "send the bearer token in this environment variable with every request");
}

// The K of each step from "start[:end[:step]]" (whole numbers). Empty on error.
std::vector<int> JobCounts(const std::string& text, std::string& error) {
  absl::StatusOr<tools::LoadRange> range = tools::ParseLoadRange(text);
  if (!range.ok()) {
    error = absl::StrCat("--jobs-range ", range.status().message());
    return {};
  }
  if (range->unbounded()) {
    error = absl::StrCat("--jobs-range ", text, ": needs an end");
    return {};
  }
  std::vector<int> counts;
  for (double level : tools::LoadLevels(*range)) {
    if (level != std::floor(level)) {
      error = absl::StrCat("--jobs-range ", text, ": job counts must be whole numbers");
      return {};
    }
    counts.push_back(static_cast<int>(level));
  }
  return counts;
}

int RunScanCommand(const ScanFlags& flags) {
  if (flags.job_command.empty() && flags.job.model.empty()) {
    PrintError("scan", "give -m MODEL (the default client job) or --job-command");
    return 2;
  }
  std::string error;
  tools::ScanOptions options;
  options.job_counts = JobCounts(flags.jobs_range, error);
  if (options.job_counts.empty()) {
    PrintError("scan", error);
    return 2;
  }
  options.threads = flags.threads;
  options.duration = absl::Milliseconds(flags.duration_ms);
  options.start_delay_base = absl::Milliseconds(flags.start_delay_ms);
  const std::filesystem::path output = flags.output_dir;
  options.work_dir = output / "jobs";
  std::error_code created;
  std::filesystem::create_directories(options.work_dir, created);
  if (created) {
    PrintError("scan", "cannot create " + options.work_dir.string() + ": " + created.message());
    return 1;
  }
  options.job_command =
      flags.job_command.empty()
          ? tools::ClientJobCommand(std::filesystem::read_symlink("/proc/self/exe"), flags.job)
          : tools::ShellJobCommand(flags.job_command);
  const std::string workload = !flags.workload.empty()     ? flags.workload
                               : flags.job_command.empty() ? "model " + flags.job.model
                                                           : "this workload";
  tools::ProgressLine progress(std::cerr, tools::StderrIsTerminal());
  absl::StatusOr<std::vector<tools::ScanPoint>> points =
      tools::RunScan(options, [&progress](const tools::ScanPoint& point) {
        progress.Update(absl::StrCat("K=", point.jobs, ": total ", point.total_throughput,
                                     " events/s, per job ", point.per_job_throughput));
      });
  progress.Finish();
  if (!points.ok()) {
    PrintError("scan", std::string(points.status().message()));
    return points.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  const double drop = flags.drop_percentage / 100.0;
  const tools::Saturation saturation = tools::FindSaturation(*points, drop);
  const std::filesystem::path csv = output / "scan.csv";
  {
    std::ofstream out(csv);
    tools::WriteScanCsv(out, *points);
    if (!out) {
      PrintError("scan", "cannot write " + csv.string());
      return 1;
    }
  }
  absl::Status plotted = tools::PlotScan(csv, output / "scan.png", *points, saturation,
                                         absl::StrCat("saturation scan: ", workload, ", ",
                                                      flags.threads, " threads per job"));
  if (!plotted.ok()) std::cerr << "sonic scan: no plot: " << plotted.message() << "\n";
  std::cout << "results in " << csv.string() << (plotted.ok() ? " and scan.png" : "") << "\n"
            << tools::SaturationAnswer(saturation, flags.threads, workload, drop) << std::endl;
  return 0;
}

int RunJobCommand(JobFlags& flags) {
  flags.job.start = absl::FromUnixMillis(flags.start_at_ms);
  flags.job.duration = absl::Milliseconds(flags.duration_ms);
  absl::StatusOr<tools::JobReport> report = tools::RunClientJob(flags.job);
  if (!report.ok()) {
    PrintError("scan-job", std::string(report.status().message()));
    return report.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  absl::Status written = tools::WriteJobReport(*report, flags.job.threads, flags.report);
  if (!written.ok()) {
    PrintError("scan-job", std::string(written.message()));
    return 1;
  }
  return 0;
}

void AddScanJobCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "scan-job", "one client job of `sonic scan`: T threads of back-to-back requests");
  command->group("");  // hidden: started by `sonic scan`
  auto flags = std::make_shared<JobFlags>();
  AddModelFlags(*command, flags->job);
  command->get_option("--model-name")->required();
  command->add_option("--threads", flags->job.threads, "threads sending requests")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command->add_option("--start-at-ms", flags->start_at_ms, "common start, Unix time in ms")
      ->required();
  command->add_option("--duration-ms", flags->duration_ms, "measured duration in ms")
      ->check(CLI::PositiveNumber)->required();
  command->add_option("--report", flags->report, "JSON report file")->required();
  command->callback([flags, &exit_code] { exit_code = RunJobCommand(*flags); });
}

}  // namespace

void AddScanCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "scan", "saturation scan: how many simultaneous client jobs one server sustains");
  auto flags = std::make_shared<ScanFlags>();
  AddModelFlags(*command, flags->job);
  command->add_option("--jobs-range", flags->jobs_range,
                      "start[:end[:step]] numbers K of simultaneous jobs to try")
      ->capture_default_str();
  command->add_option("-t,--threads", flags->threads, "threads T of each job")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command->add_option("--duration-ms", flags->duration_ms, "measured window of each step, ms")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command->add_option("--start-delay-ms", flags->start_delay_ms,
                      "head start given to the jobs of a step (plus 100 ms per job)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  command->add_option("--job-command", flags->job_command,
                      "run this shell command as a job instead (placeholders {threads} "
                      "{report} {start_at_ms} {duration_ms} {job} {jobs}); it must write "
                      "{\"events_per_second\": ...} to {report}");
  command->add_option("--workload", flags->workload, "what the jobs run, for the answer");
  command->add_option("--drop-percentage", flags->drop_percentage,
                      "saturated once per-job throughput falls by more than this (%)")
      ->check(CLI::Range(1.0, 99.0))->capture_default_str();
  command->add_option("-o,--output-dir", flags->output_dir,
                      "where scan.csv, scan.png and the jobs' reports and logs go")
      ->capture_default_str();
  command->callback([flags, &exit_code] { exit_code = RunScanCommand(*flags); });
  AddScanJobCommand(app, exit_code);
}

}  // namespace sonic::cli
