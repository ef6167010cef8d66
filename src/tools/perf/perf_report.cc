#include "perf_report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace sonic::tools {
namespace {

int64_t Micros(absl::Duration duration) {
  return static_cast<int64_t>(std::llround(absl::ToDoubleMicroseconds(duration)));
}

std::string LoadText(LoadKind kind, double load) {
  return kind == LoadKind::kConcurrency ? absl::StrCat(static_cast<int64_t>(load))
                                        : absl::StrFormat("%g", load);
}

nlohmann::json ServerJson(const Measurement& measurement) {
  if (!measurement.server.has_value()) return nullptr;
  const ServerBreakdown& server = *measurement.server;
  return {{"requests", server.request_count},
          {"executions", server.execution_count},
          {"queue", Micros(server.queue)},
          {"compute_input", Micros(server.compute_input)},
          {"compute_infer", Micros(server.compute_infer)},
          {"compute_output", Micros(server.compute_output)}};
}

nlohmann::json ResultJson(const PerfResult& result) {
  const Measurement& m = result.measurement;
  nlohmann::json latency = {{"avg", Micros(m.mean_latency)}};
  for (const auto& [percent, value] : m.percentiles) {
    latency[absl::StrCat("p", percent)] = Micros(value);
  }
  return {{result.kind == LoadKind::kConcurrency ? "concurrency" : "request_rate", result.load},
          {"stable", result.stable},
          {"windows", result.windows},
          {"requests", m.successes},
          {"failures", m.failures},
          {"throughput_infer_per_sec", m.throughput},
          {"latency_us", latency},
          {"client_us", {{"send", Micros(m.client_send)}, {"recv", Micros(m.client_recv)}}},
          {"server_us", ServerJson(m)},
          {"network_server_us", Micros(m.network_and_server_send_recv())},
          {"first_error", result.first_error}};
}

}  // namespace

std::string CsvHeader(LoadKind kind) {
  return absl::StrCat(kind == LoadKind::kConcurrency ? "Concurrency" : "Request Rate",
                      ",Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,"
                      "Server Compute Input,Server Compute Infer,Server Compute Output,"
                      "Client Recv,p50 latency,p90 latency,p95 latency,p99 latency");
}

void WriteCsv(std::ostream& out, LoadKind kind, const std::vector<PerfResult>& results) {
  out << CsvHeader(kind) << "\n";
  for (const PerfResult& result : results) {
    const Measurement& m = result.measurement;
    const ServerBreakdown server = m.server.value_or(ServerBreakdown{});
    std::vector<std::string> fields = {
        LoadText(kind, result.load),
        absl::StrFormat("%.2f", m.throughput),
        absl::StrCat(Micros(m.client_send)),
        absl::StrCat(Micros(m.network_and_server_send_recv())),
        absl::StrCat(Micros(server.queue)),
        absl::StrCat(Micros(server.compute_input)),
        absl::StrCat(Micros(server.compute_infer)),
        absl::StrCat(Micros(server.compute_output)),
        absl::StrCat(Micros(m.client_recv))};
    for (int percent : kReportedPercentiles) {
      fields.push_back(absl::StrCat(Micros(m.percentiles.at(percent))));
    }
    out << absl::StrJoin(fields, ",") << "\n";
  }
}

void WriteJson(std::ostream& out, const PerfOptions& options,
               const std::vector<PerfResult>& results) {
  nlohmann::json document = {
      {"model", options.model},
      {"model_version", options.model_version},
      {"server", options.connection.address},
      {"mode", options.kind == LoadKind::kConcurrency ? "concurrency" : "request_rate"},
      {"async", options.async},
      {"batch_size", options.batch_size},
      {"measurement_interval_ms", absl::ToInt64Milliseconds(options.measurement_interval)},
      {"stability_percentage", options.stability_threshold * 100},
      {"results", nlohmann::json::array()}};
  for (const PerfResult& result : results) document["results"].push_back(ResultJson(result));
  out << document.dump(2) << "\n";
}

std::string FormatResult(const PerfResult& result) {
  const Measurement& m = result.measurement;
  std::string text = absl::StrFormat(
      "%s: %s, throughput: %.2f infer/sec, latency %d usec%s\n",
      result.kind == LoadKind::kConcurrency ? "Concurrency" : "Request rate",
      LoadText(result.kind, result.load), m.throughput, Micros(m.mean_latency),
      result.stable ? "" : "  (not stable)");
  absl::StrAppendFormat(&text,
                        "  Client: %d requests, %d failed; send %d usec, recv %d usec; "
                        "p50 %d, p90 %d, p95 %d, p99 %d usec\n",
                        m.successes, m.failures, Micros(m.client_send), Micros(m.client_recv),
                        Micros(m.percentiles.at(50)), Micros(m.percentiles.at(90)),
                        Micros(m.percentiles.at(95)), Micros(m.percentiles.at(99)));
  if (m.server.has_value()) {
    absl::StrAppendFormat(
        &text,
        "  Server: %d requests, %d executions; queue %d usec, compute input %d usec, "
        "compute infer %d usec, compute output %d usec; network+server send/recv %d usec\n",
        m.server->request_count, m.server->execution_count, Micros(m.server->queue),
        Micros(m.server->compute_input), Micros(m.server->compute_infer),
        Micros(m.server->compute_output), Micros(m.network_and_server_send_recv()));
  }
  if (!result.first_error.empty()) absl::StrAppend(&text, "  First error: ", result.first_error, "\n");
  return text;
}

std::string FormatProgress(const PerfProgress& progress) {
  return absl::StrFormat("%s %s  window %d/%d  %.1f infer/s  avg %d us  p99 %d us",
                         progress.kind == LoadKind::kConcurrency ? "concurrency" : "request rate",
                         LoadText(progress.kind, progress.load), progress.window,
                         progress.max_windows, progress.last.throughput,
                         Micros(progress.last.mean_latency),
                         Micros(progress.last.percentiles.at(99)));
}

}  // namespace sonic::tools
