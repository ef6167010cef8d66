// Host CPU utilization and memory from /proc, as the gauges nv_cpu_utilization (0..1, busy time
// over all CPUs between two scrapes), nv_cpu_memory_total_bytes and nv_cpu_memory_used_bytes
// (MemTotal - MemAvailable). The parsing is in pure functions over the files' text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/metrics/metrics_source.h"

namespace sonic::server::metrics {

// Cumulative CPU time over all CPUs, in clock ticks, from the "cpu" line of /proc/stat.
struct CpuTimes {
  uint64_t busy = 0;   // every state but idle and iowait (guest time is already in user/nice)
  uint64_t total = 0;  // busy + idle + iowait
};

// Parses the aggregate "cpu" line of /proc/stat. INVALID_ARGUMENT when there is none or it has
// fewer than the four fields every kernel writes (user nice system idle).
absl::StatusOr<CpuTimes> ParseProcStat(std::string_view text);

// The busy fraction of the ticks between two samples, in [0, 1]; 0 when no tick elapsed (or the
// counters went backwards).
double CpuUtilization(const CpuTimes& previous, const CpuTimes& current);

struct MemoryUsage {
  uint64_t total_bytes = 0;
  uint64_t used_bytes = 0;  // total - available, never above total
};

// Parses MemTotal and MemAvailable (kB) from /proc/meminfo. INVALID_ARGUMENT when either is
// missing or malformed.
absl::StatusOr<MemoryUsage> ParseProcMeminfo(std::string_view text);

// Reads <proc_dir>/stat and <proc_dir>/meminfo at each Collect. The utilization is over the time
// since the previous Collect that saw ticks elapse (the first one: since construction).
//
// Thread-safe.
class HostMetricsSource : public MetricsSource {
 public:
  explicit HostMetricsSource(std::filesystem::path proc_dir = "/proc");

  void Collect(std::vector<MetricFamily>& families) override;

 private:
  absl::StatusOr<CpuTimes> ReadCpuTimes() const;
  // The utilization since the last sample that saw ticks elapse; keeps `current` as the next
  // baseline only when ticks elapsed, so rapid scrapes do not report 0.
  double UpdateUtilization(const CpuTimes& current);

  const std::filesystem::path proc_dir_;
  absl::Mutex mutex_;
  bool have_previous_ ABSL_GUARDED_BY(mutex_) = false;
  CpuTimes previous_ ABSL_GUARDED_BY(mutex_);
  double utilization_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace sonic::server::metrics
