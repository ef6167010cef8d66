// How a perf run is written out: perf_analyzer's CSV (-f), our JSON (every number of every
// level, with the options that produced them), the console summary of a level, and the text of
// the live progress line. Stateless functions; thread-compatible.
//
// The CSV is perf_analyzer's (its report writer): one row per reported level, sorted by
// increasing Inferences/Second; times in whole microseconds (truncated); throughput and request
// rate printed as a C++ stream prints a double (six significant digits). Columns: the load,
// Inferences/Second, Client Send, then, when the server gives statistics, Network+Server
// Send/Recv, Server Queue, Server Compute Input/Infer/Output (and Server Cache Hit/Miss when the
// model's response cache is on), then Client Recv, the p50/p90/p95/p99 latencies (and the
// --percentile one, in order). --verbose-csv adds Avg latency (without --percentile),
// request/response (client send + recv) and response wait (latency - send - recv), and with
// --collect-metrics the GPU columns, each a list of "gpu_uuid:value;" (empty without GPUs).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "perf_options.h"
#include "perf_runner.h"

namespace sonic::tools {

// Which of the optional CSV columns are written.
struct CsvLayout {
  bool server_statistics = true;  // the server answers ModelStatistics
  bool response_cache = false;    // the model's response cache is enabled
  bool verbose = false;           // --verbose-csv
  std::optional<int> percentile;  // --percentile
  bool gpu_metrics = false;       // --collect-metrics (written only with verbose)
};

// The CSV's header line, without the line end.
std::string CsvHeader(LoadKind kind, const CsvLayout& layout = {});

void WriteCsv(std::ostream& out, LoadKind kind, const std::vector<PerfResult>& results,
              const CsvLayout& layout = {});

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
