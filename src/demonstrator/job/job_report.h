// What `sonic run` shows and writes about a job: the seed paper's table (per category: ms per
// event on the framework's threads and share of the event; the waits for external work shown
// beside, as they use no thread; with validation, the other run's column beside), throughput,
// servers (per server: calls, attempts, failures and timeouts, full-queue refusals, retries,
// failovers away from it, time lost to failed and refused attempts and their backoff), and the
// validation summary; and the same as JSON for --report.
//
// Categories: ParticleNet, DeepTau, DeepMET, Echo (per module type), other (the rest of the
// modules and the source). ms/event = (time in acquire + time in produce) / events.
#pragma once

#include <string>
#include <vector>

#include "demonstrator/job/job.h"
#include "nlohmann/json.hpp"

namespace sonic::demo {

struct CategoryTime {
  std::string category;
  double ms_per_event = 0;
  double wait_ms_per_event = 0;
  double share = 0;  // of the total ms per event
};

// In the order ParticleNet, DeepTau, DeepMET, Echo, other; categories without modules omitted;
// the last row is "total".
std::vector<CategoryTime> CategoryTimes(const framework::ProcessorReport& report);

// The human-readable summary (several lines, ending in a newline).
std::string FormatJobReport(const JobConfig& config, const JobResult& result);

// The same as JSON: events, wall_seconds, events_per_second, threads, concurrent_events, mode,
// categories [...], modules [...], models [{module, model, calls, entries}] (what `sonic plan`
// reads as the workload), servers, server_activity [...], validation {...}.
nlohmann::json JobReportJson(const JobConfig& config, const JobResult& result);

}  // namespace sonic::demo
