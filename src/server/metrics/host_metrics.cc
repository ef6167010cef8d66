#include "server/metrics/host_metrics.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic::server::metrics {
namespace {

// /proc/stat "cpu" fields: user nice system idle iowait irq softirq steal guest guest_nice.
constexpr size_t kIdleField = 3;
constexpr size_t kIowaitField = 4;
constexpr size_t kCountedFields = 8;  // guest and guest_nice are already in user and nice

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) return absl::UnavailableError(absl::StrCat("cannot open ", path.string()));
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// The whitespace-separated fields of each line of `text`.
std::vector<std::vector<std::string>> SplitLines(std::string_view text) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string>& fields = lines.emplace_back();
    for (std::string word; words >> word;) fields.push_back(std::move(word));
  }
  return lines;
}

// The value in kB of a "Name:   123 kB" line of /proc/meminfo.
absl::StatusOr<uint64_t> MeminfoKb(std::string_view text, std::string_view name) {
  const std::string key = std::string(name) + ":";
  for (const std::vector<std::string>& fields : SplitLines(text)) {
    if (fields.size() < 2 || fields[0] != key) continue;
    uint64_t kb = 0;
    if (!absl::SimpleAtoi(fields[1], &kb)) break;
    return kb;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("/proc/meminfo has no valid ", std::string(name), " line"));
}

MetricFamily Gauge(std::string name, std::string help, double value) {
  return MetricFamily{std::move(name), std::move(help), MetricType::kGauge, {{{}, value}}};
}

}  // namespace

absl::StatusOr<CpuTimes> ParseProcStat(std::string_view text) {
  for (const std::vector<std::string>& fields : SplitLines(text)) {
    if (fields.empty() || fields[0] != "cpu") continue;
    if (fields.size() < 1 + kIowaitField) break;
    CpuTimes times;
    for (size_t i = 0; i < kCountedFields && i + 1 < fields.size(); ++i) {
      uint64_t ticks = 0;
      if (!absl::SimpleAtoi(fields[i + 1], &ticks)) {
        return absl::InvalidArgumentError(
            absl::StrCat("/proc/stat: bad cpu field '", fields[i + 1], "'"));
      }
      times.total += ticks;
      if (i != kIdleField && i != kIowaitField) times.busy += ticks;
    }
    return times;
  }
  return absl::InvalidArgumentError("/proc/stat has no valid aggregate 'cpu' line");
}

double CpuUtilization(const CpuTimes& previous, const CpuTimes& current) {
  if (current.total <= previous.total || current.busy < previous.busy) return 0;
  double busy = static_cast<double>(current.busy - previous.busy);
  double total = static_cast<double>(current.total - previous.total);
  return std::min(1.0, busy / total);
}

absl::StatusOr<MemoryUsage> ParseProcMeminfo(std::string_view text) {
  SONIC_ASSIGN_OR_RETURN(uint64_t total_kb, MeminfoKb(text, "MemTotal"));
  SONIC_ASSIGN_OR_RETURN(uint64_t available_kb, MeminfoKb(text, "MemAvailable"));
  uint64_t used_kb = available_kb >= total_kb ? 0 : total_kb - available_kb;
  return MemoryUsage{total_kb * 1024, used_kb * 1024};
}

HostMetricsSource::HostMetricsSource(std::filesystem::path proc_dir)
    : proc_dir_(std::move(proc_dir)) {
  if (absl::StatusOr<CpuTimes> times = ReadCpuTimes(); times.ok()) {
    absl::MutexLock lock(&mutex_);
    previous_ = *times;
    have_previous_ = true;
  }
}

absl::StatusOr<CpuTimes> HostMetricsSource::ReadCpuTimes() const {
  SONIC_ASSIGN_OR_RETURN(std::string text, ReadFile(proc_dir_ / "stat"));
  return ParseProcStat(text);
}

double HostMetricsSource::UpdateUtilization(const CpuTimes& current) {
  absl::MutexLock lock(&mutex_);
  if (!have_previous_) {
    previous_ = current;
    have_previous_ = true;
  } else if (current.total > previous_.total) {
    utilization_ = CpuUtilization(previous_, current);
    previous_ = current;
  }
  return utilization_;
}

void HostMetricsSource::Collect(std::vector<MetricFamily>& families) {
  MetricFamily utilization{
      "nv_cpu_utilization", "CPU utilization rate [0.0 - 1.0]", MetricType::kGauge, {}};
  if (absl::StatusOr<CpuTimes> times = ReadCpuTimes(); times.ok()) {
    utilization.samples.push_back({{}, UpdateUtilization(*times)});
  }
  families.push_back(std::move(utilization));

  absl::StatusOr<std::string> meminfo = ReadFile(proc_dir_ / "meminfo");
  absl::StatusOr<MemoryUsage> memory =
      meminfo.ok() ? ParseProcMeminfo(*meminfo) : absl::StatusOr<MemoryUsage>(meminfo.status());
  if (memory.ok()) {
    families.push_back(Gauge("nv_cpu_memory_total_bytes", "CPU total memory (RAM), in bytes",
                             static_cast<double>(memory->total_bytes)));
    families.push_back(Gauge("nv_cpu_memory_used_bytes", "CPU used memory (RAM), in bytes",
                             static_cast<double>(memory->used_bytes)));
  } else {
    families.push_back(
        {"nv_cpu_memory_total_bytes", "CPU total memory (RAM), in bytes", MetricType::kGauge, {}});
    families.push_back(
        {"nv_cpu_memory_used_bytes", "CPU used memory (RAM), in bytes", MetricType::kGauge, {}});
  }
}

}  // namespace sonic::server::metrics
