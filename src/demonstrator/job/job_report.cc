#include "demonstrator/job/job_report.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sonic::demo {
namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

double EventsPerSecond(const framework::ProcessorReport& report) {
  const double seconds = absl::ToDoubleSeconds(report.wall);
  return seconds > 0 ? static_cast<double>(report.events) / seconds : 0;
}

double PerEvent(double total, uint64_t events) {
  return events == 0 ? 0 : total / static_cast<double>(events);
}

// "name address (local fallback)" and what the job's clients did there.
std::string ServerLine(const service::ServerState& server) {
  const service::ServerState::Activity& a = server.activity;
  std::string line =
      absl::StrCat(server.name, " ", server.address, server.fallback ? " (local fallback)" : "");
  absl::StrAppendFormat(&line,
                        ": %d calls in %d attempts, %d failures (%d timeouts), %d full-queue "
                        "refusals, %d retries, %d failovers, %.2f s lost",
                        a.calls, a.attempts, a.failures, a.timeouts, a.overloads, a.retries,
                        a.failovers, absl::ToDoubleSeconds(a.time_lost));
  if (server.out_of_routing) absl::StrAppend(&line, ", out of routing");
  return line;
}

}  // namespace

std::vector<CategoryTime> CategoryTimes(const framework::ProcessorReport& report) {
  std::map<std::string, CategoryTime> by_category;
  for (const framework::ModuleTiming& module : report.modules) {
    CategoryTime& row = by_category[module.category];
    row.category = module.category;
    row.ms_per_event += PerEvent(Ms(module.acquire + module.produce), report.events);
    row.wait_ms_per_event += PerEvent(Ms(module.wait), report.events);
  }
  CategoryTime& other = by_category["other"];
  other.category = "other";
  other.ms_per_event += PerEvent(Ms(report.source), report.events);
  CategoryTime total{"total", 0, 0, 1};
  for (const auto& [name, row] : by_category) {
    total.ms_per_event += row.ms_per_event;
    total.wait_ms_per_event += row.wait_ms_per_event;
  }
  std::vector<CategoryTime> rows;
  for (const char* name : {"ParticleNet", "DeepTau", "DeepMET", "Echo", "other"}) {
    auto it = by_category.find(name);
    if (it == by_category.end()) continue;
    CategoryTime row = it->second;
    row.share = total.ms_per_event > 0 ? row.ms_per_event / total.ms_per_event : 0;
    rows.push_back(row);
  }
  rows.push_back(total);
  return rows;
}

std::string FormatJobReport(const JobConfig& config, const JobResult& result) {
  const framework::ProcessorReport& report = result.report;
  std::string text = absl::StrFormat(
      "%d events in %.2f s: %.2f events/s (mode %s, %d threads, %d concurrent events)\n",
      report.events, absl::ToDoubleSeconds(report.wall), EventsPerSecond(report),
      std::string(InferenceModeName(result.mode)), report.threads, report.streams);
  if (!result.server_states.empty()) {
    for (const service::ServerState& server : result.server_states) {
      absl::StrAppend(&text, "  server: ", ServerLine(server), "\n");
    }
  } else {
    for (const std::string& server : result.servers) {
      absl::StrAppend(&text, "  server: ", server, "\n");
    }
  }
  const std::vector<CategoryTime> rows = CategoryTimes(report);
  if (result.reference_report) {
    // The seed's comparison: each category with the other way of running the models beside.
    const std::vector<CategoryTime> reference = CategoryTimes(*result.reference_report);
    const std::string other_mode(
        InferenceModeName(result.validation ? result.validation->reference : result.mode));
    absl::StrAppendFormat(&text, "\n  %-12s %19s   %19s\n", "ms/event",
                          std::string(InferenceModeName(result.mode)) + " (share)",
                          other_mode + " (share)");
    for (const CategoryTime& row : rows) {
      const auto match =
          std::find_if(reference.begin(), reference.end(),
                       [&](const CategoryTime& r) { return r.category == row.category; });
      const double ms = match == reference.end() ? 0 : match->ms_per_event;
      const double share = match == reference.end() ? 0 : match->share;
      absl::StrAppendFormat(&text, "  %-12s %10.2f (%5.1f%%)   %10.2f (%5.1f%%)\n", row.category,
                            row.ms_per_event, 100 * row.share, ms, 100 * share);
    }
    absl::StrAppendFormat(
        &text, "  (%s run: %.2f events/s; waiting for %s requests: %.2f ms/event)\n", other_mode,
        EventsPerSecond(*result.reference_report), std::string(InferenceModeName(result.mode)),
        rows.back().wait_ms_per_event);
  } else {
    absl::StrAppendFormat(&text, "\n  %-12s %10s %8s %14s\n", "", "ms/event", "share",
                          "waiting ms/ev");
    for (const CategoryTime& row : rows) {
      absl::StrAppendFormat(&text, "  %-12s %10.2f %7.1f%% %14.2f\n", row.category,
                            row.ms_per_event, 100 * row.share, row.wait_ms_per_event);
    }
  }
  absl::StrAppendFormat(&text, "  (most requests in flight at once: %d)\n",
                        report.max_concurrent_waits);
  if (result.validation) {
    const Validation& v = *result.validation;
    absl::StrAppendFormat(&text, "\nValidation against %s inference (%d events, tolerance %g):\n",
                          std::string(InferenceModeName(v.reference)), v.events, v.tolerance);
    for (const QuantityComparison& row : v.quantities) {
      const bool ok = row.mismatched_objects == 0 && row.largest_difference <= v.tolerance;
      absl::StrAppendFormat(&text, "  %-24s %6d %-9s largest difference %9.2e  %s%s\n",
                            absl::StrCat(row.module, ".", row.quantity), row.objects_compared,
                            row.objects, row.largest_difference, ok ? "OK" : "FAILED",
                            row.mismatched_objects > 0
                                ? absl::StrCat(" (", row.mismatched_objects, " mismatched)")
                                : "");
    }
    absl::StrAppend(&text, v.passed() ? "validation passed\n" : "validation FAILED\n");
  }
  return text;
}

nlohmann::json JobReportJson(const JobConfig& config, const JobResult& result) {
  const framework::ProcessorReport& report = result.report;
  nlohmann::json json;
  json["mode"] = std::string(InferenceModeName(result.mode));
  json["events"] = report.events;
  json["wall_seconds"] = absl::ToDoubleSeconds(report.wall);
  json["events_per_second"] = EventsPerSecond(report);
  json["threads"] = report.threads;
  json["concurrent_events"] = report.streams;
  json["seed"] = config.seed;
  json["max_concurrent_waits"] = report.max_concurrent_waits;
  json["servers"] = result.servers;
  for (const service::ServerState& server : result.server_states) {
    const service::ServerState::Activity& a = server.activity;
    json["server_activity"].push_back({{"name", server.name},
                                       {"address", server.address},
                                       {"fallback", server.fallback},
                                       {"attempts", a.attempts},
                                       {"calls", a.calls},
                                       {"failures", a.failures},
                                       {"timeouts", a.timeouts},
                                       {"full_queue_refusals", a.overloads},
                                       {"retries", a.retries},
                                       {"failovers", a.failovers},
                                       {"seconds_lost", absl::ToDoubleSeconds(a.time_lost)},
                                       {"out_of_routing", server.out_of_routing}});
  }
  for (const CategoryTime& row : CategoryTimes(report)) {
    json["categories"].push_back({{"category", row.category},
                                  {"ms_per_event", row.ms_per_event},
                                  {"share", row.share},
                                  {"waiting_ms_per_event", row.wait_ms_per_event}});
  }
  for (const framework::ModuleTiming& module : report.modules) {
    json["modules"].push_back({{"label", module.label},
                               {"category", module.category},
                               {"events", module.events},
                               {"acquire_ms", Ms(module.acquire)},
                               {"wait_ms", Ms(module.wait)},
                               {"produce_ms", Ms(module.produce)}});
  }
  for (const ModelCallCount& model : result.model_calls) {
    json["models"].push_back({{"module", model.module},
                              {"model", model.model},
                              {"calls", model.calls},
                              {"entries", model.entries}});
  }
  if (result.validation) {
    const Validation& v = *result.validation;
    nlohmann::json validation = {{"reference", std::string(InferenceModeName(v.reference))},
                                 {"tolerance", v.tolerance},
                                 {"events", v.events},
                                 {"passed", v.passed()}};
    for (const QuantityComparison& row : v.quantities) {
      validation["quantities"].push_back({{"module", row.module},
                                          {"quantity", row.quantity},
                                          {"objects", row.objects},
                                          {"objects_compared", row.objects_compared},
                                          {"values_compared", row.values_compared},
                                          {"largest_difference", row.largest_difference},
                                          {"mismatched_objects", row.mismatched_objects}});
    }
    json["validation"] = validation;
  }
  if (result.reference_report) {
    nlohmann::json reference = {{"events_per_second", EventsPerSecond(*result.reference_report)}};
    for (const CategoryTime& row : CategoryTimes(*result.reference_report)) {
      reference["categories"].push_back(
          {{"category", row.category}, {"ms_per_event", row.ms_per_event}, {"share", row.share}});
    }
    json["reference_run"] = reference;
  }
  return json;
}

}  // namespace sonic::demo
