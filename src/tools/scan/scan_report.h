// How a saturation scan is written out: a CSV of its steps, a PNG plot (through gnuplot, the
// Debian package gnuplot-nox), and the one-line answer. Thread-compatible.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gnuplot.h"
#include "saturation.h"

namespace sonic::tools {

// Header "jobs,threads,total_throughput,per_job_throughput,min_job_throughput,mean_latency_ms"
// then one row per step (latency empty when no job reported one).
void WriteScanCsv(std::ostream& out, const std::vector<ScanPoint>& points);

// "this server sustains about K jobs of T thread(s) for WORKLOAD (peak P events/s; per-job
// throughput fell by more than D% at K' jobs)", or "at least K jobs ..." when the scan did not
// reach saturation.
std::string SaturationAnswer(const Saturation& saturation, int threads, const std::string& workload,
                             double drop);

// The gnuplot program that draws `csv` (WriteScanCsv of `points`, at least one) into `png`:
// total and per-job throughput against K (left axis), mean latency (right axis), a line at the
// sustained K.
std::string GnuplotScript(const std::filesystem::path& csv, const std::filesystem::path& png,
                          const std::vector<ScanPoint>& points, const Saturation& saturation,
                          const std::string& title);

// Runs gnuplot on GnuplotScript(...) (RunGnuplot: the script is written beside the PNG).
// UNAVAILABLE when gnuplot is not installed; INTERNAL with gnuplot's output when it fails.
absl::Status PlotScan(const std::filesystem::path& csv, const std::filesystem::path& png,
                      const std::vector<ScanPoint>& points, const Saturation& saturation,
                      const std::string& title);

}  // namespace sonic::tools
