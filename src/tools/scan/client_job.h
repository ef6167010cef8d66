// The default job of a saturation scan: one client process that runs T threads, each sending a
// model's request back to back (blocking; with a think time, a pause after each answer), from a
// common start time for a fixed duration, and reports its inferences per second and mean latency
// (job_report.h). It connects and sends one warm-up request before the start time, so that
// connection setup is not measured; a job that is ready only after the start time says so
// ("late") and the scan starts that step again later.
//
// RunClientJob blocks for the whole job; thread-compatible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "job_report.h"

namespace sonic::tools {

struct ClientJobOptions {
  std::string address;  // host:port
  std::string model;
  std::string model_version;
  int64_t batch_size = 1;
  std::vector<std::string> shapes;   // --shape NAME:d1,d2,...
  std::string input_data = "random";
  // A bearer token sent with every request: from this file, else this environment variable (the
  // jobs inherit the scan's environment); both empty: none.
  std::string token_file;
  std::string token_env;
  int threads = 1;
  // After each answer a thread waits this long before its next request: the rest of the job's
  // event (its own work on cores the server does not share), so that a job sends at the rate of
  // one event per think time + latency.
  absl::Duration think_time = absl::ZeroDuration();
  absl::Time start;                  // the common start of the measured window
  absl::Duration duration = absl::Seconds(5);
};

// Runs the job. Errors: as PerfRunner::Create for the setup (INVALID_ARGUMENT for a bad shape
// or input data, the server's code otherwise); UNAVAILABLE when no request succeeded.
absl::StatusOr<JobReport> RunClientJob(const ClientJobOptions& options);

// The command line that runs the default job through the `sonic` binary at `sonic_binary`
// (its hidden `scan-job` subcommand), with the scan's placeholders {threads}, {start_at_ms},
// {duration_ms} and {report} left in (see job_command.h). Shapes, batch size, input data, think
// time and the token file are passed on from `options`; its threads, start and duration are ignored.
std::vector<std::string> ClientJobCommand(const std::filesystem::path& sonic_binary,
                                          const ClientJobOptions& options);

}  // namespace sonic::tools
