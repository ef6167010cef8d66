// The Prometheus text exposition format (version 0.0.4): metric families as plain values, and
// their rendering with HELP and TYPE lines and escaped label values. Only what sonic-server
// exposes: counters and gauges, no histograms or timestamps.
//
// Stateless functions; safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sonic::server::metrics {

// The Content-Type of a rendered exposition.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge };

struct MetricSample {
  // (name, value) pairs in the order written. Names must be valid Prometheus label names; values
  // are any UTF-8 text (escaped when rendered).
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// One metric name with its help text, type and samples. A family without samples still renders
// its HELP and TYPE lines, so scrapers see every metric even before the first request.
struct MetricFamily {
  std::string name;  // must be a valid Prometheus metric name
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<MetricSample> samples;
};

// `value` with backslash, double quote and newline escaped, for use between the quotes of a
// label value.
std::string EscapeLabelValue(std::string_view value);

// A sample value: integers below 2^53 without exponent or fraction ("42"), other finite values
// in the shortest form that reads back exactly, and "NaN", "+Inf", "-Inf".
std::string FormatSampleValue(double value);

// The exposition text of `families`, in order, each line ending in '\n'.
std::string RenderText(const std::vector<MetricFamily>& families);

}  // namespace sonic::server::metrics
