#include "perf_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace sonic::tools {
namespace {

int64_t Micros(absl::Duration duration) {
  return static_cast<int64_t>(std::llround(absl::ToDoubleMicroseconds(duration)));
}

// Whole microseconds as perf_analyzer writes them (nanoseconds / 1000, truncated).
int64_t CsvMicros(absl::Duration duration) { return absl::ToInt64Microseconds(duration); }

// A double as a default-formatted C++ stream writes it.
std::string StreamDouble(double value) { return absl::StrFormat("%g", value); }

std::vector<int> CsvPercentiles(const CsvLayout& layout) {
  std::vector<int> percents(std::begin(kReportedPercentiles), std::end(kReportedPercentiles));
  if (layout.percentile.has_value() &&
      std::find(percents.begin(), percents.end(), *layout.percentile) == percents.end()) {
    percents.push_back(*layout.percentile);
    std::sort(percents.begin(), percents.end());
  }
  return percents;
}

template <typename T>
std::string GpuField(const std::map<std::string, T>& values) {
  std::string field;
  for (const auto& [gpu, value] : values) {
    if constexpr (std::is_floating_point_v<T>) {
      absl::StrAppend(&field, gpu, ":", StreamDouble(value), ";");
    } else {
      absl::StrAppend(&field, gpu, ":", value, ";");
    }
  }
  return field;
}

void AppendServerFields(const Measurement& m, const CsvLayout& layout,
                        std::vector<std::string>& fields) {
  const ServerBreakdown server = m.server.value_or(ServerBreakdown{});
  for (absl::Duration value : {m.network_and_server_send_recv(), server.queue,
                               server.compute_input, server.compute_infer,
                               server.compute_output}) {
    fields.push_back(absl::StrCat(CsvMicros(value)));
  }
  if (layout.response_cache) {
    fields.push_back(absl::StrCat(CsvMicros(server.cache_hit)));
    fields.push_back(absl::StrCat(CsvMicros(server.cache_miss)));
  }
}

void AppendVerboseFields(const PerfResult& result, const CsvLayout& layout,
                         std::vector<std::string>& fields) {
  const Measurement& m = result.measurement;
  const int64_t send = CsvMicros(m.client_send);
  const int64_t recv = CsvMicros(m.client_recv);
  const int64_t latency = CsvMicros(m.mean_latency);
  if (!layout.percentile.has_value()) fields.push_back(absl::StrCat(latency));
  fields.push_back(absl::StrCat(send + recv));
  fields.push_back(absl::StrCat(std::max<int64_t>(latency - send - recv, 0)));
  if (layout.gpu_metrics) {
    const GpuMetrics gpu = result.gpu.value_or(GpuMetrics{});
    fields.push_back(GpuField(gpu.utilization));
    fields.push_back(GpuField(gpu.power_usage));
    fields.push_back(GpuField(gpu.memory_used));
    fields.push_back(GpuField(gpu.memory_total));
  }
}

std::string CsvRow(LoadKind kind, const PerfResult& result, const CsvLayout& layout) {
  const Measurement& m = result.measurement;
  std::vector<std::string> fields = {
      kind == LoadKind::kConcurrency ? absl::StrCat(static_cast<int64_t>(result.load))
                                     : StreamDouble(result.load),
      StreamDouble(m.throughput), absl::StrCat(CsvMicros(m.client_send))};
  if (layout.server_statistics) AppendServerFields(m, layout, fields);
  fields.push_back(absl::StrCat(CsvMicros(m.client_recv)));
  for (int percent : CsvPercentiles(layout)) {
    auto it = m.percentiles.find(percent);
    fields.push_back(
        absl::StrCat(CsvMicros(it == m.percentiles.end() ? absl::ZeroDuration() : it->second)));
  }
  if (layout.verbose) AppendVerboseFields(result, layout, fields);
  return absl::StrJoin(fields, ",");
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

nlohmann::json GpuJson(const std::optional<GpuMetrics>& gpu) {
  if (!gpu.has_value()) return nullptr;
  return {{"utilization", gpu->utilization},
          {"power_usage_w", gpu->power_usage},
          {"memory_used_bytes", gpu->memory_used},
          {"memory_total_bytes", gpu->memory_total}};
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
          {"gpu", GpuJson(result.gpu)},
          {"first_error", result.first_error}};
}

}  // namespace

std::string CsvHeader(LoadKind kind, const CsvLayout& layout) {
  std::string header = absl::StrCat(
      kind == LoadKind::kConcurrency ? "Concurrency" : "Request Rate",
      ",Inferences/Second,Client Send,");
  if (layout.server_statistics) {
    absl::StrAppend(&header,
                    "Network+Server Send/Recv,Server Queue,Server Compute Input,"
                    "Server Compute Infer,Server Compute Output,");
    if (layout.response_cache) absl::StrAppend(&header, "Server Cache Hit,Server Cache Miss,");
  }
  absl::StrAppend(&header, "Client Recv");
  for (int percent : CsvPercentiles(layout)) absl::StrAppend(&header, ",p", percent, " latency");
  if (layout.verbose) {
    if (!layout.percentile.has_value()) absl::StrAppend(&header, ",Avg latency");
    absl::StrAppend(&header, ",request/response,response wait");
    if (layout.gpu_metrics) {
      absl::StrAppend(&header,
                      ",Avg GPU Utilization,Avg GPU Power Usage,Max GPU Memory Usage,"
                      "Total GPU Memory");
    }
  }
  return header;
}

void WriteCsv(std::ostream& out, LoadKind kind, const std::vector<PerfResult>& results,
              const CsvLayout& layout) {
  out << CsvHeader(kind, layout) << "\n";
  std::vector<const PerfResult*> sorted;
  for (const PerfResult& result : results) sorted.push_back(&result);
  std::stable_sort(sorted.begin(), sorted.end(), [](const PerfResult* a, const PerfResult* b) {
    return a->measurement.throughput < b->measurement.throughput;
  });
  for (const PerfResult* result : sorted) out << CsvRow(kind, *result, layout) << "\n";
}

void WriteJson(std::ostream& out, const PerfOptions& options,
               const std::vector<PerfResult>& results) {
  nlohmann::json document = {
      {"model", options.model},
      {"model_version", options.model_version},
      {"server", options.connection.address},
      {"mode", options.kind == LoadKind::kConcurrency ? "concurrency" : "request_rate"},
      {"async", options.async},
      {"streaming", options.streaming},
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
  if (result.gpu.has_value()) {
    absl::StrAppend(&text, "  Server Prometheus metrics:",
                    result.gpu->utilization.empty() ? " no GPU" : "", "\n");
    for (const auto& [gpu, utilization] : result.gpu->utilization) {
      absl::StrAppendFormat(&text, "    %s: utilization %.1f%%\n", gpu, utilization * 100);
    }
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
