#include "scan_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sonic::tools {

void WriteScanCsv(std::ostream& out, const std::vector<ScanPoint>& points) {
  out << "jobs,threads,total_throughput,per_job_throughput,min_job_throughput,mean_latency_ms\n";
  for (const ScanPoint& point : points) {
    out << absl::StrFormat("%d,%d,%.3f,%.3f,%.3f,", point.jobs, point.threads,
                           point.total_throughput, point.per_job_throughput,
                           point.min_job_throughput);
    if (point.mean_latency_ms.has_value()) out << absl::StrFormat("%.3f", *point.mean_latency_ms);
    out << "\n";
  }
}

std::string SaturationAnswer(const Saturation& saturation, int threads, const std::string& workload,
                             double drop) {
  std::string answer =
      absl::StrFormat("this server sustains %s %d jobs of %d thread%s for %s (peak %.1f events/s",
                      saturation.saturated ? "about" : "at least", saturation.sustained_jobs,
                      threads, threads == 1 ? "" : "s", workload, saturation.peak_throughput);
  if (saturation.saturated_at.has_value()) {
    absl::StrAppendFormat(&answer, "; per-job throughput fell by more than %.0f%% at %d jobs",
                          drop * 100, *saturation.saturated_at);
  } else {
    absl::StrAppend(&answer, "; not saturated in the scanned range");
  }
  return answer + ")";
}

std::string GnuplotScript(const std::filesystem::path& csv, const std::filesystem::path& png,
                          const std::vector<ScanPoint>& points, const Saturation& saturation,
                          const std::string& title) {
  std::string script = absl::StrCat(
      GnuplotPreamble(png, title),
      "set datafile separator ','\n"
      "set key autotitle columnhead top left\n"
      "set xlabel 'simultaneous client jobs K'\n"
      "set ylabel 'throughput (events/s)'\n"
      "set y2label 'mean latency (ms)'\n"
      "set ytics nomirror\n"
      "set y2tics\n"
      "set yrange [0:*]\n"
      "set y2range [0:*]\n"
      "set grid\n",
      // Whole numbers of jobs on the x axis, about ten ticks.
      "set xtics ", std::max(1, (points.back().jobs - points.front().jobs) / 10), "\n");
  absl::StrAppend(&script, "set arrow from ", saturation.sustained_jobs, ", graph 0 to ",
                  saturation.sustained_jobs, ", graph 1 nohead dashtype 2 linecolor 'gray'\n");
  absl::StrAppend(&script, "plot ", GnuplotQuoted(csv.string()),
                  " using 1:3 with linespoints title 'total throughput', \\\n",
                  "  '' using 1:4 with linespoints title 'per-job throughput', \\\n",
                  "  '' using 1:6 axes x1y2 with linespoints title 'mean latency (ms)'\n");
  return script;
}

absl::Status PlotScan(const std::filesystem::path& csv, const std::filesystem::path& png,
                      const std::vector<ScanPoint>& points, const Saturation& saturation,
                      const std::string& title) {
  return RunGnuplot(GnuplotScript(csv, png, points, saturation, title), png);
}

}  // namespace sonic::tools
