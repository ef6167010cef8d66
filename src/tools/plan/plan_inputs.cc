#include "plan_inputs.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/yaml_fields.h"
#include "nlohmann/json.hpp"
#include "sonic/common/status.h"

namespace sonic::tools {
namespace {

using sonic::yaml::Fields;

absl::StatusOr<std::string> ReadText(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::filesystem::path Resolve(const std::filesystem::path& base, const std::string& name) {
  const std::filesystem::path path(name);
  return path.is_absolute() ? path : base / path;
}

// A positive integer field; `fallback` when absent.
absl::StatusOr<int> Count(const Fields& fields, const YAML::Node& node, const std::string& key,
                          std::string_view context, int fallback) {
  SONIC_ASSIGN_OR_RETURN(double value, fields.Number(node, key, context, fallback));
  if (value < 1 || value != static_cast<int>(value)) {
    return fields.Error(
        node[key], absl::StrCat(std::string(context), ".", key, " must be a whole number >= 1"));
  }
  return static_cast<int>(value);
}

absl::StatusOr<std::optional<double>> OptionalNumber(const Fields& fields, const YAML::Node& node,
                                                     const std::string& key,
                                                     std::string_view context) {
  if (!node[key]) return std::optional<double>();
  SONIC_ASSIGN_OR_RETURN(double value, fields.Number(node, key, context, 0));
  return std::optional<double>(value);
}

absl::StatusOr<ProfileLevel> InlineLevel(const Fields& fields, const YAML::Node& node) {
  constexpr std::string_view kContext = "profiles[].levels[]";
  SONIC_RETURN_IF_ERROR(fields.CheckKeys(
      node, kContext, {"batch_size", "concurrency", "throughput", "latency_ms", "server_host_us"}));
  ProfileLevel level;
  SONIC_ASSIGN_OR_RETURN(level.batch_size, Count(fields, node, "batch_size", kContext, 1));
  SONIC_ASSIGN_OR_RETURN(level.concurrency, fields.Number(node, "concurrency", kContext, 1));
  SONIC_ASSIGN_OR_RETURN(level.throughput, fields.Number(node, "throughput", kContext, 0));
  if (level.throughput <= 0) return fields.Error(node, "a level needs a throughput above 0");
  const YAML::Node latency = node["latency_ms"];
  if (!latency) return fields.Error(node, "a level needs latency_ms: {avg, p50, p99}");
  SONIC_RETURN_IF_ERROR(fields.CheckKeys(latency, "latency_ms", {"avg", "p50", "p90", "p99"}));
  SONIC_ASSIGN_OR_RETURN(double avg, fields.Number(latency, "avg", "latency_ms", 0));
  SONIC_ASSIGN_OR_RETURN(double p50, fields.Number(latency, "p50", "latency_ms", avg));
  SONIC_ASSIGN_OR_RETURN(double p99, fields.Number(latency, "p99", "latency_ms", p50));
  level.latency_avg_us = avg * 1000;
  level.latency_p50_us = p50 * 1000;
  level.latency_p99_us = p99 * 1000;
  SONIC_ASSIGN_OR_RETURN(level.server_host_us,
                         OptionalNumber(fields, node, "server_host_us", kContext));
  return level;
}

absl::Status ReadPerfFiles(const Fields& fields, const YAML::Node& node,
                           const std::filesystem::path& base, ModelProfile& profile) {
  std::vector<std::string> names;
  if (node.IsScalar()) {
    names.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const YAML::Node& name : node) names.push_back(name.as<std::string>());
  } else {
    return fields.Error(node, "perf_json must be a file name or a list of them");
  }
  for (const std::string& name : names) {
    const std::filesystem::path path = Resolve(base, name);
    SONIC_ASSIGN_OR_RETURN(std::string text, ReadText(path));
    absl::StatusOr<std::vector<ProfileLevel>> levels = LevelsFromPerfJson(text);
    if (!levels.ok()) return Annotate(levels.status(), path.string());
    profile.levels.insert(profile.levels.end(), levels->begin(), levels->end());
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelProfile> ReadProfile(const Fields& fields, const YAML::Node& node,
                                         const std::filesystem::path& base) {
  constexpr std::string_view kContext = "profiles[]";
  SONIC_RETURN_IF_ERROR(fields.CheckKeys(
      node, kContext,
      {"model", "device", "instances", "memory_mb_per_instance", "server_cpu_us_per_request",
       "request_bytes_per_entry", "response_bytes_per_entry", "perf_json", "levels"}));
  ModelProfile profile;
  SONIC_ASSIGN_OR_RETURN(profile.model, fields.String(node, "model", kContext, true));
  SONIC_ASSIGN_OR_RETURN(std::string device, fields.String(node, "device", kContext, false));
  if (!device.empty()) profile.device = device;
  SONIC_ASSIGN_OR_RETURN(profile.instances, Count(fields, node, "instances", kContext, 1));
  SONIC_ASSIGN_OR_RETURN(profile.memory_mb_per_instance,
                         fields.Number(node, "memory_mb_per_instance", kContext, 0));
  SONIC_ASSIGN_OR_RETURN(profile.server_cpu_us_per_request,
                         OptionalNumber(fields, node, "server_cpu_us_per_request", kContext));
  SONIC_ASSIGN_OR_RETURN(profile.request_bytes_per_entry,
                         fields.Number(node, "request_bytes_per_entry", kContext, 0));
  SONIC_ASSIGN_OR_RETURN(profile.response_bytes_per_entry,
                         fields.Number(node, "response_bytes_per_entry", kContext, 0));
  if (node["perf_json"])
    SONIC_RETURN_IF_ERROR(ReadPerfFiles(fields, node["perf_json"], base, profile));
  if (const YAML::Node levels = node["levels"]; levels) {
    if (!levels.IsSequence()) return fields.Error(levels, "levels must be a list");
    for (const YAML::Node& level : levels) {
      SONIC_ASSIGN_OR_RETURN(ProfileLevel read, InlineLevel(fields, level));
      profile.levels.push_back(read);
    }
  }
  if (profile.levels.empty()) {
    return fields.Error(
        node, absl::StrCat("profile of ", profile.model, " has no levels (perf_json or levels)"));
  }
  return profile;
}

// `from_report`: the model's calls and entries in the run report, when it has them.
absl::StatusOr<WorkloadModel> ReadWorkloadModel(const Fields& fields, const YAML::Node& node,
                                                const std::vector<WorkloadModel>& from_report) {
  constexpr std::string_view kContext = "workload.models[]";
  SONIC_RETURN_IF_ERROR(
      fields.CheckKeys(node, kContext, {"model", "calls_per_event", "entries_per_call"}));
  WorkloadModel model;
  SONIC_ASSIGN_OR_RETURN(model.model, fields.String(node, "model", kContext, true));
  auto reported = std::find_if(from_report.begin(), from_report.end(),
                               [&](const WorkloadModel& m) { return m.model == model.model; });
  if (reported != from_report.end()) {
    model = *reported;
  } else if (!from_report.empty() && (!node["calls_per_event"] || !node["entries_per_call"])) {
    return fields.Error(node, absl::StrCat("the run report has no calls of ", model.model,
                                           ": give calls_per_event and entries_per_call"));
  }
  SONIC_ASSIGN_OR_RETURN(model.calls_per_event,
                         fields.Number(node, "calls_per_event", kContext, model.calls_per_event));
  SONIC_ASSIGN_OR_RETURN(model.entries_per_call,
                         fields.Number(node, "entries_per_call", kContext, model.entries_per_call));
  if (model.entries_per_call <= 0) return fields.Error(node, "entries_per_call must be above 0");
  return model;
}

absl::StatusOr<Workload> ReadWorkload(const Fields& fields, const YAML::Node& node,
                                      const std::filesystem::path& base) {
  constexpr std::string_view kContext = "workload";
  SONIC_RETURN_IF_ERROR(
      fields.CheckKeys(node, kContext,
                       {"jobs", "threads", "events_per_second_per_thread", "cpu_ms_per_event",
                        "client_mode", "run_report", "models"}));
  Workload workload;
  SONIC_ASSIGN_OR_RETURN(workload.jobs, fields.Number(node, "jobs", kContext, 1));
  SONIC_ASSIGN_OR_RETURN(workload.threads, Count(fields, node, "threads", kContext, 1));
  SONIC_ASSIGN_OR_RETURN(workload.events_per_second_per_thread,
                         OptionalNumber(fields, node, "events_per_second_per_thread", kContext));
  SONIC_ASSIGN_OR_RETURN(workload.cpu_ms_per_event,
                         OptionalNumber(fields, node, "cpu_ms_per_event", kContext));
  SONIC_ASSIGN_OR_RETURN(std::string mode, fields.String(node, "client_mode", kContext, false));
  if (mode == "async") {
    workload.client_mode = ClientMode::kAsync;
  } else if (!mode.empty() && mode != "sync") {
    return fields.Error(node["client_mode"], "client_mode must be sync or async");
  }
  SONIC_ASSIGN_OR_RETURN(std::string report, fields.String(node, "run_report", kContext, false));
  std::vector<WorkloadModel> reported;
  if (!report.empty()) {
    if (node["threads"] || node["events_per_second_per_thread"] || node["cpu_ms_per_event"]) {
      return fields.Error(node,
                          "run_report gives threads and the event rate: leave out threads, "
                          "events_per_second_per_thread and cpu_ms_per_event");
    }
    const std::filesystem::path path = Resolve(base, report);
    SONIC_ASSIGN_OR_RETURN(std::string text, ReadText(path));
    absl::StatusOr<RunReport> run = ParseRunReport(text);
    if (!run.ok()) return Annotate(run.status(), path.string());
    workload.threads = run->threads;
    workload.events_per_second_per_thread = run->events_per_second / run->threads;
    reported = run->models;
  }
  if (workload.events_per_second_per_thread.has_value() == workload.cpu_ms_per_event.has_value()) {
    return fields.Error(node,
                        "workload needs one of events_per_second_per_thread, "
                        "cpu_ms_per_event or run_report");
  }
  if (!node["models"] && !reported.empty()) {
    workload.models = reported;
    return workload;
  }
  if (!node["models"] || !node["models"].IsSequence() || node["models"].size() == 0) {
    return fields.Error(node, "workload needs a list of models (or a run_report that has them)");
  }
  for (const YAML::Node& entry : node["models"]) {
    SONIC_ASSIGN_OR_RETURN(WorkloadModel model, ReadWorkloadModel(fields, entry, reported));
    workload.models.push_back(model);
  }
  return workload;
}

absl::StatusOr<Constraints> ReadConstraints(const Fields& fields, const YAML::Node& node) {
  constexpr std::string_view kContext = "constraints";
  Constraints constraints;
  if (!node) return constraints;
  SONIC_RETURN_IF_ERROR(fields.CheckKeys(
      node, kContext,
      {"device", "gpu_memory_mb", "gpus_per_server", "target_utilization", "p99_latency_ms"}));
  SONIC_ASSIGN_OR_RETURN(std::string device, fields.String(node, "device", kContext, false));
  if (!device.empty()) constraints.device = device;
  SONIC_ASSIGN_OR_RETURN(constraints.gpu_memory_mb,
                         fields.Number(node, "gpu_memory_mb", kContext, 0));
  SONIC_ASSIGN_OR_RETURN(constraints.gpus_per_server,
                         Count(fields, node, "gpus_per_server", kContext, 1));
  SONIC_ASSIGN_OR_RETURN(constraints.target_utilization,
                         fields.Number(node, "target_utilization", kContext, 0.8));
  if (constraints.target_utilization <= 0 || constraints.target_utilization > 1) {
    return fields.Error(node["target_utilization"], "target_utilization must be in (0, 1]");
  }
  SONIC_ASSIGN_OR_RETURN(constraints.p99_latency_ms,
                         OptionalNumber(fields, node, "p99_latency_ms", kContext));
  return constraints;
}

absl::StatusOr<std::optional<DirectInference>> ReadDirect(const Fields& fields,
                                                          const YAML::Node& node) {
  if (!node) return std::optional<DirectInference>();
  SONIC_RETURN_IF_ERROR(
      fields.CheckKeys(node, "direct", {"cores_per_gpu", "measured_utilization"}));
  DirectInference direct;
  SONIC_ASSIGN_OR_RETURN(direct.cores_per_gpu, Count(fields, node, "cores_per_gpu", "direct", 1));
  if (!node["cores_per_gpu"]) return fields.Error(node, "direct needs cores_per_gpu");
  SONIC_ASSIGN_OR_RETURN(direct.measured_utilization,
                         OptionalNumber(fields, node, "measured_utilization", "direct"));
  return std::optional<DirectInference>(direct);
}

absl::Status CheckProfilesCoverWorkload(const Fields& fields, const YAML::Node& root,
                                        const PlanInputs& inputs) {
  for (const WorkloadModel& model : inputs.workload.models) {
    bool found = false;
    for (const ModelProfile& profile : inputs.profiles) {
      found |= profile.model == model.model && profile.device == inputs.constraints.device;
    }
    if (!found) {
      return fields.Error(root["workload"], absl::StrCat("no profile of ", model.model, " on ",
                                                         inputs.constraints.device));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PlanInputs> ParsePlanInputs(const std::string& yaml_text,
                                           const std::filesystem::path& base_dir) {
  const Fields fields("plan file");
  SONIC_ASSIGN_OR_RETURN(YAML::Node root, fields.Load(yaml_text));
  SONIC_RETURN_IF_ERROR(
      fields.CheckKeys(root, "the plan file", {"profiles", "workload", "constraints", "direct"}));
  PlanInputs inputs;
  if (!root["profiles"] || !root["profiles"].IsSequence()) {
    return fields.Error(root, "the plan file needs a list of profiles");
  }
  for (const YAML::Node& node : root["profiles"]) {
    SONIC_ASSIGN_OR_RETURN(ModelProfile profile, ReadProfile(fields, node, base_dir));
    inputs.profiles.push_back(std::move(profile));
  }
  if (!root["workload"]) return fields.Error(root, "the plan file needs a workload");
  SONIC_ASSIGN_OR_RETURN(inputs.workload, ReadWorkload(fields, root["workload"], base_dir));
  SONIC_ASSIGN_OR_RETURN(inputs.constraints, ReadConstraints(fields, root["constraints"]));
  SONIC_ASSIGN_OR_RETURN(inputs.direct, ReadDirect(fields, root["direct"]));
  SONIC_RETURN_IF_ERROR(CheckProfilesCoverWorkload(fields, root, inputs));
  return inputs;
}

absl::StatusOr<PlanInputs> ReadPlanInputs(const std::filesystem::path& file) {
  SONIC_ASSIGN_OR_RETURN(std::string text, ReadText(file));
  absl::StatusOr<PlanInputs> inputs = ParsePlanInputs(text, file.parent_path());
  if (!inputs.ok()) return Annotate(inputs.status(), file.string());
  return inputs;
}

absl::StatusOr<std::vector<ProfileLevel>> LevelsFromPerfJson(const std::string& json_text) {
  const nlohmann::json report = nlohmann::json::parse(json_text, nullptr, false);
  if (report.is_discarded() || !report.is_object() || !report.contains("results") ||
      !report["results"].is_array() || !report.contains("batch_size")) {
    return absl::InvalidArgumentError("not a `sonic perf --json` report (no batch_size, results)");
  }
  const bool by_rate = report.value("mode", "concurrency") == "request_rate";
  std::vector<ProfileLevel> levels;
  try {
    for (const nlohmann::json& result : report["results"]) {
      if (result.value("requests", 0) <= 0) continue;
      ProfileLevel level;
      level.batch_size = report["batch_size"].get<int64_t>();
      level.throughput = result.at("throughput_infer_per_sec").get<double>();
      const nlohmann::json& latency = result.at("latency_us");
      level.latency_avg_us = latency.at("avg").get<double>();
      level.latency_p50_us = latency.value("p50", level.latency_avg_us);
      level.latency_p99_us = latency.value("p99", level.latency_p50_us);
      level.concurrency = by_rate ? level.throughput / level.batch_size * level.latency_avg_us / 1e6
                                  : result.at("concurrency").get<double>();
      if (const auto server = result.find("server_us");
          server != result.end() && server->is_object()) {
        level.server_host_us =
            server->at("compute_input").get<double>() + server->at("compute_output").get<double>();
      }
      levels.push_back(level);
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed perf report: ", e.what()));
  }
  if (levels.empty()) return absl::InvalidArgumentError("the perf report has no measured level");
  return levels;
}

absl::StatusOr<RunReport> ParseRunReport(const std::string& json_text) {
  const nlohmann::json report = nlohmann::json::parse(json_text, nullptr, false);
  if (report.is_discarded() || !report.is_object() || !report.contains("events_per_second") ||
      !report.contains("threads")) {
    return absl::InvalidArgumentError(
        "not a `sonic run --report` file (needs events_per_second and threads)");
  }
  RunReport run;
  double events = 0;
  try {
    run.threads = report["threads"].get<int>();
    run.events_per_second = report["events_per_second"].get<double>();
    events = report.value("events", 0.0);
    if (run.threads < 1 || run.events_per_second <= 0) {
      return absl::InvalidArgumentError("the run report has no threads or no events");
    }
    if (!report.contains("models")) return run;
    if (!report["models"].is_array() || events <= 0) {
      return absl::InvalidArgumentError("the run report's models need a list and its events");
    }
    for (const nlohmann::json& entry : report["models"]) {
      const std::string name = entry.at("model").get<std::string>();
      const double calls = entry.at("calls").get<double>();
      const double entries = entry.at("entries").get<double>();
      if (name.empty() || calls < 0 || entries < 0) {
        return absl::InvalidArgumentError(
            "a model of the run report needs a name and calls and entries >= 0");
      }
      auto known = std::find_if(run.models.begin(), run.models.end(),
                                [&](const WorkloadModel& m) { return m.model == name; });
      if (known == run.models.end()) {
        known = run.models.insert(run.models.end(), WorkloadModel{name, 0, 0});
      }
      known->calls_per_event += calls;  // totals until divided below
      known->entries_per_call += entries;
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed run report: ", e.what()));
  }
  std::erase_if(run.models, [](const WorkloadModel& m) { return m.calls_per_event == 0; });
  for (WorkloadModel& model : run.models) {
    model.entries_per_call /= model.calls_per_event;
    model.calls_per_event /= events;
  }
  return run;
}

}  // namespace sonic::tools
