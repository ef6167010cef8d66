#include "request_schedule.h"

namespace sonic::tools {

RequestSchedule::RequestSchedule(double rate, RequestDistribution distribution, uint64_t seed)
    : rate_(rate), distribution_(distribution), rng_(seed) {}

absl::Duration RequestSchedule::Next() {
  const absl::Duration next = absl::Seconds(seconds_);
  seconds_ += distribution_ == RequestDistribution::kConstant
                  ? 1.0 / rate_
                  : std::exponential_distribution<double>(rate_)(rng_);
  return next;
}

}  // namespace sonic::tools
