// What the plan's validation tests share: running the `sonic` tool of the build and reading the
// CSV `sonic scan` writes. Test-only; thread-compatible.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "job_command.h"
#include "saturation.h"

namespace sonic::tools {

inline std::string SonicBinary() {
  const char* build_dir = std::getenv("SONIC_BUILD_DIR");
  return (std::filesystem::path(build_dir == nullptr ? "." : build_dir) / "bin" / "sonic").string();
}

// Runs `sonic ARGS...` to completion with its output in `log`. INTERNAL with the log's end when
// it exits non-zero or runs past two minutes.
inline absl::Status RunSonic(std::vector<std::string> args, const std::filesystem::path& log) {
  args.insert(args.begin(), SonicBinary());
  absl::StatusOr<std::vector<int>> codes = RunJobs({{args, log}}, absl::Now() + absl::Seconds(120));
  if (!codes.ok()) return codes.status();
  if (codes->front() != 0) {
    return absl::InternalError(
        absl::StrCat("sonic ", args[1], " exited ", codes->front(), ": ", LogTail(log)));
  }
  return absl::OkStatus();
}

// The steps of a scan from its CSV (scan_report.h's header).
inline std::vector<ScanPoint> ReadScanCsv(const std::filesystem::path& csv) {
  std::vector<ScanPoint> points;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() < 5) continue;
    ScanPoint p;
    p.jobs = std::stoi(f[0]);
    p.threads = std::stoi(f[1]);
    p.total_throughput = std::stod(f[2]);
    p.per_job_throughput = std::stod(f[3]);
    p.min_job_throughput = std::stod(f[4]);
    points.push_back(p);
  }
  return points;
}

}  // namespace sonic::tools
