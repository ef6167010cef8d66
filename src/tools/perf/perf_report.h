// How a perf run is written out: perf_analyzer's CSV (-f; columns in shared/PROTOCOL.md, times
// in microseconds, one row per load level in the order measured), our JSON (every number of
// every level, with the options that produced them), the console summary of a level, and the
// text of the live progress line. Stateless functions; thread-compatible.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "perf_options.h"
#include "perf_runner.h"

namespace sonic::tools {

// The CSV's header line, without the line end.
std::string CsvHeader(LoadKind kind);

void WriteCsv(std::ostream& out, LoadKind kind, const std::vector<PerfResult>& results);

// {"model": ..., "mode": "concurrency"|"request_rate", "async": ..., "batch_size": ...,
//  "measurement_interval_ms": ..., "results": [{"concurrency" or "request_rate", "stable",
//  "windows", "requests", "failures", "throughput_infer_per_sec", "latency_us": {"avg",
//  "p50", "p90", "p95", "p99"}, "client_us": {"send", "recv"}, "server_us": {"queue",
//  "compute_input", "compute_infer", "compute_output"} or null, "network_server_us",
//  "first_error"}]}
void WriteJson(std::ostream& out, const PerfOptions& options,
               const std::vector<PerfResult>& results);

// A few indented lines for one level, like perf_analyzer's console report.
std::string FormatResult(const PerfResult& result);

// The progress line after a window: "concurrency 2  window 3/10  1234.5 infer/s  avg 1620 us".
std::string FormatProgress(const PerfProgress& progress);

}  // namespace sonic::tools
