#include "server_metrics.h"

#include <httplib.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sonic::tools {
namespace {

// The value of label `label` in a sample's label set text (between the braces), "" if absent.
std::string LabelValue(absl::string_view labels, absl::string_view label) {
  const std::string key = absl::StrCat(label, "=\"");
  for (size_t at = labels.find(key); at != absl::string_view::npos;
       at = labels.find(key, at + 1)) {
    if (at != 0 && labels[at - 1] != ',' && labels[at - 1] != ' ' && labels[at - 1] != '{') {
      continue;
    }
    const size_t begin = at + key.size();
    const size_t end = labels.find('"', begin);
    if (end == absl::string_view::npos) return "";
    return std::string(labels.substr(begin, end - begin));
  }
  return "";
}

template <typename T>
void Store(std::map<std::string, T>& into, const std::string& gpu, double value) {
  into[gpu] = static_cast<T>(value);
}

template <typename T>
std::map<std::string, T> MeanPerGpu(std::span<const GpuMetrics> scrapes,
                                    std::map<std::string, T> GpuMetrics::*field) {
  std::map<std::string, std::pair<double, int>> sums;
  for (const GpuMetrics& scrape : scrapes) {
    for (const auto& [gpu, value] : scrape.*field) {
      sums[gpu].first += static_cast<double>(value);
      ++sums[gpu].second;
    }
  }
  std::map<std::string, T> means;
  for (const auto& [gpu, sum] : sums) means[gpu] = static_cast<T>(sum.first / sum.second);
  return means;
}

}  // namespace

GpuMetrics ParseGpuMetrics(absl::string_view exposition) {
  GpuMetrics metrics;
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    const size_t name_end = line.find_first_of("{ ");
    if (name_end == absl::string_view::npos) continue;
    const absl::string_view name = line.substr(0, name_end);
    absl::string_view labels;
    absl::string_view rest = line.substr(name_end);
    if (rest.front() == '{') {
      const size_t close = rest.rfind('}');
      if (close == absl::string_view::npos) continue;
      labels = rest.substr(1, close - 1);
      rest = rest.substr(close + 1);
    }
    std::vector<absl::string_view> fields = absl::StrSplit(rest, ' ', absl::SkipEmpty());
    double value = 0;
    if (fields.empty() || !absl::SimpleAtod(fields[0], &value)) continue;
    const std::string gpu = LabelValue(labels, "gpu_uuid");
    if (gpu.empty()) continue;
    if (name == "nv_gpu_utilization") {
      Store(metrics.utilization, gpu, value);
    } else if (name == "nv_gpu_power_usage") {
      Store(metrics.power_usage, gpu, value);
    } else if (name == "nv_gpu_memory_used_bytes") {
      Store(metrics.memory_used, gpu, value);
    } else if (name == "nv_gpu_memory_total_bytes") {
      Store(metrics.memory_total, gpu, value);
    }
  }
  return metrics;
}

GpuMetrics MergeGpuMetrics(std::span<const GpuMetrics> scrapes) {
  GpuMetrics merged;
  merged.utilization = MeanPerGpu(scrapes, &GpuMetrics::utilization);
  merged.power_usage = MeanPerGpu(scrapes, &GpuMetrics::power_usage);
  for (const GpuMetrics& scrape : scrapes) {
    for (const auto& [gpu, used] : scrape.memory_used) {
      merged.memory_used[gpu] = std::max(merged.memory_used[gpu], used);
    }
    for (const auto& [gpu, total] : scrape.memory_total) merged.memory_total.emplace(gpu, total);
  }
  return merged;
}

absl::StatusOr<MetricsEndpoint> ParseMetricsUrl(const std::string& url) {
  absl::string_view rest = url;
  if (absl::StartsWith(rest, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-url ", url, ": https is not supported"));
  }
  absl::ConsumePrefix(&rest, "http://");
  MetricsEndpoint endpoint;
  const size_t slash = rest.find('/');
  if (slash != absl::string_view::npos) {
    endpoint.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.rfind(':');
  if (colon != absl::string_view::npos) {
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &endpoint.port) || endpoint.port < 1 ||
        endpoint.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("--metrics-url ", url, ": bad port"));
    }
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics-url ", url, ": no host"));
  }
  endpoint.host = std::string(rest);
  return endpoint;
}

absl::StatusOr<std::string> FetchMetricsText(const MetricsEndpoint& endpoint,
                                             absl::Duration timeout) {
  httplib::Client client(endpoint.host, endpoint.port);
  client.set_connection_timeout(absl::ToChronoSeconds(timeout));
  client.set_read_timeout(absl::ToChronoSeconds(timeout));
  httplib::Result result = client.Get(endpoint.path);
  const std::string where = absl::StrCat(endpoint.host, ":", endpoint.port, endpoint.path);
  if (!result) {
    return absl::UnavailableError(absl::StrCat("metrics at ", where, ": ",
                                               httplib::to_string(result.error())));
  }
  if (result->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("metrics at ", where, ": HTTP status ", result->status));
  }
  return std::move(result->body);
}

absl::StatusOr<std::unique_ptr<MetricsScraper>> MetricsScraper::Start(
    const MetricsOptions& options) {
  absl::StatusOr<MetricsEndpoint> endpoint = ParseMetricsUrl(options.url);
  if (!endpoint.ok()) return endpoint.status();
  if (options.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--metrics-interval must be positive");
  }
  std::unique_ptr<MetricsScraper> scraper(new MetricsScraper(*endpoint, options.interval));
  scraper->ScrapeOnce();
  {
    absl::MutexLock lock(&scraper->mu_);
    if (!scraper->error_.ok()) return scraper->error_;
  }
  scraper->thread_ = std::thread([self = scraper.get()] { self->Loop(); });
  return scraper;
}

MetricsScraper::MetricsScraper(MetricsEndpoint endpoint, absl::Duration interval)
    : endpoint_(std::move(endpoint)), interval_(interval) {}

MetricsScraper::~MetricsScraper() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void MetricsScraper::ScrapeOnce() {
  absl::StatusOr<std::string> text = FetchMetricsText(endpoint_, absl::Seconds(5));
  absl::MutexLock lock(&mu_);
  if (!text.ok()) {
    if (error_.ok()) error_ = text.status();
    return;
  }
  scrapes_.push_back(ParseGpuMetrics(*text));
}

void MetricsScraper::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
    }
    ScrapeOnce();
  }
}

absl::StatusOr<std::vector<GpuMetrics>> MetricsScraper::Take() {
  absl::MutexLock lock(&mu_);
  if (!error_.ok()) return error_;
  std::vector<GpuMetrics> taken;
  taken.swap(scrapes_);
  return taken;
}

}  // namespace sonic::tools
