// The command a saturation scan runs as one client job, and running K of them at once.
//
// A job command is an argv whose elements may hold placeholders, replaced per job:
//   {job} index of the job in its step (0-based)   {jobs} K, the jobs running together
//   {threads} T                                    {report} the JSON report file it must write
//   {start_at_ms} the common start, Unix time in ms  {duration_ms} the measured duration
// A job must exit 0 and write its report (job_report.h). A user's command (--job-command, e.g.
// `sonic run CONFIG --mode sonic --threads {threads} --report {report}`) is run as
// `/bin/sh -c TEXT`, so it may use the shell's quoting.
//
// Thread-compatible.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sonic::tools {

using Placeholders = std::map<std::string, std::string>;  // "{threads}" -> "4"

// `command` with every placeholder of `values` replaced in every element.
std::vector<std::string> ExpandJobCommand(const std::vector<std::string>& command,
                                          const Placeholders& values);

// A user's command line as an argv for /bin/sh -c.
std::vector<std::string> ShellJobCommand(const std::string& text);

// One job started by RunJobs.
struct JobLaunch {
  std::vector<std::string> argv;
  std::filesystem::path log;  // stdout and stderr go here
};

// Starts every job at once and waits for all of them. Returns each job's exit status (128 +
// the signal when a signal ended it). A job still running at `deadline` is killed (SIGKILL)
// and counted as 128 + 9. INTERNAL when a job cannot be started (the ones started are killed).
absl::StatusOr<std::vector<int>> RunJobs(const std::vector<JobLaunch>& jobs, absl::Time deadline);

// The last `max_bytes` of a log, for error messages.
std::string LogTail(const std::filesystem::path& log, size_t max_bytes = 2000);

}  // namespace sonic::tools
