#include "saturation.h"

#include <algorithm>

namespace sonic::tools {

Saturation FindSaturation(const std::vector<ScanPoint>& points, double drop) {
  Saturation saturation;
  if (points.empty()) return saturation;
  const double baseline = points.front().per_job_throughput;
  double best_total = 0;
  saturation.sustained_jobs = points.front().jobs;
  for (size_t i = 0; i < points.size(); ++i) {
    const ScanPoint& point = points[i];
    const bool jobs_slowed = point.per_job_throughput < (1.0 - drop) * baseline;
    const bool total_flat = i > 0 && point.total_throughput < (1.0 + drop) * best_total;
    if (jobs_slowed && total_flat && !saturation.saturated) {
      saturation.saturated = true;
      saturation.saturated_at = point.jobs;
    }
    if (!saturation.saturated) saturation.sustained_jobs = point.jobs;
    best_total = std::max(best_total, point.total_throughput);
  }
  saturation.peak_throughput = best_total;
  return saturation;
}

}  // namespace sonic::tools
