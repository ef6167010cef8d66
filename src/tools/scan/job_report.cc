#include "job_report.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace sonic::tools {

absl::StatusOr<JobReport> ReadJobReport(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("no job report ", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("events_per_second") ||
      !json["events_per_second"].is_number()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.string(), ": not a job report (needs a numeric events_per_second)"));
  }
  JobReport report;
  report.events_per_second = json["events_per_second"].get<double>();
  report.events = json.value("events", 0.0);
  report.wall_seconds = json.value("wall_seconds", 0.0);
  if (json.contains("mean_latency_ms") && json["mean_latency_ms"].is_number()) {
    report.mean_latency_ms = json["mean_latency_ms"].get<double>();
  }
  report.failures = json.value("failures", int64_t{0});
  report.late = json.value("late", false);
  return report;
}

absl::Status WriteJobReport(const JobReport& report, int threads,
                            const std::filesystem::path& file) {
  nlohmann::json json = {{"events", report.events},
                         {"wall_seconds", report.wall_seconds},
                         {"events_per_second", report.events_per_second},
                         {"threads", threads},
                         {"failures", report.failures},
                         {"late", report.late}};
  if (report.mean_latency_ms.has_value()) json["mean_latency_ms"] = *report.mean_latency_ms;
  for (const ModelCalls& model : report.models) {
    json["models"].push_back(
        {{"model", model.model}, {"calls", model.calls}, {"entries", model.entries}});
  }
  std::ofstream out(file);
  out << json.dump(2) << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", file.string()));
  return absl::OkStatus();
}

}  // namespace sonic::tools
