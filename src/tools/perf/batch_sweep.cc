#include "batch_sweep.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gnuplot.h"

namespace sonic::tools {

absl::StatusOr<std::vector<int64_t>> ParseBatchSizes(const std::string& text) {
  std::vector<int64_t> sizes;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int64_t size = 0;
    if (!absl::SimpleAtoi(part, &size) || size < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--batch-sizes: '", std::string(part), "' is not a whole number >= 1"));
    }
    sizes.push_back(size);
  }
  return sizes;
}

absl::StatusOr<std::vector<SweepPoint>> RunBatchSweep(const PerfOptions& base,
                                                      const std::vector<std::string>& models,
                                                      const std::vector<int64_t>& batch_sizes,
                                                      const ProgressCallback& progress,
                                                      const SweepResultCallback& on_result) {
  std::vector<SweepPoint> points;
  for (const std::string& model : models) {
    for (int64_t batch_size : batch_sizes) {
      PerfOptions options = base;
      options.model = model;
      options.batch_size = batch_size;
      const std::string where = absl::StrCat(model, " at batch size ", batch_size, ": ");
      absl::StatusOr<std::unique_ptr<PerfRunner>> runner = PerfRunner::Create(options);
      if (!runner.ok()) {
        return absl::Status(runner.status().code(), where + std::string(runner.status().message()));
      }
      absl::StatusOr<std::vector<PerfResult>> results = (*runner)->Run(progress);
      if (!results.ok()) {
        return absl::Status(results.status().code(),
                            where + std::string(results.status().message()));
      }
      if (on_result) on_result(model, batch_size, *results);
      if (results->empty()) continue;  // every level was above the latency threshold
      const PerfResult* best = &results->front();
      for (const PerfResult& result : *results) {
        if (result.measurement.throughput > best->measurement.throughput) best = &result;
      }
      points.push_back({model, batch_size, best->load, best->measurement.throughput,
                        absl::ToDoubleMilliseconds(best->measurement.mean_latency), best->stable});
    }
  }
  return points;
}

void WriteSweepCsv(std::ostream& out, const std::vector<SweepPoint>& points) {
  out << "model,batch_size,load,throughput_infer_per_sec,mean_latency_ms,stable\n";
  for (const SweepPoint& point : points) {
    out << absl::StrFormat("%s,%d,%g,%.3f,%.3f,%d\n", point.model, point.batch_size, point.load,
                           point.throughput, point.mean_latency_ms, point.stable ? 1 : 0);
  }
}

std::string SweepGnuplotScript(const std::filesystem::path& csv, const std::filesystem::path& png,
                               const std::vector<SweepPoint>& points, const std::string& title) {
  std::vector<std::string> models;
  for (const SweepPoint& point : points) {
    if (std::find(models.begin(), models.end(), point.model) == models.end()) {
      models.push_back(point.model);
    }
  }
  std::string script = absl::StrCat(GnuplotPreamble(png, title),
                                    "set datafile separator ','\n"
                                    "set key top left\n"
                                    "set xlabel 'batch size'\n"
                                    "set ylabel 'throughput (inferences/s)'\n"
                                    "set logscale x 2\n"
                                    "set yrange [0:*]\n"
                                    "set grid\n"
                                    "plot ");
  // One line per model: its rows only (the first column compared with its name).
  for (size_t i = 0; i < models.size(); ++i) {
    absl::StrAppend(&script, i == 0 ? "" : ", \\\n  ", GnuplotQuoted(csv.string()),
                    " skip 1 using (strcol(1) eq ", GnuplotQuoted(models[i]),
                    " ? $2 : NaN):4 with linespoints title ", GnuplotQuoted(models[i]));
  }
  return script + "\n";
}

absl::Status PlotSweep(const std::filesystem::path& png, const std::vector<SweepPoint>& points,
                       const std::string& title) {
  if (points.empty()) return absl::InvalidArgumentError("no measured point to plot");
  std::filesystem::path csv = png;
  csv.replace_extension(".csv");
  {
    std::ofstream out(csv);
    WriteSweepCsv(out, points);
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", csv.string()));
  }
  return RunGnuplot(SweepGnuplotScript(csv, png, points, title), png);
}

}  // namespace sonic::tools
